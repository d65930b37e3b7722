import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import type { Clock } from "../../src/time/clock.ts";
import { ClosedError } from "../../src/errors.ts";
import { Driver } from "../../src/time/driver.ts";
import type { DriverHost, Waker } from "../../src/time/driver_host.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { precisionTuning } from "../../src/time/precision.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { recordingLogger } from "../_util/logger.ts";
import { FakeClock, FakeWaker } from "./_fake_driver.ts";

class FakeHost implements DriverHost {
  timers = new Map<number, { callback: () => void; delayMs: number }>();
  delays: number[] = [];
  cleared = 0;
  waker: FakeWaker | undefined;
  #nextId = 1;
  constructor(readonly withWaker = true) {}
  setTimeout(callback: () => void, delayMs: number): number {
    const id = this.#nextId++;
    this.timers.set(id, { callback, delayMs });
    this.delays.push(delayMs);
    return id;
  }
  clearTimeout(id: number): void {
    if (this.timers.delete(id)) this.cleared++;
  }
  createWaker(onWake: () => void): Waker | undefined {
    if (!this.withWaker) return undefined;
    this.waker = new FakeWaker(onWake);
    return this.waker;
  }
  /** Fires the only pending timer, as the event loop would. */
  fireTimer(): void {
    assertEquals(this.timers.size, 1, "exactly one setTimeout should be armed");
    const [id, timer] = [...this.timers][0]!;
    this.timers.delete(id);
    timer.callback();
  }
}

Deno.test("Driver re-checks the clock on wake-up and never fires early", () => {
  const clock = new FakeClock();
  const host = new FakeHost(false);
  using driver = new Driver({ clock, host, profile: "efficient" });
  const fired: number[] = [];
  driver.after(10, (deadline) => void fired.push(deadline));
  assertEquals(host.delays, [10]);
  clock.t = 9.3; // setTimeout fired 0.7 ms early, as Deno's can
  host.fireTimer();
  assertEquals(fired, []);
  assertEquals(driver.stats().wakes.early, 1);
  assertEquals(host.delays, [10, 1]);
  clock.t = 10.25;
  host.fireTimer();
  assertEquals(fired, [10]);
  assertEquals(driver.lateness("oneshot").max, 0.25);
  assertEquals(host.timers.size, 0); // idle: nothing keeps the process alive
});

Deno.test("Driver keeps one setTimeout when a timer is scheduled from inside its setTimeout call", () => {
  // Deno loads its timer module on the first setTimeout of a process and runs
  // queued microtasks meanwhile: code in such a microtask can schedule an
  // earlier timer from inside the driver's own setTimeout call.
  const clock = new FakeClock();
  const host = new FakeHost(false);
  using driver = new Driver({ clock, host, profile: "efficient" });
  const fired: string[] = [];
  let reenter = true;
  const setTimeout = host.setTimeout.bind(host);
  host.setTimeout = (callback, delayMs) => {
    if (reenter) {
      reenter = false;
      driver.after(10, () => void fired.push("early"));
    }
    return setTimeout(callback, delayMs);
  };
  driver.after(60_000, () => void fired.push("late"));
  assertEquals(host.timers.size, 1, "the stale setTimeout was cleared, not leaked");
  assertEquals([...host.timers.values()][0]!.delayMs, 10, "the earlier deadline is armed");
  clock.t = 10;
  host.fireTimer();
  assertEquals(fired, ["early"]);
  assertEquals(host.timers.size, 1);
  clock.t = 60_000;
  host.fireTimer();
  assertEquals(fired, ["early", "late"]);
  assertEquals(host.timers.size, 0);
});

Deno.test("Driver hands a deadline from Far to Near to Imminent", () => {
  const clock = new FakeClock();
  const host = new FakeHost();
  const tuning = precisionTuning("balanced");
  using driver = new Driver({ clock, host, profile: "balanced" });
  const fired: number[] = [];
  driver.after(100, (deadline) => void fired.push(deadline));
  assertEquals(host.delays, [Math.floor(100 - tuning.farGuardMs)]);

  clock.t = 86.1; // Far timer fired: 13.9 ms left, within the Near range
  host.fireTimer();
  const waker = host.waker!;
  assertEquals(waker.requests, [100 - tuning.nearLeadMs]);
  assertEquals(driver.stats().wakes.leadMs, tuning.nearLeadMs);
  assertEquals(host.timers.size, 0); // the ready waker alone keeps the wait

  clock.t = waker.requests[0]! + 0.08; // woke 80 µs after its target: spin the rest
  clock.step = 0.01;
  waker.wake();
  assertEquals(fired, [100]);
  const wakes = driver.stats().wakes;
  assertEquals([wakes.far, wakes.near, wakes.imminent], [1, 1, 1]);
  assert(wakes.spinMs > 0);
  assert(driver.lateness("oneshot").max < 0.1);
  assertEquals(waker.closes, 1); // idle again: the waker is released
});

