// Seeded fuzz of the time layer. First every public constructor and method of
// TimerWheel, Driver, VirtualClock, LatencyHistogram and MonotonicClock gets
// random and hostile values: each call works or throws a clean error naming
// one of its parameters, a rejected call changes nothing, and the object
// still works afterwards. Then random sequences of schedule / cancel /
// advance calls on a Driver over a VirtualClock, valid and invalid mixed, run
// against a reference model (a list sorted by deadline, then insertion):
// the fires match the model in order, nothing fires early, a cancelled timer
// never fires, a call throws exactly when the model says its arguments are
// invalid, and a rejected call changes nothing; callbacks that throw or
// reject are counted.
import { assert, assertEquals } from "@std/assert";
import { check, cleanCall, fc, hostile, maybe } from "./_hostile.ts";
import { Driver } from "../../src/time/driver.ts";
import type { DriverOptions } from "../../src/time/driver_types.ts";
import type { DriverHost } from "../../src/time/driver_host.ts";
import { MonotonicClock } from "../../src/time/clock.ts";
import { LatencyHistogram } from "../../src/time/latency_histogram.ts";
import {
  MAX_BURST_TICKS,
  MIN_PERIOD_MS,
  TimerWheel,
  type TimerWheelOptions,
} from "../../src/time/timer_wheel.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import type { Logger } from "../../src/logger.ts";
import type { Timer } from "../../src/time/timer.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

const SILENT: Logger = { error() {}, warn() {}, info() {} };
const noop = () => {};

const WHEEL_OPTION_NAMES = [
  "options",
  "tickMs",
  "levels",
  "origin",
  "initialCapacity",
  "onError",
  "logger",
  "name",
  "onSchedule",
];
const SCHEDULE_NAMES = ["deadlineMs", "callback", "options", "periodMs", "missedTicks"];
const DRIVER_OPTION_NAMES = [
  "options",
  "clock",
  "profile",
  "name",
  "logger",
  "wheel",
  "host",
  "keepWarm",
  "metrics",
  ...WHEEL_OPTION_NAMES,
];
const TIMER_NAMES = [
  "delayMs",
  "atMs",
  "periodMs",
  "firstAtMs",
  "callback",
  "options",
  "latenessClass",
  "missedTicks",
];

/** Mostly `valid`, sometimes a hostile value. */
function mostly<T>(valid: fc.Arbitrary<T>, validWeight = 6): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: validWeight, arbitrary: valid }, { weight: 1, arbitrary: hostile() });
}

/** `arb`, or the option left out half of the time. */
function opt(arb: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.option(arb, { nil: undefined, freq: 2 });
}

/**
 * A hostile value, but never a pool size that would allocate gigabytes: a
 * wheel pre-allocates `initialCapacity` entries of about 70 bytes, which is
 * the caller's explicit request, not a fault.
 */
function capacity(): fc.Arbitrary<unknown> {
  return opt(mostly(fc.integer({ min: 1, max: 64 })))
    .map((v) => typeof v === "number" && v > 4096 && v <= 2 ** 26 ? 4096 : v);
}

const wheelOptions: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 1, arbitrary: hostile() },
  {
    weight: 8,
    arbitrary: fc.record({
      tickMs: opt(mostly(fc.double({ min: 0.0005, max: 10, noNaN: true }), 12)),
      levels: opt(mostly(fc.integer({ min: 1, max: 8 }), 12)),
      origin: opt(mostly(fc.double({ min: -1e6, max: 1e6, noNaN: true }), 12)),
      initialCapacity: capacity(),
      onError: opt(mostly(fc.constant(noop), 12)),
      logger: opt(mostly(fc.constant(SILENT), 12)),
      name: opt(mostly(fc.string({ minLength: 1 }), 12)),
      onSchedule: opt(mostly(fc.constant(noop), 12)),
    }, { requiredKeys: [] }),
  },
);

