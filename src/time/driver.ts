import { ClosedError } from "../errors.ts";
import { CONSOLE_LOGGER } from "../logger.ts";
import {
  requireBoolean,
  requireFinite,
  requireFunction,
  requireLogger,
  requireName,
  requireNonEmptyString,
  requireNonNegative,
  requireOneOf,
  requireOptions,
  show,
} from "../internal/validate.ts";
import {
  type Clock,
  isSteppedClock,
  MONOTONIC_CLOCK,
  requireClock,
  type SteppedClock,
} from "./clock.ts";
import { type DriverHost, requireHost, type Waker } from "./driver_host.ts";
import { LatencyHistogram, type LatencySnapshot } from "./latency_histogram.ts";
import {
  farDelayMs,
  planWake,
  PRECISION_PROFILES,
  type PrecisionProfile,
  type PrecisionTuning,
  precisionTuning,
  type WakeMode,
} from "./precision.ts";
import {
  MISSED_TICK_POLICIES,
  type MissedTickPolicy,
  requirePeriod,
  type TimerId,
  TimerWheel,
} from "./timer_wheel.ts";
import type { DriverCallback, EveryOptions, Timer, TimerOptions } from "./timer.ts";
import { DriverMetrics } from "./_driver_metrics.ts";
import { requireMetricsRegistry } from "../metrics/registry.ts";
import {
  DriverTimer,
  type LatenessClass,
  latenessClass,
  type TimerOwner,
} from "./_driver_timer.ts";
import { LeadEstimator } from "./_lead_estimator.ts";
import { Oversleep } from "./_oversleep.ts";
import { attachTo, defaultHost } from "./_default_host.ts";
import type { DriverOptions, DriverStats, DriverWakeStats } from "./driver_types.ts";

const LOOP_BUDGET_MS = 20;
/** The most a block is asked to end early for its oversleep (a stalled machine's samples count up to this). */
const MAX_OVERSLEEP_MS = 0.5;
/** Never recorded into: the snapshot of a class that has not been seen. */
const NO_LATENESS = new LatencyHistogram();

/**
 * Runs timers on time: a {@linkcode TimerWheel} plus real wake-ups chosen by
 * distance to the next deadline (Far: `setTimeout`; Near: a waker Worker in
 * `Atomics.wait`; Imminent: a bounded spin on the clock), per the precision
 * profile. Periodic timers are drift-free, callbacks never run early (every
 * wake-up re-checks the clock), lateness is recorded per timer class, and the
 * process can exit as soon as no timer is pending.
 *
 * On a `VirtualClock` the driver arms nothing real: the clock fires the
 * timers as tests advance it.
 *
 * @example A 1 kHz loop that stops itself after 20 ticks
 * ```ts
 * import { Driver } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * using driver = new Driver({ profile: "precise" });
 * let ticks = 0;
 * const loop = driver.every(1, () => {
 *   if (++ticks === 20) loop.cancel();
 * });
 * await driver.whenIdle();
 * assertEquals(ticks, 20);
 * assertEquals(driver.lateness("periodic").count, 20);
 * ```
 */
export class Driver implements Disposable {
  readonly #clock: Clock;
  readonly #profile: PrecisionProfile;
  readonly #tuning: PrecisionTuning;
  // The host's block(), for profiles that block near a deadline (blockMs > 0).
  readonly #block: ((ms: number) => void) | undefined;
  readonly #wheel: TimerWheel;
  readonly #host: DriverHost;
  readonly #virtual: boolean;
  readonly #detach: Disposable | undefined;
  readonly #classes = new Map<string, LatenessClass>();
  readonly #owner: TimerOwner;
  readonly #name: string;
  readonly #metrics: DriverMetrics | undefined;
  readonly #keepWarm: boolean;
  readonly #lead: LeadEstimator;
  // A blocking profile's learnt block oversleep (it asks that much less).
  readonly #oversleep = new Oversleep(MAX_OVERSLEEP_MS);
  #waker: Waker | undefined;
  #closed = false;