Deno.test("Driver adapts the near lead to the measured wake-up latency", () => {
  const clock = new FakeClock();
  const host = new FakeHost();
  const tuning = precisionTuning("balanced");
  using driver = new Driver({ clock, host, profile: "balanced" });
  assertEquals(driver.stats().wakes.leadMs, tuning.nearLeadMs);
  const period = 10;
  driver.every(period, () => {}, { firstAtMs: period });
  // Every wake-up arrives 0.4 ms after the requested time: the lead grows.
  for (let k = 1; k <= 40; k++) {
    const waker = host.waker!;
    const target = waker.requests.at(-1)!;
    clock.t = target + 0.4;
    clock.step = 0.001;
    waker.wake();
    clock.step = 0;
  }
  const grown = driver.stats().wakes.leadMs;
  assert(grown > 0.4 && grown <= tuning.nearLeadMaxMs, `lead ${grown}`);
  // Then they arrive 0.02 ms late: the lead shrinks to its floor.
  for (let k = 0; k < 80; k++) {
    const waker = host.waker!;
    clock.t = waker.requests.at(-1)! + 0.02;
    clock.step = 0.001;
    waker.wake();
    clock.step = 0;
  }
  assertEquals(driver.stats().wakes.leadMs, tuning.nearLeadMinMs);
  // Once the lead covers the latency, ticks land on time (spin granularity).
  const lateness = driver.lateness("periodic");
  assert(lateness.count >= 110 && lateness.count <= 120, `count ${lateness.count}`);
  assert(lateness.p50 < 0.01, `p50 ${lateness.p50}`);
});

Deno.test("Driver spins out the lead a wake-up was aimed with when that wake-up shrinks the lead", () => {
  const clock = new FakeClock();
  const host = new FakeHost();
  const tuning = precisionTuning("precise");
  using driver = new Driver({ clock, host, profile: "precise" });
  const period = 10;
  const lateness: number[] = [];
  driver.every(period, (deadline) => void lateness.push(clock.t - deadline), {
    firstAtMs: period,
  });
  const wakeLate = (late: number) => {
    const waker = host.waker!;
    clock.t = waker.requests.at(-1)! + late;
    clock.step = 0.001;
    waker.wake();
    clock.step = 0;
  };
  wakeLate(0.6); // one slow wake-up: the lead grows to cover it
  const aimed = driver.stats().wakes.leadMs;
  assert(Math.abs(aimed - 0.63) < 1e-9, `lead ${aimed}`);
  // Samples 2..50 are fast, but the slow one still sets the 0.98 quantile.
  for (let k = 0; k < 49; k++) wakeLate(0.02);
  assertEquals(driver.stats().wakes.leadMs, aimed);
  const requests = host.waker!.requests.length;
  // The 51st sample pushes the slow one out of the quantile: the lead drops
  // to its floor while this wake-up, aimed 0.63 ms ahead, is 0.61 ms early.
  wakeLate(0.02);
  assertEquals(driver.stats().wakes.leadMs, tuning.nearLeadMinMs);
  // It spins to its deadline instead of asking the waker again (a second hop).
  assertEquals(lateness.length, 51);
  assertEquals(host.waker!.requests.length, requests + 1); // the next tick's request only
  assertEquals(driver.stats().wakes.early, 0);
  assert(lateness.at(-1)! < 0.01, `late ${lateness.at(-1)}`);
  // The next wake-up is aimed with the shrunk lead and spins only that.
  assertEquals(host.waker!.requests.at(-1), 52 * period - tuning.nearLeadMinMs);
});

Deno.test("Driver keeps a setTimeout fallback while the waker is starting", () => {
  const clock = new FakeClock();
  const host = new FakeHost();
  using driver = new Driver({ clock, host, profile: "precise" });
  driver.after(5, () => {});
  host.waker!.ready = false;
  driver.after(4, () => {}); // re-arms while the waker is not ready
  assertEquals(host.waker!.requests.length, 2);
  assertEquals(host.timers.size, 1);
  assertEquals([...host.timers.values()][0]!.delayMs, Math.floor(4 - 1.5));
});