/** Hostile or valid schedule options. */
const scheduleOptions: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: hostile() },
  {
    weight: 4,
    arbitrary: fc.record({
      periodMs: opt(mostly(fc.double({ min: 0.5, max: 100, noNaN: true }))),
      missedTicks: opt(mostly(fc.constantFrom("burst", "delay", "skip"))),
    }, { requiredKeys: [] }),
  },
);

/** Checks a wheel still schedules, fires and cancels. */
function assertWheelWorks(wheel: TimerWheel): void {
  const before = wheel.size;
  const id = wheel.schedule(wheel.minDeadlineMs, noop);
  assert(wheel.has(id));
  assertEquals(wheel.size, before + 1);
  assert(wheel.cancel(id));
  assertEquals(wheel.size, before);
}

Deno.test("fuzz: TimerWheel constructor and methods take hostile values cleanly", () => {
  check(
    fc.property(
      wheelOptions,
      fc.array(
        fc.record({
          method: fc.constantFrom(
            "schedule",
            "schedule",
            "schedule",
            "cancel",
            "has",
            "deadlineOf",
            "advance",
            "nextDeadline",
            "clear",
          ),
          a: mostly(fc.double({ min: -100, max: 1000, noNaN: true }), 3),
          callback: mostly(fc.constant("fn"), 8),
          options: scheduleOptions,
        }),
        { minLength: 5, maxLength: 40 },
      ),
      (options, calls) => {
        const wheel = cleanCall(
          () => new TimerWheel(options as TimerWheelOptions),
          WHEEL_OPTION_NAMES,
        );
        if (wheel === undefined) return;
        assertWheelWorks(wheel);
        const ids: number[] = [];
        let lastNow = -Infinity;
        for (const call of calls) {
          const size = wheel.size;
          const next = wheel.nextDeadline();
          const stats = wheel.stats();
          const cb = call.callback === "fn"
            ? (deadline: number) => {
              // Nothing fires early: the wheel never fires a deadline after `now`.
              assert(deadline <= lastNow, `fired ${deadline} at ${lastNow}`);
            }
            : call.callback;
          const rejected = (fn: () => unknown, names: string[]) => {
            let threw = true;
            cleanCall(() => {
              fn();
              threw = false;
            }, names);
            return threw;
          };
          switch (call.method) {
            case "schedule": {
              let id: number | undefined;
              if (
                rejected(() => {
                  id = wheel.schedule(call.a as number, cb as Loose, call.options as Loose);
                }, SCHEDULE_NAMES)
              ) {
                assertEquals([wheel.size, wheel.nextDeadline()], [size, next]);
                assertEquals(wheel.stats(), stats);
              } else {
                assert(Number.isSafeInteger(id) && id! > 0, `id ${id}`);
                assertEquals(wheel.size, size + 1);
                ids.push(id!);
              }
              break;
            }
            case "cancel": {
              const id = typeof call.a === "number" && ids.length > 0
                ? ids[Math.abs(Math.trunc(call.a)) % ids.length]!
                : call.a;
              const pending = wheel.has(id as number);
              assertEquals(wheel.cancel(id as number), pending);
              assertEquals(wheel.size, size - (pending ? 1 : 0));
              break;
            }
            case "has":
            case "deadlineOf":
              cleanCall(() => (wheel as Loose)[call.method](call.a));
              break;
            case "advance": {
              const now = call.a as number;
              if (!rejected(() => wheel.advance(now), ["now"])) {
                lastNow = now;
                assert(!(wheel.nextDeadline() <= now), "everything due has fired");
              } else {
                assertEquals(wheel.size, size);
              }
              break;
            }
            case "nextDeadline":
              assert(typeof wheel.nextDeadline() === "number");
              break;
            case "clear":
              wheel.clear();
              assertEquals([wheel.size, wheel.nextDeadline()], [0, Infinity]);
              break;
          }
          const s = wheel.stats();
          assertEquals(s.pending, wheel.size);
          assert(
            s.skippedTicks >= 0 && Number.isFinite(s.skippedTicks),
            `skipped ${s.skippedTicks}`,
          );
          assert(s.fired >= stats.fired && s.cancelled >= stats.cancelled);
        }
        assertWheelWorks(wheel);
      },
    ),
  );
});

