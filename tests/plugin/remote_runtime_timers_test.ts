// The plugin side of a worker or process plugin keeps time without the
// global timers: on Deno 2.9.6 the first `setTimeout` or `setInterval` of a
// thread loads the Node-compatible timers module (milliseconds, on every
// worker start and hot reload), so the runtime's heartbeat, its outbox's
// flush timer, its task loop and its checkpoints run on `WaitTimer`
// (`src/time/_wait_timer.ts`). Here the global timers throw: the runtime
// must still beat, flush its held ops and release its periodic task.
import { assert, assertEquals } from "@std/assert";
import { definePlugin } from "../../src/plugin/author.ts";
import { B_BEAT } from "../../src/plugin/_remote_protocol.ts";
import { recordedRuntime } from "./_setup.ts";
import { waitMs } from "../../src/time/_wait_timer.ts";
import { noGlobalTimers } from "../_util/timers.ts";
import { holdEventLoop } from "../../src/data/_hold_event_loop.ts";

/** Waits (in short sleeps, up to 10 s) until `done()`; says what was awaited if it never is. */
async function until(what: string, done: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !done(); i++) await waitMs(5);
  assert(done(), `never saw ${what}`);
}

const plugin = definePlugin({
  stateVersion: 1,
  async init(ctx) {
    // A long hook yields at a checkpoint (an event-loop turn) once it has run a slice.
    const t0 = performance.now();
    while (performance.now() - t0 < 20) { /* busy */ }
    await ctx.checkpoint();
    ctx.subscribe<number>("in", (n) => {
      ctx.publish("out", n);
    });
    let ticks = 0;
    ctx.every({ name: "tick", periodMs: 2, run: () => ctx.publish("tick", ++ticks) });
  },
});

Deno.test("RemoteRuntime beats, flushes and releases its tasks with the global timers unusable", async () => {
  using _alive = holdEventLoop();
  using _timers = noGlobalTimers();
  const { runtime, ops, block } = recordedRuntime({ default: plugin }, {
    name: "timers",
    heartbeatMs: 2,
    flushMs: 2,
  });
  const beats = new Int32Array(block);
  const beat0 = Atomics.load(beats, B_BEAT);
  const replies = () => ops().filter((op) => op[0] === "r");
  runtime.receive({ t: "call", id: 1, hook: "load" });
  runtime.receive({ t: "call", id: 2, hook: "init" });
  await until("the replies to load and init", () => replies().length === 2);
  const subscribe = ops().find((op) => op[0] === "s" && op[2] === "in") as
    | ["s", number, string]
    | undefined;
  assert(subscribe !== undefined, "the plugin's subscription");
  runtime.receive({ t: "call", id: 3, hook: "start" });
  await until("the reply to start", () => replies().length === 3);
  // From here no reply flushes the outbox: the event's acknowledgement (and
  // the task's publishes) go out when the flush timer fires.
  runtime.receive({ t: "ev", batch: [[subscribe[1], 7]] });
  await until("the event's acknowledgement", () => ops().some((op) => op[0] === "ea"));
  assert(ops().some((op) => op[0] === "p" && op[1] === "out" && op[2] === 7));
  await until(
    "three ticks of the periodic task",
    () => ops().filter((op) => op[0] === "p" && op[1] === "tick").length >= 3,
  );
  const ticks = ops().filter((op) => op[0] === "p" && op[1] === "tick").map((op) => op[2]);
  assertEquals(ticks.slice(0, 3), [1, 2, 3]);
  await until("heartbeats", () => Atomics.load(beats, B_BEAT) >= beat0 + 2);
  runtime.receive({ t: "call", id: 4, hook: "shutdown" });
  await until("the reply to shutdown", () => replies().length === 4);
  assert(replies().every((op) => op[2] === true), JSON.stringify(replies()));
});

Deno.test("RemoteRuntime of a process plugin sends heartbeat batches with the global timers unusable", async () => {
  using _alive = holdEventLoop();
  using _timers = noGlobalTimers();
  const { ops } = recordedRuntime({ default: plugin }, {
    name: "process-beat",
    isolation: "process",
    block: undefined,
    heartbeatMs: 2,
  });
  // A process host has no shared block: each heartbeat is a batch carrying the counters.
  await until("three heartbeat batches", () => ops().filter((op) => op[0] === "h").length >= 3);
});