Deno.test("Driver re-arms for an earlier deadline and releases everything when idle", () => {
  const clock = new FakeClock();
  const host = new FakeHost();
  using driver = new Driver({ clock, host, profile: "balanced" });
  const late = driver.after(1000, () => {});
  assertEquals(host.delays, [985]);
  const soon = driver.after(100, () => {});
  assertEquals(host.cleared, 1);
  assertEquals(host.delays, [985, 85]);
  driver.after(2000, () => {}).cancel(); // later: no re-arm
  assertEquals(host.delays.length, 2);
  soon.cancel();
  late.cancel();
  assertEquals(host.timers.size, 0);
  assertEquals(driver.pending, 0);
});

Deno.test("Driver fires a deadline that is already due from a microtask, not synchronously", async () => {
  const clock = new FakeClock();
  const host = new FakeHost();
  using driver = new Driver({ clock, host });
  let fired = 0;
  driver.after(0, () => fired++);
  assertEquals(fired, 0);
  await Promise.resolve();
  assertEquals(fired, 1);
});

Deno.test("Driver timers on a VirtualClock: after, at, every, cancel and dispose", async (t) => {
  await t.step("after and at", () => {
    const clock = new VirtualClock(1000);
    using driver = new Driver({ clock });
    const seen: string[] = [];
    driver.after(2.5, (d) => void seen.push(`after@${d}`));
    driver.at(1001, (d) => void seen.push(`at@${d}`));
    driver.at(500, (d) => void seen.push(`past@${d}@${clock.now()}`));
    clock.advance(0); // a past deadline fires on the next advance
    clock.advance(10);
    assertEquals(seen, ["past@500@1000", "at@1001", "after@1002.5"]);
    assertEquals(driver.lateness("oneshot").count, 3);
    assertEquals(driver.lateness("oneshot").max, 500);
  });

  await t.step("every with a first delay, and the Timer handle", () => {
    const clock = new VirtualClock();
    using driver = new Driver({ clock });
    const seen: number[] = [];
    const timer = driver.every(10, (d) => void seen.push(d), { delayMs: 3, latenessClass: "loop" });
    assertEquals([timer.periodMs, timer.latenessClass, timer.active, timer.deadline], [
      10,
      "loop",
      true,
      3,
    ]);
    clock.advance(30);
    assertEquals(seen, [3, 13, 23]);
    assertEquals(timer.fires, 3);
    assertEquals(timer.deadline, 33);
    assertEquals(timer.cancel(), true);
    assertEquals(timer.cancel(), false);
    assertEquals([timer.active, timer.deadline], [false, NaN]);
    assertEquals(driver.latenessClasses(), ["loop"]);
    assertEquals(driver.lateness("loop").count, 3);
    assertEquals(driver.lateness("unknown").count, 0);
  });

  await t.step("every with firstAtMs aligns to an absolute phase", () => {
    const clock = new VirtualClock(7);
    using driver = new Driver({ clock });
    const seen: number[] = [];
    driver.every(5, (d) => void seen.push(d), { firstAtMs: 10 });
    clock.advance(14);
    assertEquals(seen, [10, 15, 20]);
  });

  await t.step("a `using` declaration cancels the timer at the end of its scope", () => {
    const clock = new VirtualClock();
    using driver = new Driver({ clock });
    let count = 0;
    {
      using _timer = driver.every(1, () => count++);
      clock.advance(3);
    }
    clock.advance(10);
    assertEquals(count, 3);
    assertEquals(driver.pending, 0);
  });

  await t.step("whenIdle() resolves when the last timer is done", async () => {
    const clock = new VirtualClock();
    using driver = new Driver({ clock });
    await driver.whenIdle();
    driver.after(5, () => {});
    let idle = false;
    const done = driver.whenIdle().then(() => idle = true);
    clock.advance(4);
    await Promise.resolve();
    assertEquals(idle, false);
    clock.advance(1); // the last timer fires
    await done;
    assertEquals(idle, true);
  });
});