Deno.test("fuzz: TimerWheel periodic timers at extreme times and periods always terminate", () => {
  check(
    fc.property(
      fc.double({ min: -1e16, max: 1e16, noNaN: true }),
      fc.oneof(fc.double({ min: MIN_PERIOD_MS, max: 1e6, noNaN: true }), hostile()),
      fc.constantFrom("burst", "delay", "skip"),
      fc.oneof(fc.double({ min: 0, max: 1e16, noNaN: true }), fc.constant(1e308)),
      (deadline, periodMs, missedTicks, jump) => {
        const wheel = new TimerWheel({ onError: noop });
        let fires = 0;
        let last = -Infinity;
        const id = cleanCall(() =>
          wheel.schedule(deadline, (d) => {
            assert(d > last, "deadlines strictly increase");
            last = d;
            fires++;
          }, { periodMs: periodMs as number, missedTicks }), ["deadlineMs", "periodMs"]);
        if (id === undefined) return;
        const now = deadline + jump;
        wheel.advance(now);
        // Bounded: at most one burst, plus a few steps where doubles cannot
        // hold the period.
        assert(fires <= MAX_BURST_TICKS + 8, `${fires} fires`);
        const s = wheel.stats();
        assert(Number.isFinite(s.skippedTicks) && s.skippedTicks >= 0);
        if (wheel.has(id)) assert(wheel.deadlineOf(id) > now || wheel.deadlineOf(id) > last);
      },
    ),
  );
});

/** A host whose timers never run by themselves: nothing real is armed. */
function fakeHost(): DriverHost {
  let next = 1;
  return {
    setTimeout: () => next++,
    clearTimeout: noop,
    createWaker: () => undefined,
  };
}

const clockValue: fc.Arbitrary<unknown> = fc.oneof(
  hostile(),
  fc.constant("virtual"),
  fc.record({ now: fc.constant(() => 5) }),
  maybe().map((v) => ({ now: () => v })),
  maybe().map((v) => ({ now: () => 0, attach: () => v })),
  fc.constant({
    now: () => {
      throw new Error("broken clock");
    },
  }),
);

Deno.test("fuzz: Driver constructor takes hostile options cleanly", () => {
  check(
    fc.property(
      fc.oneof(
        { weight: 1, arbitrary: hostile() },
        {
          weight: 5,
          arbitrary: fc.record({
            clock: opt(fc.oneof({ weight: 3, arbitrary: fc.constant("virtual") }, {
              weight: 2,
              arbitrary: clockValue,
            })),
            profile: opt(mostly(fc.constantFrom("efficient", "balanced", "precise"), 12)),
            name: opt(mostly(fc.string({ minLength: 1 }), 12)),
            logger: opt(mostly(fc.constant(SILENT), 12)),
            wheel: opt(wheelOptions),
            host: opt(mostly(fc.constant("fake"), 12)),
            keepWarm: opt(mostly(fc.boolean(), 12)),
            metrics: opt(mostly(fc.constant("registry"), 12)),
          }, { requiredKeys: [] }),
        },
      ),
      (raw) => {
        const options = raw !== null && typeof raw === "object" && !Array.isArray(raw)
          ? { ...(raw as Record<string, unknown>) }
          : raw;
        const o = options as Record<string, unknown>;
        if (o !== null && typeof o === "object") {
          if (o.clock === "virtual") o.clock = new VirtualClock();
          if (o.host === "fake") o.host = fakeHost();
          if (o.metrics === "registry") o.metrics = new MetricsRegistry();
          // The default clock with the default host would arm real timers.
          if (
            o.host === undefined && (o.clock === undefined || !(o.clock instanceof VirtualClock))
          ) {
            o.host = fakeHost();
          }
        }
        const driver = cleanCall(() => new Driver(options as DriverOptions), DRIVER_OPTION_NAMES);
        if (driver === undefined) return;
        try {
          const timer = driver.after(1, noop);
          assert(timer.active);
          assertEquals(driver.pending, 1);
          timer.cancel();
          assertEquals(driver.pending, 0);
        } finally {
          driver.close();
        }
      },
    ),
  );
});

