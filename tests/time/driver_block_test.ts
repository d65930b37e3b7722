// The precise profile's blocking near deadlines, on a fake clock and a fake
// host whose block() moves the clock by the time asked (no real time).
import { assert, assertAlmostEquals, assertEquals } from "@std/assert";
import { Driver } from "../../src/time/driver.ts";
import type { DriverHost, Waker } from "../../src/time/driver_host.ts";
import { precisionTuning } from "../../src/time/precision.ts";
import { FakeClock, FakeWaker } from "./_fake_driver.ts";

/** A host whose block() records the wait and moves the clock by it, as Atomics.wait would. */
class BlockingHost implements DriverHost {
  waker: FakeWaker | undefined;
  blocks: number[] = [];
  timers: number[] = [];
  constructor(readonly clock: FakeClock) {}
  setTimeout(_callback: () => void, delayMs: number): number {
    this.timers.push(delayMs);
    return this.timers.length;
  }
  clearTimeout(): void {}
  createWaker(onWake: () => void): Waker {
    this.waker = new FakeWaker(onWake);
    return this.waker;
  }
  block(ms: number): void {
    this.blocks.push(ms);
    if (ms > 0) this.clock.t += ms;
  }
}

const tuning = precisionTuning("precise");

Deno.test("precise hands over blockMs early, then blocks to the block's lead and spins, never early", () => {
  const clock = new FakeClock();
  const host = new BlockingHost(clock);
  using driver = new Driver({ clock, host, profile: "precise" });
  const fired: number[] = [];
  driver.after(10, (deadline) => void fired.push(clock.t - deadline));
  assertEquals(host.waker!.requests, [10 - tuning.blockMs]);

  clock.t = 10 - tuning.blockMs + 0.3; // the hop took 0.3 ms
  clock.step = 0.001;
  host.waker!.wake();
  assertEquals(host.blocks.length, 1);
  assertAlmostEquals(host.blocks[0]!, tuning.blockMs - 0.3 - tuning.blockLeadMs, 0.01);
  assertEquals(fired.length, 1);
  assert(fired[0]! >= 0 && fired[0]! < 0.01, `lateness ${fired[0]}`);
  const wakes = driver.stats().wakes;
  assertEquals(wakes.block, 1);
  assertAlmostEquals(wakes.blockMs, host.blocks[0]!, 0.01);
  assert(wakes.spinMs > 0 && wakes.spinMs <= tuning.blockLeadMs + 0.01, `spin ${wakes.spinMs}`);
});

Deno.test("precise fires at once when a block overran the deadline: no spin, one fire", () => {
  const clock = new FakeClock();
  const host = new BlockingHost(clock);
  host.block = function (ms: number): void {
    this.blocks.push(ms);
    this.clock.t += ms + tuning.blockLeadMs + 0.4; // woke 0.4 ms after the deadline
  };
  using driver = new Driver({ clock, host, profile: "precise" });
  const fired: number[] = [];
  driver.after(10, (deadline) => void fired.push(clock.t - deadline));
  clock.t = 10 - tuning.blockMs + 0.3;
  clock.step = 0.001;
  host.waker!.wake();
  assertEquals(host.blocks.length, 1);
  assertEquals(fired.length, 1);
  assertAlmostEquals(fired[0]!, 0.4, 0.01);
  const wakes = driver.stats().wakes;
  assertEquals(wakes.block, 1);
  assertEquals(wakes.spinMs, 0);
  assertEquals(driver.lateness("oneshot").count, 1);
});

Deno.test("precise lets the event loop run after callbacks before it blocks again", () => {
  const clock = new FakeClock();
  const host = new BlockingHost(clock);
  using driver = new Driver({ clock, host, profile: "precise" });
  let ticks = 0;
  driver.every(1, () => void ticks++, { firstAtMs: 10 });
  for (let k = 0; k < 5; k++) {
    const waker = host.waker!;
    const blocksBefore = host.blocks.length;
    const requestsBefore = waker.requests.length;
    clock.step = 0;
    clock.t = Math.max(clock.t, waker.requests.at(-1)!) + 0.02; // hand-overs take 20 µs
    clock.step = 0.001;
    waker.wake();
    assertEquals(host.blocks.length, blocksBefore + 1, "one block per tick, after the hand-over");
    assertEquals(ticks, k + 1);
    // The run that fired handed over for the next tick instead of blocking.
    assertEquals(waker.requests.length, requestsBefore + 1);
  }
  assertEquals(driver.stats().wakes.block, 5);
});

Deno.test("precise fires ahead of the deadline: the timer holds until it, the callback is the next step", () => {
  // The fake clock moves 1 µs after each read: a callback that finds it
  // less than 3 µs past its deadline ran with one read (its lateness's)
  // between the wait's last (the one that saw the deadline pass) and it;
  // before, the wheel's work came in between.
  const clock = new FakeClock();
  const host = new BlockingHost(clock);
  using driver = new Driver({ clock, host, profile: "precise" });
  const late: number[] = [];
  const timer = driver.every(1, (deadline) => void late.push(clock.t - deadline), {
    firstAtMs: 10,
  });
  for (let k = 0; k < 5; k++) {
    clock.step = 0;
    clock.t = Math.max(clock.t, host.waker!.requests.at(-1)!) + 0.02;
    clock.step = 0.001;
    host.waker!.wake();
  }
  assertEquals([late.length, timer.fires, driver.stats().wakes.block], [5, 5, 5]);
  for (const ms of late) assert(ms >= 0 && ms < 3 * clock.step, `lateness ${late} ms`);
  assertEquals(driver.stats().wheel.fired, 5);
  assertEquals([driver.pending, driver.lateness("periodic").count], [1, 5]);
});