Deno.test("Driver contains a throwing callback; other timers keep running", () => {
  const clock = new VirtualClock();
  const errors: unknown[] = [];
  using driver = new Driver({ clock, wheel: { onError: (e) => void errors.push(e) } });
  let ok = 0;
  driver.every(1, () => {
    throw new Error("bad task");
  });
  driver.every(1, () => ok++);
  clock.advance(5);
  assertEquals(ok, 5);
  assertEquals(errors.length, 5);
  assertEquals(driver.stats().wheel.callbackErrors, 5);
});

Deno.test("Driver rejects bad input and use after close", () => {
  const clock = new VirtualClock();
  const driver = new Driver({ clock });
  const noop = () => {};
  assertThrows(
    () => driver.after(-1, noop),
    RangeError,
    "Cannot schedule a timer as 'delayMs' must be >= 0: current value is -1",
  );
  assertThrows(() => driver.after(NaN, noop), RangeError, "'delayMs'");
  assertThrows(() => driver.after(Infinity, noop), RangeError, "'delayMs'");
  assertThrows(
    () => driver.every(0, noop),
    RangeError,
    "Cannot schedule a periodic timer as 'periodMs' must be >= 0.001 (MIN_PERIOD_MS): current value is 0",
  );
  assertThrows(() => driver.every(1, noop, { delayMs: -2 }), RangeError, "'delayMs'");
  assertThrows(() => driver.every(1, noop, { firstAtMs: NaN }), RangeError, "'firstAtMs'");
  assertThrows(
    () => driver.every(1, noop, { firstAtMs: 5, delayMs: 1 }),
    TypeError,
    "'firstAtMs' and 'delayMs' exclude each other",
  );
  assertThrows(
    () => driver.every(1, noop, { missedTicks: "never" as "skip" }),
    TypeError,
    "'missedTicks'",
  );
  assertThrows(() => driver.at(1, 42 as unknown as () => void), TypeError, "'callback'");
  assertThrows(() => driver.after(1, noop, { latenessClass: "" }), TypeError, "'latenessClass'");
  assertThrows(() => new Driver({ profile: "fast" as "precise" }), TypeError, "'profile'");
  assertEquals(driver.pending, 0);
  driver.close();
  driver.close();
  const error = assertThrows(() => driver.after(1, noop), ClosedError);
  assertInstanceOf(error, ClosedError);
  assertEquals(error.code, "E_CLOSED");
  assertEquals(error.message, "Cannot schedule a timer as the Driver is closed");
});

Deno.test("Driver runs real timers on time order and releases its waker Worker when idle", async () => {
  for (const profile of ["efficient", "balanced", "precise"] as const) {
    await using driver = new Driver({ profile });
    await driver.warmUp();
    const order: string[] = [];
    let early = 0;
    const { promise, resolve } = Promise.withResolvers<void>();
    const check = (name: string) => (deadline: number) => {
      if (performance.now() < deadline) early++;
      order.push(name);
    };
    const base = performance.now();
    driver.at(base + 6, check("c"));
    driver.at(base + 2, check("a"));
    driver.at(base + 4.5, check("b"));
    let ticks = 0;
    const loop = driver.every(1, (deadline) => {
      if (performance.now() < deadline) early++;
      if (++ticks === 10) resolve();
    });
    await promise;
    loop.cancel();
    await driver.whenIdle();
    assertEquals(order, ["a", "b", "c"], profile);
    assertEquals(early, 0, profile);
    assertEquals(driver.pending, 0, profile);
  }
});

Deno.test("Driver with keepWarm keeps the waker across idle periods until close", () => {
  const clock = new FakeClock();
  const host = new FakeHost();
  const driver = new Driver({ clock, host, keepWarm: true });
  driver.after(5, () => {}).cancel();
  assertEquals(host.waker!.closes, 0);
  driver.after(5, () => {});
  clock.t = 6;
  const waker = host.waker!;
  waker.wake();
  assertEquals(driver.pending, 0);
  assertEquals(waker.closes, 0);
  driver.close();
  assertEquals(waker.closes, 1);
});