Deno.test("fuzz: Driver methods take hostile arguments cleanly and a rejected call changes nothing", async () => {
  await check(
    fc.asyncProperty(
      fc.array(
        fc.record({
          method: fc.constantFrom(
            "after",
            "at",
            "every",
            "every",
            "lateness",
            "latenessClasses",
            "stats",
            "warmUp",
            "whenIdle",
            "disposeTimer",
          ),
          a: mostly(fc.double({ min: -10, max: 100, noNaN: true }), 3),
          callback: mostly(fc.constant("fn"), 8),
          options: fc.oneof(
            { weight: 3, arbitrary: fc.constant(undefined) },
            { weight: 1, arbitrary: hostile() },
            {
              weight: 4,
              arbitrary: fc.record({
                latenessClass: opt(mostly(fc.constantFrom("a", "b"))),
                delayMs: opt(mostly(fc.double({ min: 0, max: 10, noNaN: true }))),
                firstAtMs: opt(mostly(fc.double({ min: -5, max: 10, noNaN: true }))),
                missedTicks: opt(mostly(fc.constantFrom("burst", "delay", "skip"))),
              }, { requiredKeys: [] }),
            },
          ),
          advance: fc.double({ min: 0, max: 5, noNaN: true }),
        }),
        { minLength: 5, maxLength: 30 },
      ),
      async (calls) => {
        const clock = new VirtualClock();
        using driver = new Driver({ clock, logger: SILENT });
        const timers: Timer[] = [];
        for (const call of calls) {
          const pending = driver.pending;
          const classes = driver.latenessClasses();
          const nextDeadline = driver.wheel.nextDeadline();
          const cb = call.callback === "fn"
            ? (deadline: number) => assert(clock.now() >= deadline, "fired early")
            : call.callback;
          let timer: Timer | undefined;
          let threw = true;
          cleanCall(() => {
            switch (call.method) {
              case "after":
              case "at":
              case "every":
                timer = (driver as Loose)[call.method](call.a, cb, call.options);
                break;
              case "lateness":
                (driver as Loose).lateness(call.a);
                break;
              case "latenessClasses":
                assertEquals(
                  new Set(driver.latenessClasses()).size,
                  driver.latenessClasses().length,
                );
                break;
              case "stats":
                assertEquals(driver.stats().wheel.pending, driver.pending);
                break;
              case "disposeTimer": {
                const i = typeof call.a === "number" ? Math.abs(Math.trunc(call.a)) || 0 : 0;
                const t = timers[i % (timers.length || 1)];
                if (t !== undefined) {
                  const active = t.active;
                  t[Symbol.dispose]();
                  assertEquals([t.active, driver.pending], [false, pending - (active ? 1 : 0)]);
                  assertEquals(t.cancel(), false);
                }
                break;
              }
              case "warmUp":
              case "whenIdle":
                void (driver as Loose)[call.method]();
                break;
            }
            threw = false;
          }, TIMER_NAMES);
          if (threw) {
            assertEquals(driver.pending, pending);
            assertEquals(driver.latenessClasses(), classes);
            assertEquals(driver.wheel.nextDeadline(), nextDeadline);
          } else if (timer !== undefined) {
            assertEquals(driver.pending, pending + 1);
            assert(timer.active && timer.deadline === driver.wheel.deadlineOf(timer.id));
            timers.push(timer);
            if (timer.periodMs > 0) assert(timer.periodMs >= MIN_PERIOD_MS);
          }
          clock.advance(call.advance);
        }
        driver.close();
        assertEquals(driver.pending, 0);
        await driver.whenIdle();
      },
    ),
  );
});