  #running = false;
  #microtaskQueued = false;
  #armedMode: WakeMode = "idle";
  #armedDeadline = Infinity;
  #farTimer = 0;
  #idleWaiters: (() => void)[] = [];

  #wakes: DriverWakeStats = {
    far: 0,
    near: 0,
    imminent: 0,
    block: 0,
    early: 0,
    spinMs: 0,
    blockMs: 0,
    wakerStarts: 0,
    leadMs: 0,
  };
  #fromWaker = false;
  // The lead estimator's spin threshold, cached for the loop's planWake calls.
  #spinMs: number;
  // A blocking profile's block window: the hop latency's maximum over the
  // last 64 hand-overs, up to blockMs (see #blockWithinMs).
  readonly #window: LeadEstimator | undefined;
  // The spin threshold of the lead the current waker wake-up was aimed with.
  #wakeSpinMs = 0;
  // When a blocking profile's waker hand-over was due (NaN: not measurable).
  #handOverAt = NaN;
  // The block window the current hand-over was aimed with.
  #aimedWithinMs = 0;

  /**
   * Creates a driver. Nothing real is armed until a timer is scheduled.
   *
   * @param options Clock, profile, wheel options, host, metrics, name and logger.
   * @throws {TypeError} when `options` or `wheel` is not an object, `clock`
   * is not a working clock (its `now()` must return a finite number),
   * `profile` is unknown, `name` is not a non-empty string of well-formed
   * Unicode, or `logger`,
   * `host`, `metrics` or `keepWarm` has the wrong type.
   * @throws {RangeError} when a wheel option is out of range.
   */
  constructor(options: DriverOptions = {}) {
    const action = "create a Driver";
    requireOptions(action, "options", options);
    const clock = requireClock(action, "clock", options.clock ?? MONOTONIC_CLOCK);
    this.#clock = clock;
    this.#profile = requireOneOf(
      action,
      "profile",
      options.profile ?? "balanced",
      PRECISION_PROFILES,
    );
    // The name is a label value of every metric: a lone surrogate cannot be one.
    this.#name = requireName(action, "name", options.name ?? "driver");
    const logger = requireLogger(action, "logger", options.logger ?? CONSOLE_LOGGER);
    requireOptions(action, "wheel", options.wheel);
    const host = options.host === undefined ? undefined : requireHost(action, "host", options.host);
    if (options.keepWarm !== undefined) requireBoolean(action, "keepWarm", options.keepWarm);
    const registry = options.metrics === undefined
      ? undefined
      : requireMetricsRegistry(action, "metrics", options.metrics);
    this.#host = host ?? defaultHost(clock, this.#profile, logger);
    const tuning = precisionTuning(this.#profile);
    // A host that cannot block leaves the waker to wait near deadlines.
    const block = this.#host.block === undefined ? undefined : this.#host.block.bind(this.#host);
    this.#tuning = block === undefined ? { ...tuning, blockMs: 0, blockLeadMs: 0 } : tuning;
    this.#block = this.#tuning.blockMs > 0 ? block : undefined;
    this.#lead = new LeadEstimator(this.#tuning);
    this.#spinMs = this.#lead.spinMs;
    this.#window = this.#block === undefined ? undefined : new LeadEstimator({
      ...this.#tuning,
      leadQuantile: 1,
      nearLeadMs: this.#tuning.blockMs,
      nearLeadMinMs: 0,
      nearLeadMaxMs: this.#tuning.blockMs,
    });
    this.#virtual = isSteppedClock(clock);
    this.#wheel = new TimerWheel({
      ...options.wheel,
      name: this.#name,
      logger,
      origin: Math.floor(clock.now()),
      onSchedule: this.#virtual ? undefined : this.#onSchedule,
    });
    this.#owner = {
      wheel: this.#wheel,
      clock,
      cancel: this.#cancelTimer,
      // On a stepped clock no real-time loop notices idleness: the last fire does.
      afterFire: this.#virtual ? this.#notifyIdleIfEmpty : undefined,
    };
    this.#keepWarm = options.keepWarm === true;
    this.#metrics = registry === undefined
      ? undefined
      : new DriverMetrics(registry, this.#name, () => this.stats());
    try {
      this.#detach = this.#virtual
        ? attachTo(action, clock as SteppedClock, this.#wheel)
        : undefined;
    } catch (error) {
      this.#metrics?.[Symbol.dispose]();
      throw error;
    }
  }

  /** The clock this driver reads. */
  get clock(): Clock {
    return this.#clock;
  }

  /** The precision profile. */
  get profile(): PrecisionProfile {
    return this.#profile;
  }

  /** The underlying wheel, for the allocation-free numeric API. */
  get wheel(): TimerWheel {
    return this.#wheel;
  }

  /** Number of pending timers. */
  get pending(): number {
    return this.#wheel.size;
  }

  /**
   * Runs `callback` once, `delayMs` from now.
   *
   * @param delayMs Delay in milliseconds (fractions are honoured).
   * @param callback Called with the exact deadline; a promise it returns
   * that rejects is contained and counted like a throw.
   * @param options Lateness class.
   * @returns The timer.
   * @throws {RangeError} when `delayMs` is negative, `NaN`, infinite or
   * beyond the wheel's range.
   * @throws {TypeError} when `callback` is not a function or `options` is
   * not an object.
   * @throws {ClosedError} when the driver is closed.
   */
  after(delayMs: number, callback: DriverCallback, options?: TimerOptions): Timer {
    const action = "schedule a timer";
    requireNonNegative(action, "delayMs", delayMs);
    const deadline = this.#inRange(action, "delayMs", this.#clock.now() + delayMs, delayMs);
    return this.#create(action, deadline, 0, "skip", callback, options, "oneshot");
  }

  /**
   * Runs `callback` once at the absolute time `atMs` of the driver's clock
   * (at once if that is in the past).
   *
   * @param atMs Absolute time in milliseconds, on the driver's clock, within
   * the wheel's range (2^52 ticks either side of the driver's start).
   * @param callback Called with the exact deadline (`atMs`); a promise it
   * returns that rejects is contained and counted like a throw.
   * @param options Lateness class.
   * @returns The timer.
   * @throws {RangeError} when `atMs` is not finite or beyond the wheel's range.
   * @throws {TypeError} when `callback` is not a function or `options` is
   * not an object.
   * @throws {ClosedError} when the driver is closed.
   */
  at(atMs: number, callback: DriverCallback, options?: TimerOptions): Timer {
    const action = "schedule a timer";
    requireFinite(action, "atMs", atMs);
    this.#inRange(action, "atMs", atMs, atMs);
    return this.#create(action, atMs, 0, "skip", callback, options, "oneshot");
  }

  /**
   * Runs `callback` every `periodMs`, drift-free: the k-th deadline is
   * `first + k * periodMs`, whatever the lateness of earlier fires.
   *
   * The period must be at least `MIN_PERIOD_MS` (0.001 ms, 1 µs) and large
   * enough to move the first deadline in floating point (`first + periodMs >
   * first`; on a clock reading 1e15 ms that takes 0.125 ms), so that no
   * period can make a timer fire forever at one instant. After a stall a
   * `"burst"` timer runs at most 10,000 missed ticks (`MAX_BURST_TICKS`);
   * older ones are counted as skipped.
   *
   * @param periodMs Period in milliseconds, `>= 0.001`.
   * @param callback Called with the exact deadline of each tick; a promise
   * it returns that rejects is contained and counted like a throw.
   * @param options First delay, missed-tick policy and lateness class.
   * @returns The timer.
   * @throws {RangeError} when `periodMs` is not finite, below 0.001 or too
   * small to advance the first deadline, `delayMs` is negative or not
   * finite, or the first deadline is beyond the wheel's range.
   * @throws {TypeError} when `callback` is not a function, `options` is not
   * an object, `missedTicks` is unknown, or both `firstAtMs` and `delayMs`
   * are given.
   * @throws {ClosedError} when the driver is closed.
   */
  every(periodMs: number, callback: DriverCallback, options: EveryOptions = {}): Timer {
    const action = "schedule a periodic timer";
    requirePeriod(action, "periodMs", periodMs, this.#clock.now());
    requireOptions(action, "options", options);
    let first: number;
    if (options.firstAtMs !== undefined) {
      if (options.delayMs !== undefined) {
        throw new TypeError(`Cannot ${action} as 'firstAtMs' and 'delayMs' exclude each other`);
      }
      first = requireFinite(action, "firstAtMs", options.firstAtMs);
      this.#inRange(action, "firstAtMs", first, first);
    } else {
      const delay = options.delayMs === undefined
        ? periodMs
        : requireNonNegative(action, "delayMs", options.delayMs);
      const name = options.delayMs === undefined ? "periodMs" : "delayMs";
      first = this.#inRange(action, name, this.#clock.now() + delay, delay);
    }
    requirePeriod(action, "periodMs", periodMs, first);
    const missedTicks = options.missedTicks === undefined
      ? "skip"
      : requireOneOf(action, "missedTicks", options.missedTicks, MISSED_TICK_POLICIES);
    return this.#create(action, first, periodMs, missedTicks, callback, options, "periodic");
  }

  /**
   * Returns the lateness percentiles (fire time minus deadline) of a class.
   *
   * @param latenessClass The class name, e.g. `"periodic"`.
   * @returns A snapshot in milliseconds; for an unknown class, `count` is 0
   * and every other figure `NaN`.
   * @throws {TypeError} when `latenessClass` is not a string.
   */
  lateness(latenessClass = "periodic"): LatencySnapshot {
    if (typeof latenessClass !== "string") {
      throw new TypeError(
        `Cannot read the lateness of a class as 'latenessClass' must be a string: current value is ${
          show(latenessClass)
        }`,
      );
    }
    return (this.#classes.get(latenessClass)?.histogram ?? NO_LATENESS).snapshot();
  }

  /**
   * Returns the names of the lateness classes seen so far.
   *
   * @returns Class names in order of first use.
   */
  latenessClasses(): string[] {
    return [...this.#classes.keys()];
  }

  /**
   * Returns wake-up and wheel counters.
   *
   * @returns A new snapshot object.
   */
  stats(): DriverStats {
    return {
      profile: this.#profile,
      virtual: this.#virtual,
      wakes: { ...this.#wakes, leadMs: this.#lead.leadMs },
      wheel: this.#wheel.stats(),
    };
  }

  /**
   * Starts the waker Worker ahead of time, so the first near wait is not
   * late by its start-up. Deno builds a Worker synchronously (the main
   * thread blocks for about 10 ms, and the worker is ready some milliseconds
   * later), so call this at start-up rather than letting the first timer pay
   * for it. Resolves when the worker is ready, at once for the efficient
   * profile or a virtual clock. The worker is released again when the driver
   * next becomes idle (unless `keepWarm`) or closes.
   *
   * @returns A promise that resolves when near waits are ready.
   * @throws {ClosedError} when the driver is closed.
   */
  async warmUp(): Promise<void> {
    if (this.#closed) throw new ClosedError("Driver", "warm up");
    if (this.#virtual) return;
    this.#waker ??= this.#host.createWaker(this.#onWakerWake);
    const waker = this.#waker;
    if (waker === undefined) return;
    if (!waker.ready && this.#armedMode !== "near") waker.request(Infinity);
    while (!waker.ready && this.#waker === waker) {
      await new Promise<void>((resolve) => this.#host.setTimeout(resolve, 1));
    }
  }

  /**
   * Resolves once no timer is pending: immediately if none is, else when the
   * last one fires or is cancelled, or when the driver closes. A periodic
   * timer stays pending until cancelled.
   *
   * @returns A promise that resolves when the driver is idle.
   *
   * @example Waiting for the last one-shot timer
   * ```ts
   * import { Driver } from "@chronetix/core";
   * import { VirtualClock } from "@chronetix/core/testing";
   * import { assertEquals } from "@std/assert";
   *
   * const clock = new VirtualClock();
   * using driver = new Driver({ clock });
   * driver.after(5, () => {});
   * const idle = driver.whenIdle();
   * clock.advance(5);
   * await idle;
   * assertEquals(driver.pending, 0);
   * ```
   */
  whenIdle(): Promise<void> {
    if (this.#wheel.size === 0) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#idleWaiters.push(resolve);
    return promise;
  }

  /**
   * Cancels every timer and releases real resources (timers, the waker
   * Worker), then resolves every {@linkcode Driver.whenIdle} waiter.
   * Idempotent; scheduling afterwards throws a {@linkcode ClosedError}.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wheel.clear();
    this.#disarm();
    this.#waker?.close();
    this.#waker = undefined;
    this.#detach?.[Symbol.dispose]();
    // A final collection keeps scrape-time figures true after close.
    this.#metrics?.[Symbol.dispose]();
    this.#notifyIdle();
  }

  /** Same as {@linkcode Driver.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  // --- timers --------------------------------------------------------------

  /**
   * Checks that `deadline`, computed from the caller's `name` parameter,
   * lies within the wheel's range, so the error names what the caller passed.
   */
  #inRange(action: string, name: string, deadline: number, value: number): number {
    const wheel = this.#wheel;
    if (!(deadline >= wheel.minDeadlineMs && deadline <= wheel.maxDeadlineMs)) {
      throw new RangeError(
        `Cannot ${action} as '${name}' must keep the deadline within [${wheel.minDeadlineMs}, ${wheel.maxDeadlineMs}] on the driver's clock: current value is ${value}`,
      );
    }
    return deadline;
  }

  #create(
    action: string,
    deadline: number,
    period: number,
    missedTicks: MissedTickPolicy,
    callback: DriverCallback,
    options: TimerOptions | undefined,
    defaultClass: string,
  ): Timer {
    requireFunction(action, "callback", callback);
    requireOptions(action, "options", options);
    // Like the other timer options, only a missing class takes the default.
    const name = options?.latenessClass === undefined
      ? defaultClass
      : requireNonEmptyString(action, "latenessClass", options.latenessClass);
    if (this.#closed) throw new ClosedError("Driver", "schedule a timer");
    let cls = this.#classes.get(name);
    if (cls === undefined) {
      cls = latenessClass(name, this.#metrics?.classMetrics(name));
      this.#classes.set(name, cls);
    }
    const timer = new DriverTimer(this.#owner, cls, callback, period);
    timer.id = this.#wheel.schedule(
      deadline,
      timer.fire,
      period > 0 ? { periodMs: period, missedTicks } : undefined,
    );
    return timer;
  }

  #cancelTimer = (id: TimerId): boolean => {
    const cancelled = this.#wheel.cancel(id);
    if (cancelled && this.#wheel.size === 0 && !this.#running) {
      this.#disarm();
      this.#becomeIdle();
    }
    return cancelled;
  };

  #becomeIdle(): void {
    if (!this.#keepWarm) this.#waker?.close();
    this.#notifyIdle();
  }

  #notifyIdleIfEmpty = (): void => {
    if (this.#wheel.size === 0) this.#notifyIdle();
  };

  #notifyIdle(): void {
    const waiters = this.#idleWaiters;
    if (waiters.length === 0) return;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  // --- real-time loop ------------------------------------------------------

  #onSchedule = (deadline: number): void => {
    if (this.#running || this.#microtaskQueued || this.#closed) return;
    if (deadline >= this.#armedDeadline) return;
    this.#disarm();
    const remaining = deadline - this.#clock.now();
    const mode = this.#plan(remaining, this.#spinMs, 0);
    if (mode === "due" || mode === "imminent") {
      this.#microtaskQueued = true;
      queueMicrotask(this.#run);
    } else {
      this.#arm(mode, deadline, remaining);
    }
  };

  /** A waker wake-up: learn its latency, then run. */
  #onWakerWake = (): void => {
    this.#fromWaker = true;
    // A waker that failed wakes the driver once so it re-arms with
    // setTimeout; that wake-up says nothing about the latency.
    const armed = this.#armedMode;
    if (
      this.#block !== undefined && (armed === "near" || armed === "block") &&
      this.#waker?.ready === true
    ) {
      // A blocking profile learns the hop's latency from every hand-over:
      // the spin threshold (a deadline too close for a hop) follows it.
      if (!Number.isNaN(this.#handOverAt)) {
        const lateMs = this.#clock.now() - this.#handOverAt;
        this.#lead.learn(lateMs);
        this.#window!.learn(lateMs);
        this.#spinMs = this.#lead.spinMs;
        this.#handOverAt = NaN;
      }
    } else if (armed === "near" && this.#waker?.ready === true) {
      // Spin out the lead it was aimed with, even if its sample shrinks the
      // lead: asking the waker again is a second hop the rest cannot cover.
      this.#wakeSpinMs = this.#lead.aimedSpinMs;
      if (this.#lead.measuring) {
        this.#lead.woke(this.#clock.now());
        this.#spinMs = this.#lead.spinMs;
      }
    }
    this.#run();
    this.#wakeSpinMs = 0; // read by that run only (unused if it did not start)
  };

  #run = (): void => {
    this.#microtaskQueued = false;
    if (this.#closed || this.#running) return;
    this.#running = true;
    this.#disarm();
    const clock = this.#clock;
    const wheel = this.#wheel;
    const started = clock.now();
    let firedAny = false;
    const fromWaker = this.#fromWaker;
    const wakeSpinMs = this.#wakeSpinMs;
    const aimedWithinMs = fromWaker ? this.#aimedWithinMs : 0;
    this.#fromWaker = false;
    try {
      for (;;) {
        const now = clock.now();
        if (wheel.advance(now) > 0) firedAny = true;
        const next = wheel.nextDeadline();
        const after = clock.now();
        const remaining = next - after;
        // Until it fires, a waker wake-up's deadline spins out its aimed lead.
        const spinMs = firedAny ? this.#spinMs : Math.max(this.#spinMs, wakeSpinMs);
        // A hand-over blocks out the window it was aimed with, even if what
        // it taught shrank the window: asking again would cost a second hop.
        const mode = this.#plan(remaining, spinMs, firedAny ? 0 : aimedWithinMs);
        if (mode === "due") {
          if (after - started > LOOP_BUDGET_MS) {
            // Yield to the event loop instead of starving it with a burst.
            this.#armedMode = "far";
            this.#armedDeadline = next;
            this.#setFarTimer(0, next);
            return;
          }
          continue;
        }
        if (
          this.#block !== undefined && !firedAny &&
          (mode === "block" || mode === "imminent") && remaining > this.#tuning.blockLeadMs
        ) {
          // Nothing ran in this turn: hold the thread until the block's
          // lead, then spin the rest, as a dedicated thread would.
          // Asked to end early by its learnt oversleep, the block ends about
          // blockLeadMs before the deadline, and the spin covers what
          // follows a wake-up (a thread preempted for tens of µs).
          const askMs = remaining - this.#tuning.blockLeadMs - this.#oversleep.ms;
          let spinStart = after;
          if (askMs > 0) {
            this.#wakes.block++;
            this.#block(askMs);
            spinStart = clock.now();
            this.#wakes.blockMs += spinStart - after;
            this.#oversleep.learn(spinStart - after - askMs);
          }
          if (this.#fireAhead(next, spinStart) > 0) firedAny = true;
          continue;
        }
        if (mode === "imminent") {
          this.#wakes.imminent++;
          // Spinning only because the lead is long yields no sample: decay it.
          if ((!fromWaker || firedAny) && remaining > this.#tuning.spinMs) {
            this.#lead.decay();
            this.#spinMs = this.#lead.spinMs;
          }
          if (this.#fireAhead(next, clock.now()) > 0) firedAny = true;
          continue;
        }
        // A block right after callbacks first lets the event loop run (their
        // microtasks, I/O, other timers): #arm hands over through the waker.
        if (!firedAny) this.#wakes.early++;
        this.#arm(mode, next, remaining);
        return;
      }
    } finally {
      this.#running = false;
    }
  };

  /**
   * Fires the timers due at `next`, a deadline microseconds away, ahead of
   * time (`TimerWheel.fireAhead`): the wheel's work for them is done now and
   * each callback waits (spins) for its deadline, so the spin's end is a
   * call away from the callback. Counts the spin.
   */
  #fireAhead(next: number, spinStart: number): number {
    this.#wakes.spinMs += Math.max(0, next - spinStart);
    return this.#wheel.fireAhead(next, this.#clock);
  }

  /**
   * The wake-up mode for a deadline `remaining` away. A blocking profile
   * blocks only within its window of the deadline (and spins within the
   * block's lead), so the event loop stays free the rest of the time.
   */
  #plan(remaining: number, spinMs: number, withinMs: number): WakeMode {
    const within = this.#window === undefined ? 0 : Math.max(withinMs, this.#blockWithinMs());
    return planWake(remaining, this.#tuning, spinMs, within);
  }

  /**
   * How close to a deadline a blocking profile blocks: the block's lead and
   * its learnt oversleep, plus the slowest of the last 64 hand-overs (and a
   * margin), up to `blockMs`. Until hand-overs have been measured, `blockMs`.
   */
  #blockWithinMs(): number {
    const leadMs = this.#tuning.blockLeadMs + this.#oversleep.ms;
    return Math.min(this.#tuning.blockMs, leadMs + this.#window!.leadMs);
  }

  #arm(mode: WakeMode, deadline: number, remaining: number): void {
    // Arming replaces any earlier arm: a far timer left behind would keep the
    // process alive and fire for nothing.
    if (this.#farTimer !== 0) {
      this.#host.clearTimeout(this.#farTimer);
      this.#farTimer = 0;
    }
    this.#armedMode = mode;
    this.#armedDeadline = deadline;
    if (mode === "idle") {
      this.#becomeIdle();
      return;
    }
    if (mode === "near" || mode === "block") {
      this.#waker ??= this.#host.createWaker(this.#onWakerWake);
      if (this.#waker !== undefined) {
        this.#wakes.near++;
        // A blocking profile aims its window ahead of the deadline (for a
        // block, that is at once: the hand-over only gives the event loop
        // its turn) and blocks through the hop's tail. Otherwise, only a
        // wake-up requested from a running worker says anything about its
        // latency; one requested during start-up is late by the start-up.
        if (this.#block !== undefined) {
          this.#aimedWithinMs = this.#blockWithinMs();
          const target = deadline - this.#aimedWithinMs;
          this.#waker.request(target);
          this.#handOverAt = this.#waker.ready ? Math.max(target, this.#clock.now()) : NaN;
        } else {
          this.#waker.request(this.#lead.aim(deadline, this.#waker.ready));
        }
        this.#wakes.wakerStarts = this.#waker.starts ?? 0;
        if (this.#waker.ready) return;
        // The worker is still starting: keep a setTimeout as a fallback.
      }
      this.#setFarTimer(Math.max(0, Math.floor(remaining - 1.5)), deadline);
      return;
    }
    this.#wakes.far++;
    this.#setFarTimer(farDelayMs(remaining, this.#tuning), deadline);
  }

  /**
   * Arms the `setTimeout` of a wake-up for `deadline`. Deno loads its timer
   * module on the first `setTimeout` of a process and runs queued microtasks
   * meanwhile, so code scheduled from a microtask can arm the driver again
   * from inside this call: the arm for the earlier deadline wins, and the
   * other timer is cleared instead of leaking.
   */
  #setFarTimer(delayMs: number, deadline: number): void {
    const id = this.#host.setTimeout(this.#run, delayMs);
    if (this.#farTimer !== 0 && this.#armedDeadline <= deadline) {
      this.#host.clearTimeout(id);
      return;
    }
    if (this.#farTimer !== 0) this.#host.clearTimeout(this.#farTimer);
    this.#farTimer = id;
    this.#armedDeadline = deadline;
  }

  #disarm(): void {
    if (this.#farTimer !== 0) {
      this.#host.clearTimeout(this.#farTimer);
      this.#farTimer = 0;
    }
    if (this.#armedMode === "near" || this.#armedMode === "block") this.#waker?.cancel();
    this.#armedMode = "idle";
    this.#armedDeadline = Infinity;
  }
}