Deno.test("Driver reports lateness, fires, skips, errors and pending timers into a MetricsRegistry", () => {
  const clock = new VirtualClock();
  const metrics = new MetricsRegistry();
  using driver = new Driver({ clock, metrics, name: "main", wheel: { onError: () => {} } });
  driver.every(10, () => {}, { latenessClass: "loop", missedTicks: "skip" });
  driver.after(5, () => {
    throw new Error("bad");
  });
  clock.advance(10);
  clock.stall(25); // the tick due at 20 fires 15 ms late; 30 is skipped
  const value = (name: string, labels: Record<string, string>) =>
    metrics.flatten().find((s) =>
      s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
    )?.value;
  assertEquals(value("chronetix_timer_fires_total", { driver: "main", class: "loop" }), 2);
  assertEquals(value("chronetix_timer_fires_total", { driver: "main", class: "oneshot" }), 1);
  assertEquals(
    value("chronetix_timer_lateness_seconds_count", { driver: "main", class: "loop" }),
    2,
  );
  assertEquals(
    value("chronetix_timer_lateness_seconds_sum", { driver: "main", class: "loop" }),
    0.015,
  );
  assertEquals(value("chronetix_timer_lateness_seconds_bucket", { class: "loop", le: "0.01" }), 1);
  assertEquals(value("chronetix_timer_lateness_seconds_bucket", { class: "loop", le: "0.025" }), 2);
  assertEquals(value("chronetix_timer_skipped_ticks_total", { driver: "main" }), 1);
  assertEquals(value("chronetix_timer_callback_errors_total", { driver: "main" }), 1);
  assertEquals(value("chronetix_timer_pending", { driver: "main" }), 1);
  driver.close(); // a final collection keeps scrape-time figures true
  assertEquals(value("chronetix_timer_pending", { driver: "main" }), 0);
  const names = metrics.inventory().map((m) => m.name);
  for (
    const n of [
      "chronetix_driver_wakeups_total",
      "chronetix_driver_spin_seconds_total",
      "chronetix_driver_lead_seconds",
    ]
  ) assert(names.includes(n), n);
});

Deno.test("Driver.at() takes an absolute time and names 'atMs' in its errors", () => {
  const clock = new VirtualClock(100);
  using driver = new Driver({ clock });
  const seen: number[] = [];
  driver.at(104, (deadline) => void seen.push(deadline));
  clock.advance(10);
  assertEquals(seen, [104]);
  assertThrows(
    () => driver.at(NaN, () => {}),
    RangeError,
    "Cannot schedule a timer as 'atMs' must be a finite number: current value is NaN",
  );
});

Deno.test("Driver.close() is idempotent, resolves whenIdle() and rejects later use", async () => {
  const clock = new VirtualClock();
  const driver = new Driver({ clock });
  const timer = driver.every(1, () => {});
  const idle = driver.whenIdle();
  driver.close();
  await idle; // resolves on close although the periodic timer never finished
  assertEquals([driver.pending, timer.active], [0, false]);
  driver.close();
  driver[Symbol.dispose]();
  await driver.whenIdle(); // nothing is pending: resolves at once
  assertThrows(() => driver.every(1, () => {}), ClosedError, "as the Driver is closed");
  assertThrows(() => driver.at(1, () => {}), ClosedError);
  const error = await driver.warmUp().then(() => undefined, (e: unknown) => e);
  assertInstanceOf(error, ClosedError);
  assertEquals(error.message, "Cannot warm up as the Driver is closed");
  clock.advance(5); // detached from the clock: nothing fires
  assertEquals(driver.stats().wheel.fired, 0);
});

Deno.test("Driver logs timer callback errors through its logger, with its name", async (t) => {
  await t.step("at most one line a second of the driver's clock", () => {
    const clock = new VirtualClock();
    const logger = recordingLogger();
    using driver = new Driver({ clock, logger, name: "control" });
    let ok = 0;
    driver.every(1, () => {
      throw new Error("bad task");
    });
    driver.every(1, () => ok++);
    clock.advance(2000);
    assertEquals(ok, 2000);
    assertEquals(driver.stats().wheel.callbackErrors, 2000);
    assertEquals(logger.lines.length, 2); // at 1 ms and at 1001 ms
    assert(logger.lines[0]!.startsWith(`error: Timer callback of "control" threw (timer `));
    assert(logger.lines[0]!.includes("1 callback errors so far): Error: bad task"));
    assert(logger.lines[1]!.includes("1001 callback errors so far): Error: bad task"));
    assert(logger.lines[1]!.endsWith("(999 similar lines not logged)"));
  });

  await t.step("a wheel onError takes the errors instead", () => {
    const clock = new VirtualClock();
    const logger = recordingLogger();
    const errors: unknown[] = [];
    using driver = new Driver({ clock, logger, wheel: { onError: (e) => void errors.push(e) } });
    driver.after(1, () => {
      throw "not an Error";
    });
    clock.advance(1);
    assertEquals(errors, ["not an Error"]);
    assertEquals(logger.lines, []);
  });
});