Deno.test("fuzz: VirtualClock, LatencyHistogram and MonotonicClock take hostile values cleanly", () => {
  check(
    fc.property(
      opt(mostly(fc.double({ min: 0, max: 1e6, noNaN: true }), 4)),
      fc.array(
        fc.record({
          method: fc.constantFrom(
            "advance",
            "advanceTo",
            "stall",
            "spend",
            "runUntilIdle",
            "attach",
            "record",
            "quantile",
            "snapshot",
            "reset",
          ),
          a: fc.oneof(
            hostile(),
            fc.double({ min: 0, max: 100, noNaN: true }),
            fc.record({ maxSteps: opt(mostly(fc.integer({ min: 1, max: 100 }))) }, {
              requiredKeys: [],
            }),
          ),
        }),
        { minLength: 3, maxLength: 30 },
      ),
      (start, calls) => {
        const clock = cleanCall(() => new VirtualClock(start as number), ["startMs"]);
        const histogram = new LatencyHistogram();
        const monotonic = new MonotonicClock();
        let recorded = 0;
        const t0 = monotonic.now();
        if (clock === undefined) return;
        const wheel = new TimerWheel({ origin: clock.now(), onError: noop });
        using _ = clock.attach(wheel);
        let fires = 0;
        // A long period: a hostile advance may be huge, and the timer fires
        // at most a few thousand times before it leaves the wheel's range.
        const periodMs = Math.max(1e12, Math.abs(clock.now()) * 1e-14);
        wheel.schedule(clock.now() + 1, () => void fires++, { periodMs });
        for (const call of calls) {
          const now = clock.now();
          let threw = true;
          cleanCall(() => {
            switch (call.method) {
              case "attach":
                (clock.attach(call.a as Loose) as Disposable)[Symbol.dispose]();
                break;
              case "record":
                histogram.record(call.a as number);
                recorded++;
                break;
              case "quantile":
                histogram.quantile(call.a as number);
                break;
              case "snapshot":
                assertEquals(histogram.snapshot().count, recorded);
                break;
              case "reset":
                histogram.reset();
                recorded = 0;
                break;
              case "runUntilIdle":
                // It throws while the periodic timer is pending, or returns
                // once the timer has left the wheel's range.
                clock.runUntilIdle(call.a as Loose);
                assertEquals(wheel.size, 0);
                break;
              default:
                (clock as Loose)[call.method](call.a);
            }
            threw = false;
          }, ["ms", "t", "options", "maxSteps", "target", "q"]);
          if (threw && call.method !== "runUntilIdle") assertEquals(clock.now(), now);
          assert(clock.now() >= now, "time never goes back");
          assert(Number.isFinite(clock.now()));
        }
        assert(fires >= 0);
        const s = histogram.snapshot();
        assertEquals(s.count, recorded);
        if (recorded > 0) {
          for (const [k, v] of Object.entries(s)) assert(!Number.isNaN(v), `${k} is NaN`);
          assert(s.min <= s.mean && s.mean <= s.max);
        }
        const t1 = (new (MonotonicClock as Loose)(...calls.map((c) => c.a)) as MonotonicClock)
          .now();
        assert(Number.isFinite(t1) && t1 >= t0);
      },
    ),
  );
});

// --- model-based: a Driver on a VirtualClock against a sorted list ----------

type CallbackKind = "ok" | "throw" | "reject";

type ModelOp =
  | {
    op: "after" | "at";
    value: unknown;
    callback: CallbackKind | "bad";
    options: unknown;
  }
  | {
    op: "every";
    periodMs: unknown;
    callback: CallbackKind | "bad";
    options: unknown;
  }
  | { op: "cancel"; index: number }
  | { op: "foreignCancel"; index: number }
  | { op: "advance" | "stall"; ms: unknown };

const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isOptions = (v: unknown) => v === undefined || (v !== null && typeof v === "object");
const field = (o: unknown, k: string): unknown =>
  o === undefined ? undefined : (o as Record<string, unknown>)[k];

const timeValue = (min: number, max: number): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.double({ min, max, noNaN: true }) },
    { weight: 4, arbitrary: fc.integer({ min: Math.ceil(min), max: Math.floor(max) }) },
    // Quarter milliseconds: equal deadlines (insertion order) come up often.
    { weight: 4, arbitrary: fc.integer({ min: min * 4, max: max * 4 }).map((q) => q / 4) },
    { weight: 1, arbitrary: hostile() },
  );