Deno.test("precise blocks only as close to a deadline as its hand-overs need, up to blockMs", () => {
  const clock = new FakeClock();
  const host = new BlockingHost(clock);
  using driver = new Driver({ clock, host, profile: "precise" });
  driver.every(10, () => {}, { firstAtMs: 10 });
  const tick = (handOverMs: number) => {
    const waker = host.waker!;
    clock.step = 0;
    clock.t = Math.max(clock.t, waker.requests.at(-1)!) + handOverMs;
    clock.step = 0.001;
    waker.wake();
  };
  const aheadOfDeadline = () => {
    const deadline = Math.ceil(host.waker!.requests.at(-1)! / 10) * 10;
    return deadline - host.waker!.requests.at(-1)!;
  };
  // Before any hand-over is measured: blockMs ahead.
  assertAlmostEquals(aheadOfDeadline(), tuning.blockMs, 1e-9);
  // Fast hand-overs (0.1 ms): the window shrinks to them, the event loop is free the rest.
  for (let k = 0; k < 3; k++) tick(0.1);
  assertAlmostEquals(aheadOfDeadline(), tuning.blockLeadMs + 0.1 + 0.03, 0.005);
  // One slow hand-over (1 ms) widens it at once; a slower one is capped at blockMs.
  tick(1);
  assertAlmostEquals(aheadOfDeadline(), tuning.blockLeadMs + 1 + 0.03, 0.005);
  tick(5);
  assertAlmostEquals(aheadOfDeadline(), tuning.blockMs, 1e-9);
});

Deno.test("precise does not block inside the call that schedules a near timer", () => {
  const clock = new FakeClock();
  const host = new BlockingHost(clock);
  using driver = new Driver({ clock, host, profile: "precise" });
  clock.t = 100;
  driver.after(1.5, () => {});
  assertEquals(host.blocks, [], "scheduling never blocks the caller");
  assertEquals(host.waker!.requests.length, 1, "the waker gives the event loop its turn first");
});

Deno.test("precise on a host without block() keeps the waker's lead and spins, as before", () => {
  const clock = new FakeClock();
  const host = new BlockingHost(clock);
  const noBlock: DriverHost = {
    setTimeout: host.setTimeout.bind(host),
    clearTimeout: host.clearTimeout.bind(host),
    createWaker: host.createWaker.bind(host),
  };
  using driver = new Driver({ clock, host: noBlock, profile: "precise" });
  driver.after(10, () => {});
  assertEquals(host.waker!.requests, [10 - tuning.nearLeadMs]);
  assertEquals(driver.stats().wakes.block, 0);
});

Deno.test("balanced never blocks, even on a host that can", () => {
  const clock = new FakeClock();
  const host = new BlockingHost(clock);
  using driver = new Driver({ clock, host, profile: "balanced" });
  const fired: number[] = [];
  driver.after(1.5, (deadline) => void fired.push(deadline));
  const waker = host.waker!;
  clock.t = waker.requests[0]! + 0.05;
  clock.step = 0.001;
  waker.wake();
  assertEquals(fired, [1.5]);
  assertEquals(host.blocks, []);
});

Deno.test("precise learns its block's oversleep and asks that much less: the spin keeps blockLeadMs", () => {
  const clock = new FakeClock();
  const host = new BlockingHost(clock);
  const oversleepMs = 0.2;
  // Every block returns 0.2 ms after the time asked, as a futex wait after a long sleep does.
  host.block = function (ms: number): void {
    this.blocks.push(ms);
    this.clock.t += ms + oversleepMs;
  };
  using driver = new Driver({ clock, host, profile: "precise" });
  const late: number[] = [];
  driver.every(10, (deadline) => void late.push(clock.t - deadline), { firstAtMs: 10 });
  const spinBefore: number[] = [];
  for (let k = 0; k < 60; k++) {
    clock.step = 0;
    clock.t = Math.max(clock.t, host.waker!.requests.at(-1)!) + 0.1;
    clock.step = 0.001;
    const spinMs = driver.stats().wakes.spinMs;
    host.waker!.wake();
    spinBefore.push(driver.stats().wakes.spinMs - spinMs);
  }
  assertEquals(late.length, 60);
  for (const ms of late) assert(ms >= 0, `lateness ${ms} ms`);
  // The first block overslept into the spin's margin; the last ones did not.
  assert(spinBefore[0]! < tuning.blockLeadMs - 0.15, `first spin ${spinBefore[0]} ms`);
  assertAlmostEquals(spinBefore.at(-1)!, tuning.blockLeadMs, 0.005);
  // Every tick blocked: the hand-over is aimed early by the oversleep too.
  assertEquals(host.blocks.length, 60);
});