Deno.test("Driver metrics of two drivers on one registry are told apart by the driver label", () => {
  const clock = new VirtualClock();
  const metrics = new MetricsRegistry();
  using a = new Driver({ clock, metrics, name: "a" });
  using b = new Driver({ clock, metrics, name: "b" });
  a.every(1, () => {});
  b.every(2, () => {});
  b.after(3, () => {});
  clock.advance(10);
  const series = (name: string) =>
    metrics.flatten().filter((s) => s.name === name).map((s) => [s.labels.driver, s.value]);
  assertEquals(series("chronetix_timer_pending"), [["a", 1], ["b", 1]]);
  const fires = metrics.flatten().filter((s) => s.name === "chronetix_timer_fires_total")
    .map((s) => `${s.labels.driver}/${s.labels.class}=${s.value}`);
  assertEquals(fires.sort(), ["a/periodic=10", "b/oneshot=1", "b/periodic=5"]);
  // Lateness is one histogram family; no quantile is precomputed into a gauge.
  const families = metrics.inventory().filter((m) => /^chronetix_(timer|driver)_/.test(m.name));
  const lateness = families.find((m) => m.name === "chronetix_timer_lateness_seconds");
  assertEquals([lateness?.type, lateness?.labels], ["histogram", ["driver", "class"]]);
  for (const family of families) {
    assertEquals(family.labels[0], "driver", family.name);
    assert(!/p\d|quantile|percentile/.test(family.name + family.labels.join()), family.name);
  }
});

// --- issue 10: reliability ---------------------------------------------------

Deno.test("Driver contains and counts a callback that returns a rejected promise, in stats and metrics", async () => {
  const clock = new VirtualClock();
  const metrics = new MetricsRegistry();
  const logger = recordingLogger();
  using driver = new Driver({ clock, metrics, logger, name: "io" });
  let ok = 0;
  driver.every(1, async () => {
    await null;
    throw new Error("async task failed");
  });
  driver.every(1, () => ok++);
  driver.after(2, () => Promise.reject(new TypeError("rejected at once")));
  clock.advance(3);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(ok, 3);
  assertEquals(driver.stats().wheel.callbackErrors, 4);
  assertStringIncludes(
    metrics.exposeText(),
    'chronetix_timer_callback_errors_total{driver="io"} 4\n',
  );
  assertEquals(logger.lines.length, 1); // rate-limited: one line a second
  assert(logger.lines[0]!.startsWith(`error: Timer callback of "io" rejected (timer `));
});

Deno.test("Driver.every() rejects periods below MIN_PERIOD_MS and periods the clock cannot advance by", () => {
  const noop = () => {};
  using driver = new Driver({ clock: new VirtualClock(1e6) });
  for (const periodMs of [1e-12, 1e-15, 0.0005]) {
    assertThrows(
      () => driver.every(periodMs, noop),
      RangeError,
      `Cannot schedule a periodic timer as 'periodMs' must be >= 0.001 (MIN_PERIOD_MS): current value is ${periodMs}`,
    );
  }
  using late = new Driver({ clock: new VirtualClock(3e15) });
  assertThrows(
    () => late.every(0.1, noop),
    RangeError,
    "Cannot schedule a periodic timer as 'periodMs' must be large enough to advance the time",
  );
  assertThrows(() => late.every(1, noop, { delayMs: 1e300 }), RangeError, "'delayMs'");
  assertThrows(() => late.after(1e300, noop), RangeError, "'delayMs'");
  assertThrows(() => late.at(-1e300, noop), RangeError, "'atMs'");
  assertThrows(() => late.every(1, noop, { firstAtMs: 1e300 }), RangeError, "'firstAtMs'");
  assertEquals([driver.pending, late.pending, late.latenessClasses()], [0, 0, []]);
  // The smallest period runs, 1000 fires per virtual millisecond.
  let fires = 0;
  driver.every(0.001, () => void fires++);
  (driver.clock as VirtualClock).advance(1);
  assert(fires >= 999 && fires <= 1001, String(fires));
});