const callbackKind: fc.Arbitrary<CallbackKind | "bad"> = fc.constantFrom(
  "ok",
  "ok",
  "ok",
  "ok",
  "throw",
  "reject",
  "bad",
);

const timerOptions: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: hostile() },
  {
    weight: 3,
    arbitrary: fc.record({
      latenessClass: opt(mostly(fc.constantFrom("a", "b"), 10)),
      delayMs: opt(timeValue(0, 30)),
      firstAtMs: opt(timeValue(-40, 60)),
      missedTicks: opt(mostly(fc.constantFrom("burst", "delay", "skip"), 10)),
    }, { requiredKeys: [] }),
  },
);

const modelOp: fc.Arbitrary<ModelOp> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constantFrom("after" as const, "at" as const),
      value: timeValue(-5, 60),
      callback: callbackKind,
      options: timerOptions,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("every" as const),
      periodMs: fc.oneof(
        { weight: 8, arbitrary: fc.double({ min: 1, max: 40, noNaN: true }) },
        { weight: 1, arbitrary: fc.constantFrom(MIN_PERIOD_MS / 2, 1e-12, 0, -1, 1e-300) },
        {
          weight: 1,
          // Valid but short periods are kept to 0.5 ms, so a case stays small.
          arbitrary: hostile().map((v) => isNumber(v) && v >= MIN_PERIOD_MS && v < 0.5 ? 0.5 : v),
        },
      ),
      callback: callbackKind,
      options: timerOptions,
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("cancel" as const), index: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant("foreignCancel" as const), index: fc.nat() }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constantFrom("advance" as const, "advance" as const, "stall" as const),
      // A hostile number may be huge: a 1 ms loop then rightly fires for ever.
      ms: timeValue(0, 25).map((v) => isNumber(v) && v > 25 ? 25 : v),
    }),
  },
);

interface ModelTimer {
  key: number;
  deadline: number;
  base: number;
  k: number;
  period: number;
  policy: string;
  seq: number;
  kind: CallbackKind;
}

/**
 * The next deadline of a periodic model timer that fired at time `t`: the
 * (k+1)-th tick, unless that is already past, where `"delay"` restarts the
 * period from `t`, `"skip"` moves to the first tick at or after `t`, and
 * `"burst"` runs the missed ticks but no more than the latest
 * `MAX_BURST_TICKS` of them.
 *
 * @returns The number of ticks skipped.
 */
function rearmModel(timer: ModelTimer, t: number): number {
  const p = timer.period;
  const base = timer.base;
  let k = timer.k + 1;
  let skipped = 0;
  if (base + k * p < t) {
    // The last tick at or before t, found by search rather than division.
    let last = k;
    let step = 1;
    while (base + (last + step) * p <= t) {
      last += step;
      step *= 2;
    }
    for (; step >= 1; step /= 2) if (base + (last + step) * p <= t) last += step;
    if (timer.policy === "delay") {
      timer.base = t;
      k = 1;
    } else if (timer.policy === "skip") {
      const first = base + last * p === t ? last : last + 1;
      skipped = first - k;
      k = first;
    } else if (last - k + 1 > MAX_BURST_TICKS) {
      skipped = last - MAX_BURST_TICKS + 1 - k;
      k += skipped;
    }
  }
  timer.k = k;
  timer.deadline = timer.base + k * p;
  return skipped;
}

/** `value` made relative to `now` when it is a number: the model's clock moves. */
function relative(value: unknown, now: number): unknown {
  return isNumber(value) ? now + value : value;
}

/** Options with a numeric `firstAtMs` made relative to `now`. */
function relativeOptions(options: unknown, now: number): unknown {
  if (
    options === null || typeof options !== "object" ||
    Object.getPrototypeOf(options) !== Object.prototype
  ) {
    return options;
  }
  const o = options as Record<string, unknown>;
  return "firstAtMs" in o ? { ...o, firstAtMs: relative(o.firstAtMs, now) } : o;
}

