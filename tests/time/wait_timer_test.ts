// The plugin runtime's timer on `Atomics.waitAsync`'s timeout: it fires once
// per arming, clearing or arming it again drops the earlier wait, a zero
// delay still waits for an event-loop turn, and it never touches the global
// (Node-compatible) timers. No assertion here depends on how late a timer
// fires.
import { assertEquals } from "@std/assert";
import { waitMs, WaitTimer } from "../../src/time/_wait_timer.ts";
import { noGlobalTimers } from "../_util/timers.ts";
import { holdEventLoop } from "../../src/data/_hold_event_loop.ts";

Deno.test("WaitTimer fires once per set, and not at all once cleared", async () => {
  using _alive = holdEventLoop();
  using _timers = noGlobalTimers();
  const fired: string[] = [];
  const { promise, resolve } = Promise.withResolvers<void>();
  const timer = new WaitTimer(() => {
    fired.push("a");
    resolve();
  });
  assertEquals(timer.pending, false);
  timer.set(1);
  assertEquals(timer.pending, true);
  await promise;
  assertEquals(timer.pending, false);

  const cleared = new WaitTimer(() => fired.push("cleared"));
  cleared.set(1);
  cleared.clear();
  assertEquals(cleared.pending, false);
  cleared.clear(); // twice is harmless
  await waitMs(20); // well past its delay
  assertEquals(fired, ["a"]);
});

Deno.test("WaitTimer: arming again replaces the pending wait", async () => {
  using _alive = holdEventLoop();
  let fired = 0;
  const timer = new WaitTimer(() => fired++);
  timer.set(30);
  timer.set(1); // replaces the 30 ms wait
  await waitMs(60); // past both delays
  assertEquals(fired, 1);
  // A shorter wait replaced by a longer one does not fire at its own time.
  timer.set(1);
  timer.set(60_000);
  await waitMs(20);
  assertEquals(fired, 1);
  timer.clear();
  // And it can be armed again after it fired.
  timer.set(1);
  await waitMs(20);
  assertEquals(fired, 2);
});

Deno.test("WaitTimer: a zero, negative or non-finite delay still waits for a task", async () => {
  using _alive = holdEventLoop();
  for (const delay of [0, -5, Number.NaN, Number.NEGATIVE_INFINITY]) {
    let fired = false;
    const timer = new WaitTimer(() => fired = true);
    timer.set(delay);
    // Microtasks run first: the wait ends in a task of the event loop.
    for (let i = 0; i < 20; i++) await Promise.resolve();
    assertEquals(fired, false, `delay ${delay}`);
    await waitMs(20);
    assertEquals(fired, true, `delay ${delay}`);
  }
});

Deno.test("waitMs resolves after an event-loop turn without the global timers", async () => {
  using _alive = holdEventLoop();
  using _timers = noGlobalTimers();
  let resolved = false;
  const done = waitMs(0).then(() => resolved = true);
  for (let i = 0; i < 20; i++) await Promise.resolve();
  assertEquals(resolved, false);
  assertEquals(await done, true);
});