Deno.test("Driver rejects hostile options and arguments with errors naming them, changing nothing", () => {
  const noop = () => {};
  const cases: [() => unknown, ErrorConstructor | TypeErrorConstructor, string][] = [
    [
      () => new Driver(null as unknown as undefined),
      TypeError,
      "Cannot create a Driver as 'options' must be an object: current value is null",
    ],
    [() => new Driver(5 as unknown as undefined), TypeError, "'options'"],
    [
      () => new Driver({ clock: {} as Clock }),
      TypeError,
      "Cannot create a Driver as 'clock' must be a Clock with a now() method: current value is {}",
    ],
    [
      () => new Driver({ clock: { now: () => NaN } }),
      TypeError,
      "Cannot create a Driver as 'clock' must return a finite number from now(): current value is NaN",
    ],
    [() => new Driver({ clock: { now: () => "5" as unknown as number } }), TypeError, "'clock'"],
    [
      () =>
        new Driver({
          clock: {
            now: () => {
              throw new Error("broken clock");
            },
          },
        }),
      TypeError,
      "'clock'",
    ],
    [() => new Driver({ clock: 5 as unknown as Clock }), TypeError, "'clock'"],
    [
      () => new Driver({ metrics: 5 as unknown as MetricsRegistry }),
      TypeError,
      "Cannot create a Driver as 'metrics' must be a MetricsRegistry: current value is 5",
    ],
    [() => new Driver({ name: 5 as unknown as string }), TypeError, "'name'"],
    [() => new Driver({ logger: 5 as unknown as undefined }), TypeError, "'logger'"],
    [
      () => new Driver({ wheel: null as unknown as undefined }),
      TypeError,
      "Cannot create a Driver as 'wheel' must be an object: current value is null",
    ],
    [
      () => new Driver({ host: 5 as unknown as DriverHost }),
      TypeError,
      "Cannot create a Driver as 'host' must be a DriverHost with setTimeout, clearTimeout and createWaker methods (and block, when given, a method): current value is 5",
    ],
    [
      () =>
        new Driver({
          host: {
            setTimeout: () => 1,
            clearTimeout: () => {},
            createWaker: () => undefined,
            block: 1 as unknown as () => void,
          },
        }),
      TypeError,
      "(and block, when given, a method)",
    ],
    [
      () => new Driver({ keepWarm: "yes" as unknown as boolean }),
      TypeError,
      "Cannot create a Driver as 'keepWarm' must be a boolean: current value is \"yes\"",
    ],
    [() => new Driver({ profile: Symbol("p") as unknown as "balanced" }), TypeError, "'profile'"],
    [() => new Driver({ wheel: { tickMs: 10n as unknown as number } }), TypeError, "'tickMs'"],
  ];
  for (const [fn, type, message] of cases) assertThrows(fn, type, message);
  const clock = new VirtualClock();
  using driver = new Driver({ clock });
  const bad: [() => unknown, string][] = [
    [
      () => driver.every(1, noop, null as unknown as undefined),
      "Cannot schedule a periodic timer as 'options' must be an object: current value is null",
    ],
    [
      () => driver.after(1, noop, null as unknown as undefined),
      "Cannot schedule a timer as 'options' must be an object: current value is null",
    ],
    [() => driver.at(1, noop, 5 as unknown as undefined), "'options'"],
    [() => driver.every(Symbol() as unknown as number, noop), "'periodMs'"],
    [() => driver.every(10n as unknown as number, noop), "'periodMs'"],
    [() => driver.after(Symbol() as unknown as number, noop), "'delayMs'"],
    [
      () => driver.every(1, noop, { missedTicks: "never" as "skip", latenessClass: "x" }),
      "'missedTicks'",
    ],
    [() => driver.every(1, noop, { latenessClass: 5 as unknown as string }), "'latenessClass'"],
    [
      () => driver.lateness(5 as unknown as string),
      "Cannot read the lateness of a class as 'latenessClass' must be a string: current value is 5",
    ],
  ];
  for (const [fn, message] of bad) {
    const error = assertThrows(fn);
    assert(error instanceof TypeError || error instanceof RangeError, String(error));
    assertStringIncludes((error as Error).message, message);
  }
  // Nothing was half-registered: no timer, no lateness class.
  assertEquals([driver.pending, driver.latenessClasses()], [0, []]);
});

Deno.test("Driver on a stepped clock whose attach() returns no disposable is rejected", () => {
  const clock = { now: () => 0, attach: () => 5 as unknown as Disposable };
  assertThrows(
    () => new Driver({ clock }),
    TypeError,
    "Cannot create a Driver as 'clock' must return a Disposable from attach(): current value is 5",
  );
});