/**
 * The model's prediction of a schedule call: the first deadline, or
 * `undefined` when the driver must reject the call. It restates the
 * documented rules, independently of the implementation.
 */
function predict(op: ModelOp, now: number, wheel: TimerWheel): number | undefined {
  if (op.op !== "after" && op.op !== "at" && op.op !== "every") return undefined;
  const inRange = (d: number) => d >= wheel.minDeadlineMs && d <= wheel.maxDeadlineMs;
  const options = op.options;
  if (!isOptions(options)) return undefined;
  const cls = field(options, "latenessClass");
  if (cls !== undefined && (typeof cls !== "string" || cls === "")) return undefined;
  if (op.callback === "bad") return undefined;
  if (op.op === "after") {
    if (!isNumber(op.value) || op.value < 0) return undefined;
    const d = now + op.value;
    return inRange(d) ? d : undefined;
  }
  if (op.op !== "every") {
    return isNumber(op.value) && inRange(op.value) ? op.value : undefined;
  }
  const p = op.periodMs;
  if (!isNumber(p) || p < MIN_PERIOD_MS || !(now + p > now)) return undefined;
  const firstAt = field(options, "firstAtMs");
  const delay = field(options, "delayMs");
  let first: number;
  if (firstAt !== undefined) {
    if (delay !== undefined || !isNumber(firstAt)) return undefined;
    first = firstAt;
  } else if (delay !== undefined) {
    if (!isNumber(delay) || delay < 0) return undefined;
    first = now + delay;
  } else {
    first = now + p;
  }
  if (!inRange(first) || !(first + p > first)) return undefined;
  const policy = field(options, "missedTicks");
  if (policy !== undefined && !["burst", "delay", "skip"].includes(policy as string)) {
    return undefined;
  }
  return first;
}

Deno.test("fuzz: Driver on a VirtualClock matches a sorted-list model over random valid and invalid calls", async () => {
  await check(
    fc.asyncProperty(
      fc.double({ min: 0, max: 1e6, noNaN: true }),
      fc.array(modelOp, { minLength: 10, maxLength: 60 }),
      async (start, ops) => {
        const clock = new VirtualClock(start);
        using driver = new Driver({ clock, logger: SILENT, wheel: { onError: noop } });
        const foreign = new TimerWheel();
        const foreignIds = [foreign.schedule(1, noop), foreign.schedule(2, noop)];
        const model: ModelTimer[] = [];
        const timers: { key: number; timer: Timer }[] = [];
        const fired: [number, number][] = [];
        const expected: [number, number][] = [];
        let seq = 0;
        let keys = 0;
        let expectedErrors = 0;
        let expectedSkipped = 0;
        let modelNow = start;
        let runaway = false;

        const fireModel = (limit: number, stall: boolean) => {
          // A stall jumps first and fires late; an advance steps deadline by deadline.
          if (stall) modelNow = limit;
          for (;;) {
            let best: ModelTimer | undefined;
            for (const t of model) {
              if (t.deadline > limit) continue;
              if (
                best === undefined || t.deadline < best.deadline ||
                (t.deadline === best.deadline && t.seq < best.seq)
              ) best = t;
            }
            if (best === undefined) break;
            // The clock steps to a deadline, or fires one already past at once.
            modelNow = Math.max(modelNow, best.deadline);
            expected.push([best.key, best.deadline]);
            // The generators keep a case to a few thousand fires; more means
            // the model or the driver runs away.
            if (expected.length > 100_000) throw new Error("Over 100,000 fires in one case");
            if (best.kind !== "ok") expectedErrors++;
            if (best.period > 0) {
              expectedSkipped += rearmModel(best, modelNow);
              best.seq = seq++;
            }
            // A periodic timer whose next deadline leaves the wheel's range ends.
            if (best.period === 0 || best.deadline > driver.wheel.maxDeadlineMs) {
              model.splice(model.indexOf(best), 1);
            }
          }
          modelNow = Math.max(modelNow, limit);
        };

        for (const raw of ops) {
          const now = clock.now();
          assertEquals(now, modelNow);
          // Absolute times are drawn relative to now, so they stay near it.
          const op: ModelOp = raw.op === "at"
            ? {
              ...raw,
              value: relative(raw.value, now),
              options: relativeOptions(raw.options, now),
            }
            : raw.op === "after" || raw.op === "every"
            ? { ...raw, options: relativeOptions(raw.options, now) }
            : raw;
          const pending = driver.pending;
          const next = driver.wheel.nextDeadline();
          if (op.op === "advance" || op.op === "stall") {
            if (!isNumber(op.ms) || op.ms < 0) {
              cleanCall(() => {
                clock[op.op](op.ms as number);
                throw new Error(`${op.op}(${String(op.ms)}) was accepted`);
              }, ["ms"]);
              assertEquals(clock.now(), now);
              continue;
            }
            clock[op.op](op.ms);
            assert(!runaway, "Over 100,000 fires in one case");
            fireModel(now + op.ms, op.op === "stall");
            assertEquals(fired, expected, "fires: (key, deadline) in order");
            assertEquals(driver.stats().wheel.skippedTicks, expectedSkipped);
            assertEquals(driver.pending, model.length);
            continue;
          }
          if (op.op === "cancel" || op.op === "foreignCancel") {
            if (timers.length === 0) continue;
            const { key, timer } = timers[op.index % timers.length]!;
            if (op.op === "foreignCancel") {
              // Ids are tied to their wheel: across wheels, cancel is a no-op.
              assertEquals(foreign.cancel(timer.id), false);
              assertEquals(driver.wheel.cancel(foreignIds[op.index % 2]!), false);
              assertEquals(foreign.size, 2);
              assertEquals(driver.pending, pending);
              continue;
            }
            const i = model.findIndex((t) => t.key === key);
            assertEquals(timer.cancel(), i >= 0);
            if (i >= 0) model.splice(i, 1);
            assertEquals(driver.pending, model.length);
            continue;
          }
          if (op.op !== "after" && op.op !== "at" && op.op !== "every") continue;
          const first = predict(op, now, driver.wheel);
          const key = keys++;
          const kind = op.callback === "bad" ? "ok" : op.callback;
          const callback = op.callback === "bad" ? 42 : (deadline: number) => {
            assert(clock.now() >= deadline, `timer ${key} fired early`);
            fired.push([key, deadline]);
            if (fired.length > 100_000 && !runaway) {
              // Stop a runaway driver from inside (its own errors are contained).
              runaway = true;
              driver.close();
            }
            if (kind === "throw") throw new Error("callback failed");
            if (kind === "reject") return Promise.reject(new Error("callback rejected"));
          };
          let timer: Timer | undefined;
          cleanCall(() => {
            timer = op.op === "every"
              ? driver.every(op.periodMs as number, callback as Loose, op.options as Loose)
              : (driver as Loose)[op.op](op.value, callback, op.options);
          }, TIMER_NAMES);
          if (first === undefined) {
            assertEquals(timer, undefined, `the driver accepted an invalid ${op.op}`);
            assertEquals([driver.pending, driver.wheel.nextDeadline()], [pending, next]);
            continue;
          }
          assert(timer !== undefined, `the driver rejected a valid ${op.op}`);
          assertEquals(timer.deadline, first);
          const period = op.op === "every" ? op.periodMs as number : 0;
          const policy = (field(op.options, "missedTicks") ?? "skip") as string;
          model.push({ key, deadline: first, base: first, k: 0, period, policy, seq: seq++, kind });
          timers.push({ key, timer });
          assertEquals(driver.pending, model.length);
        }
        await new Promise((resolve) => setTimeout(resolve, 0));
        assertEquals(fired, expected);
        assertEquals(driver.stats().wheel.callbackErrors, expectedErrors);
        driver.close();
      },
    ),
  );
});
