import { ClosedError } from "../errors.ts";
import type { Counter, Histogram } from "../metrics/families.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import {
  requireFinite,
  requireFunction,
  requireNonEmptyString,
  requireNonNegative,
  requireOneOf,
  requirePositive,
} from "../internal/validate.ts";
import { type Clock, isSteppedClock, MONOTONIC_CLOCK, MonotonicClock } from "./clock.ts";
import type { DriverHost, Waker } from "./driver_host.ts";
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
  type MissedTickPolicy,
  type TimerId,
  TimerWheel,
  type TimerWheelOptions,
  type TimerWheelStats,
} from "./timer_wheel.ts";
import { WorkerWaker } from "./_waker.ts";

/** Called when a {@linkcode Driver} timer fires, with the exact deadline it fires for. */
export type DriverCallback = (deadline: number) => void;

/** Options for the {@linkcode Driver} constructor. */
export interface DriverOptions {
  /**
   * The clock. A stepped clock (`VirtualClock`) drives the timers itself as
   * it advances; any other clock must read the `performance.now()` timeline.
   *
   * @default {MONOTONIC_CLOCK}
   */
  clock?: Clock;
  /**
   * How to trade CPU for lateness.
   *
   * @default {"balanced"}
   */
  profile?: PrecisionProfile;
  /** Overrides of the profile's thresholds. */
  tuning?: Partial<PrecisionTuning>;
  /** Options of the underlying {@linkcode TimerWheel} (`onSchedule` is the driver's). */
  wheel?: Omit<TimerWheelOptions, "onSchedule" | "origin">;
  /** Real-time facilities; replace only in tests of the driver itself. */
  host?: DriverHost;
  /**
   * Keep the waker Worker running while idle, until {@linkcode Driver.close}.
   * Deno builds a Worker synchronously, which blocks the main thread for
   * about 10 ms, so a bursty long-running service avoids paying that at the
   * start of every busy period. While kept warm, the worker keeps the process
   * alive: close the driver on shutdown.
   *
   * @default {false}
   */
  keepWarm?: boolean;
  /**
   * Registry to report into: lateness histograms and fires per class, wake-ups
   * by mode, spin time, lead, pending timers, skipped ticks and callback
   * errors (see `docs/metrics.md`). Fires update pre-allocated slots through
   * handles; everything else is read by a collector at scrape time.
   */
  metrics?: MetricsRegistry;
  /**
   * The `driver` label of this driver's metrics.
   *
   * @default {"driver"}
   */
  name?: string;
}

/** Bucket bounds of `chronetix_timer_lateness_seconds`, 1 µs to 1 s. */
export const TIMER_LATENESS_BUCKETS: readonly number[] = [
  0.000001,
  0.000005,
  0.00001,
  0.000025,
  0.00005,
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.1,
  1,
];

/** Options shared by {@linkcode Driver.after}, {@linkcode Driver.at} and {@linkcode Driver.every}. */
export interface TimerOptions {
  /**
   * The lateness class this timer records into; see {@linkcode Driver.lateness}.
   *
   * @default {"oneshot" for after/at, "periodic" for every}
   */
  latenessClass?: string;
}

/** Options for {@linkcode Driver.every}. */
export interface EveryOptions extends TimerOptions {
  /**
   * Delay before the first fire in milliseconds; deadlines are then
   * `first + k * periodMs`.
   *
   * @default {periodMs}
   */
  delayMs?: number;
  /**
   * The absolute time (on the driver's clock) of the first deadline, to
   * align several loops to one phase; excludes `delayMs`.
   */
  startAt?: number;
  /**
   * What to do after a stall.
   *
   * @default {"skip"}
   */
  missedTicks?: MissedTickPolicy;
}

/**
 * A scheduled timer, returned by the {@linkcode Driver}. Cancel it, or let a
 * `using` declaration dispose of it at the end of a scope.
 */
export interface Timer extends Disposable {
  /** The underlying wheel id. */
  readonly id: TimerId;
  /** The period in milliseconds, or `0` for a one-shot timer. */
  readonly periodMs: number;
  /** The lateness class it records into. */
  readonly latenessClass: string;
  /** Whether it is still pending. */
  readonly active: boolean;
  /** Its next deadline in milliseconds, or `NaN` once inactive. */
  readonly deadline: number;
  /** How many times it has fired. */
  readonly fires: number;
  /**
   * Cancels it; cancelling twice is a no-op.
   *
   * @returns `true` when it was pending.
   */
  cancel(): boolean;
}

/** Wake-up counts of a {@linkcode Driver}, by mode. */
export interface DriverWakeStats {
  /** `setTimeout` waits armed. */
  far: number;
  /** Waker-Worker (or fallback) waits armed. */
  near: number;
  /** Spins on the clock. */
  imminent: number;
  /** Wake-ups that found nothing due yet (early `setTimeout` fires included). */
  early: number;
  /** Total milliseconds spent spinning. */
  spinMs: number;
  /** Waker Worker starts. */
  wakerStarts: number;
  /** Current lead of near wake-ups in milliseconds (adapted to measured latency). */
  leadMs: number;
}

/** A snapshot of a {@linkcode Driver}'s state. */
export interface DriverStats {
  /** The precision profile. */
  profile: PrecisionProfile;
  /** Whether the driver runs on a stepped (virtual) clock. */
  virtual: boolean;
  /** Wake-ups by mode. */
  wakes: DriverWakeStats;
  /** The wheel's counters. */
  wheel: TimerWheelStats;
}

const LOOP_BUDGET_MS = 20;
const LATENCY_WINDOW = 64;
const LEAD_MARGIN_MS = 0.03;

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
 * @example A 1 kHz loop for a moment
 * ```ts
 * import { Driver } from "@chronetix/core";
 * import { assert } from "@std/assert";
 *
 * await using driver = new Driver({ profile: "precise" });
 * let ticks = 0;
 * const { promise, resolve } = Promise.withResolvers<void>();
 * driver.every(1, () => {
 *   if (++ticks === 20) resolve();
 * });
 * await promise;
 * assert(driver.lateness("periodic").count >= 20);
 * ```
 */
export class Driver implements Disposable, AsyncDisposable {
  readonly #clock: Clock;
  readonly #profile: PrecisionProfile;
  readonly #tuning: PrecisionTuning;
  readonly #wheel: TimerWheel;
  readonly #host: DriverHost;
  readonly #virtual: boolean;
  readonly #detach: Disposable | undefined;
  readonly #lateness = new Map<string, LatencyHistogram>();
  readonly #classMetrics = new Map<string, ClassMetrics>();
  readonly #name: string;
  readonly #metrics: DriverMetrics | undefined;
  readonly #keepWarm: boolean;
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
    early: 0,
    spinMs: 0,
    wakerStarts: 0,
    leadMs: 0,
  };
  // Adaptive lead of near wake-ups (see PrecisionTuning).
  #nearTarget = NaN;
  #nearMeasured = false;
  #fromWaker = false;
  readonly #latencies = new Float64Array(LATENCY_WINDOW);
  readonly #scratch = new Float64Array(LATENCY_WINDOW);
  #latencyCount = 0;
  #leadMs: number;
  #spinMs: number;

  /**
   * Creates a driver. Nothing real is armed until a timer is scheduled.
   *
   * @param options Clock, profile, tuning, wheel options and host.
   * @throws {TypeError} when `profile` is unknown.
   * @throws {RangeError} when a tuning or wheel option is out of range.
   */
  constructor(options: DriverOptions = {}) {
    this.#clock = options.clock ?? MONOTONIC_CLOCK;
    this.#profile = requireOneOf(
      "create a Driver",
      "profile",
      options.profile ?? "balanced",
      PRECISION_PROFILES,
    );
    this.#tuning = precisionTuning(this.#profile, options.tuning);
    this.#leadMs = this.#tuning.nearLeadMs;
    this.#spinMs = this.#spinFor(this.#leadMs);
    this.#virtual = isSteppedClock(this.#clock);
    this.#wheel = new TimerWheel({
      ...options.wheel,
      origin: Math.floor(this.#clock.now()),
      onSchedule: this.#virtual ? undefined : this.#onSchedule,
    });
    this.#host = options.host ?? defaultHost(this.#clock, this.#profile);
    this.#keepWarm = options.keepWarm === true;
    this.#name = requireNonEmptyString("create a Driver", "name", options.name ?? "driver");
    this.#metrics = options.metrics === undefined
      ? undefined
      : this.#registerMetrics(options.metrics);
    this.#detach = isSteppedClock(this.#clock) ? this.#clock.attach(this.#wheel) : undefined;
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
   * @param callback Called with the exact deadline.
   * @param options Lateness class.
   * @returns The timer.
   * @throws {RangeError} when `delayMs` is negative, `NaN` or infinite.
   * @throws {TypeError} when `callback` is not a function.
   * @throws {ClosedError} when the driver is closed.
   */
  after(delayMs: number, callback: DriverCallback, options?: TimerOptions): Timer {
    requireNonNegative("schedule a timer", "delayMs", delayMs);
    return this.#create(this.#clock.now() + delayMs, 0, "skip", callback, options, "oneshot");
  }

  /**
   * Runs `callback` once at the absolute time `deadlineMs` of the driver's
   * clock (at once if that is in the past).
   *
   * @param deadlineMs Absolute deadline in milliseconds.
   * @param callback Called with the exact deadline.
   * @param options Lateness class.
   * @returns The timer.
   * @throws {RangeError} when `deadlineMs` is not finite.
   * @throws {TypeError} when `callback` is not a function.
   * @throws {ClosedError} when the driver is closed.
   */
  at(deadlineMs: number, callback: DriverCallback, options?: TimerOptions): Timer {
    return this.#create(deadlineMs, 0, "skip", callback, options, "oneshot");
  }

  /**
   * Runs `callback` every `periodMs`, drift-free: the k-th deadline is
   * `first + k * periodMs`, whatever the lateness of earlier fires.
   *
   * @param periodMs Period in milliseconds, `> 0`.
   * @param callback Called with the exact deadline of each tick.
   * @param options First delay, missed-tick policy and lateness class.
   * @returns The timer.
   * @throws {RangeError} when `periodMs` is not a finite number `> 0`,
   * `delayMs` is negative or not finite, or `startAt` is not finite.
   * @throws {TypeError} when `callback` is not a function, `missedTicks` is
   * unknown, or both `startAt` and `delayMs` are given.
   * @throws {ClosedError} when the driver is closed.
   */
  every(periodMs: number, callback: DriverCallback, options: EveryOptions = {}): Timer {
    const action = "schedule a periodic timer";
    requirePositive(action, "periodMs", periodMs);
    let first: number;
    if (options.startAt !== undefined) {
      if (options.delayMs !== undefined) {
        throw new TypeError(`Cannot ${action} as 'startAt' and 'delayMs' exclude each other`);
      }
      first = requireFinite(action, "startAt", options.startAt);
    } else {
      const delay = options.delayMs === undefined
        ? periodMs
        : requireNonNegative(action, "delayMs", options.delayMs);
      first = this.#clock.now() + delay;
    }
    return this.#create(
      first,
      periodMs,
      options.missedTicks ?? "skip",
      callback,
      options,
      "periodic",
    );
  }

  /**
   * Returns the lateness percentiles (fire time minus deadline) of a class.
   *
   * @param latenessClass The class name, e.g. `"periodic"`.
   * @returns A snapshot in milliseconds (all zero for an unknown class).
   */
  lateness(latenessClass = "periodic"): LatencySnapshot {
    const h = this.#lateness.get(latenessClass);
    return h === undefined ? new LatencyHistogram().snapshot() : h.snapshot();
  }

  /**
   * Returns the names of the lateness classes seen so far.
   *
   * @returns Class names in order of first use.
   */
  latenessClasses(): string[] {
    return [...this.#lateness.keys()];
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
      wakes: { ...this.#wakes, leadMs: this.#leadMs },
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
   * Resolves once no timer is pending (immediately if none is).
   *
   * @returns A promise that resolves when the driver is idle.
   */
  idle(): Promise<void> {
    if (this.#wheel.size === 0) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#idleWaiters.push(resolve);
    return promise;
  }

  /**
   * Cancels every timer and releases real resources (timers, the waker
   * Worker). Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wheel.clear();
    this.#disarm();
    this.#waker?.close();
    this.#waker = undefined;
    this.#detach?.[Symbol.dispose]();
    // Final collection, so scrape-time figures stay true after close.
    this.#metrics?.collect();
    this.#metrics?.collector[Symbol.dispose]();
    this.#notifyIdle();
  }

  /** Same as {@linkcode Driver.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Same as {@linkcode Driver.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  // --- timers --------------------------------------------------------------

  #create(
    deadline: number,
    period: number,
    missedTicks: MissedTickPolicy,
    callback: DriverCallback,
    options: TimerOptions | undefined,
    defaultClass: string,
  ): Timer {
    if (this.#closed) throw new ClosedError("Driver", "schedule a timer");
    requireFunction("schedule a timer", "callback", callback);
    const cls = requireNonEmptyString(
      "schedule a timer",
      "latenessClass",
      options?.latenessClass ?? defaultClass,
    );
    let histogram = this.#lateness.get(cls);
    if (histogram === undefined) {
      histogram = new LatencyHistogram();
      this.#lateness.set(cls, histogram);
      if (this.#metrics !== undefined) {
        this.#classMetrics.set(cls, {
          lateness: this.#metrics.lateness.labels(this.#name, cls),
          fires: this.#metrics.fires.labels(this.#name, cls),
        });
      }
    }
    const timer = new DriverTimer(
      this.#wheel,
      this.#cancelTimer,
      this.#clock,
      histogram,
      callback,
      period,
      cls,
      // On a stepped clock no real-time loop notices idleness: the last fire does.
      this.#virtual ? this.#notifyIdleIfEmpty : undefined,
      this.#classMetrics.get(cls),
    );
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

  #registerMetrics(registry: MetricsRegistry): DriverMetrics {
    const driver = ["driver"];
    const lateness = registry.histogram({
      name: "chronetix_timer_lateness_seconds",
      help: "How late timers fired: fire time minus deadline, by driver and lateness class",
      unit: "seconds",
      labelNames: ["driver", "class"],
      buckets: TIMER_LATENESS_BUCKETS,
    });
    const fires = registry.counter({
      name: "chronetix_timer_fires_total",
      help: "Timer callbacks run, by driver and lateness class",
      labelNames: ["driver", "class"],
    });
    const errors = registry.counter({
      name: "chronetix_timer_callback_errors_total",
      help: "Timer callbacks that threw; the other timers kept running",
      labelNames: driver,
    }).labels(this.#name);
    const skipped = registry.counter({
      name: "chronetix_timer_skipped_ticks_total",
      help: "Periodic ticks skipped after a stall by the skip missed-tick policy",
      labelNames: driver,
    }).labels(this.#name);
    const pending = registry.gauge({
      name: "chronetix_timer_pending",
      help: "Timers scheduled and not yet fired or cancelled",
      labelNames: driver,
    }).labels(this.#name);
    const wakeups = registry.counter({
      name: "chronetix_driver_wakeups_total",
      help: "Wake-ups armed by the driver, by mode (far, near, imminent) and early wake-ups",
      labelNames: ["driver", "mode"],
    });
    const far = wakeups.labels(this.#name, "far");
    const near = wakeups.labels(this.#name, "near");
    const imminent = wakeups.labels(this.#name, "imminent");
    const early = wakeups.labels(this.#name, "early");
    const spin = registry.counter({
      name: "chronetix_driver_spin_seconds_total",
      help: "Time the driver spent spinning on the clock just before deadlines",
      unit: "seconds",
      labelNames: driver,
    }).labels(this.#name);
    const lead = registry.gauge({
      name: "chronetix_driver_lead_seconds",
      help: "Current lead of near wake-ups, adapted to the measured wake-up latency",
      unit: "seconds",
      labelNames: driver,
    }).labels(this.#name);
    const collect = () => {
      const wheel = this.#wheel;
      errors.advanceTo(wheel.callbackErrors);
      skipped.advanceTo(wheel.skippedTicks);
      pending.set(wheel.size);
      const w = this.#wakes;
      far.advanceTo(w.far);
      near.advanceTo(w.near);
      imminent.advanceTo(w.imminent);
      early.advanceTo(w.early);
      spin.advanceTo(w.spinMs / 1000);
      lead.set(this.#leadMs / 1000);
    };
    return { lateness, fires, collect, collector: registry.addCollector(collect) };
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
    const mode = planWake(remaining, this.#tuning, this.#spinMs);
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
    if (this.#armedMode === "near" && this.#nearMeasured) {
      const late = this.#clock.now() - this.#nearTarget;
      // A wake-up far later than the lead allows is an outlier (a GC pause,
      // a busy main thread): count it, clamped, so one cannot pin the lead.
      if (late >= 0) this.#learnLatency(Math.min(late, this.#tuning.nearLeadMaxMs));
    }
    this.#run();
  };

  /** Adds a wake-latency sample and re-derives the lead from the window. */
  #learnLatency(late: number): void {
    this.#latencies[this.#latencyCount % LATENCY_WINDOW] = late;
    this.#latencyCount++;
    const n = Math.min(this.#latencyCount, LATENCY_WINDOW);
    const sorted = this.#scratch.subarray(0, n);
    sorted.set(this.#latencies.subarray(0, n));
    sorted.sort();
    const t = this.#tuning;
    const q = sorted[Math.min(n - 1, Math.floor(t.leadQuantile * n))]!;
    this.#leadMs = Math.min(t.nearLeadMaxMs, Math.max(t.nearLeadMinMs, q + LEAD_MARGIN_MS));
    this.#spinMs = this.#spinFor(this.#leadMs);
  }

  /**
   * Spinning only because the lead is long yields no latency sample, so a
   * lead learnt under load could stay long (and costly) forever: feed the
   * window shrinking samples instead, until near waits resume.
   */
  #decayLead(): void {
    this.#learnLatency(Math.max(0, this.#leadMs - LEAD_MARGIN_MS) * 0.9);
  }

  #spinFor(leadMs: number): number {
    return leadMs === 0 ? this.#tuning.spinMs : Math.max(this.#tuning.spinMs, leadMs + 0.05);
  }

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
    this.#fromWaker = false;
    try {
      for (;;) {
        const now = clock.now();
        if (wheel.advance(now) > 0) firedAny = true;
        const next = wheel.nextDeadline();
        const after = clock.now();
        const remaining = next - after;
        const mode = planWake(remaining, this.#tuning, this.#spinMs);
        if (mode === "due") {
          if (after - started > LOOP_BUDGET_MS) {
            // Yield to the event loop instead of starving it with a burst.
            this.#farTimer = this.#host.setTimeout(this.#run, 0);
            this.#armedMode = "far";
            this.#armedDeadline = next;
            return;
          }
          continue;
        }
        if (mode === "imminent") {
          this.#wakes.imminent++;
          // Spinning only because the lead is long yields no new latency
          // sample, so decay the lead here or it could stay long forever.
          if ((!fromWaker || firedAny) && remaining > this.#tuning.spinMs) this.#decayLead();
          const spinStart = clock.now();
          while (clock.now() < next) { /* spin: the deadline is microseconds away */ }
          this.#wakes.spinMs += clock.now() - spinStart;
          continue;
        }
        if (!firedAny) this.#wakes.early++;
        this.#arm(mode, next, remaining);
        return;
      }
    } finally {
      this.#running = false;
    }
  };

  #arm(mode: WakeMode, deadline: number, remaining: number): void {
    this.#armedMode = mode;
    this.#armedDeadline = deadline;
    if (mode === "idle") {
      this.#becomeIdle();
      return;
    }
    if (mode === "near") {
      this.#waker ??= this.#host.createWaker(this.#onWakerWake);
      if (this.#waker !== undefined) {
        this.#wakes.near++;
        this.#nearTarget = deadline - this.#leadMs;
        // Only a wake-up requested from a running worker says anything about
        // its latency; one requested during start-up is late by the start-up.
        this.#nearMeasured = this.#waker.ready;
        this.#waker.request(this.#nearTarget);
        this.#wakes.wakerStarts = this.#waker.starts ?? 0;
        if (this.#waker.ready) return;
        // The worker is still starting: keep a setTimeout as a fallback.
      }
      this.#farTimer = this.#host.setTimeout(this.#run, Math.max(0, Math.floor(remaining - 1.5)));
      return;
    }
    this.#wakes.far++;
    this.#farTimer = this.#host.setTimeout(this.#run, farDelayMs(remaining, this.#tuning));
  }

  #disarm(): void {
    if (this.#farTimer !== 0) {
      this.#host.clearTimeout(this.#farTimer);
      this.#farTimer = 0;
    }
    if (this.#armedMode === "near") this.#waker?.cancel();
    this.#armedMode = "idle";
    this.#armedDeadline = Infinity;
  }
}

/** The metric families a driver reports into. */
interface DriverMetrics {
  lateness: ReturnType<MetricsRegistry["histogram"]>;
  fires: ReturnType<MetricsRegistry["counter"]>;
  collect: () => void;
  collector: Disposable;
}

/** Handles of one lateness class, resolved once. */
interface ClassMetrics {
  lateness: Histogram;
  fires: Counter;
}

class DriverTimer implements Timer {
  id: TimerId = 0;
  readonly periodMs: number;
  readonly latenessClass: string;
  readonly #wheel: TimerWheel;
  readonly #cancel: (id: TimerId) => boolean;
  readonly #clock: Clock;
  readonly #histogram: LatencyHistogram;
  readonly #callback: DriverCallback;
  readonly #afterFire: (() => void) | undefined;
  readonly #latenessMetric: Histogram | undefined;
  readonly #firesMetric: Counter | undefined;
  #fires = 0;

  constructor(
    wheel: TimerWheel,
    cancel: (id: TimerId) => boolean,
    clock: Clock,
    histogram: LatencyHistogram,
    callback: DriverCallback,
    periodMs: number,
    latenessClass: string,
    afterFire: (() => void) | undefined,
    metrics: ClassMetrics | undefined,
  ) {
    this.#wheel = wheel;
    this.#cancel = cancel;
    this.#clock = clock;
    this.#histogram = histogram;
    this.#callback = callback;
    this.periodMs = periodMs;
    this.latenessClass = latenessClass;
    this.#afterFire = afterFire;
    this.#latenessMetric = metrics?.lateness;
    this.#firesMetric = metrics?.fires;
  }

  get active(): boolean {
    return this.#wheel.has(this.id);
  }

  get deadline(): number {
    return this.#wheel.deadlineOf(this.id);
  }

  get fires(): number {
    return this.#fires;
  }

  fire = (deadline: number): void => {
    const late = this.#clock.now() - deadline;
    this.#histogram.record(late);
    this.#latenessMetric?.observe(late > 0 ? late / 1000 : 0);
    this.#firesMetric?.inc();
    this.#fires++;
    try {
      this.#callback(deadline);
    } finally {
      this.#afterFire?.();
    }
  };

  cancel(): boolean {
    return this.#cancel(this.id);
  }

  [Symbol.dispose](): void {
    this.cancel();
  }
}

function defaultHost(clock: Clock, profile: PrecisionProfile): DriverHost {
  const useWorker = profile !== "efficient" && clock instanceof MonotonicClock;
  return {
    setTimeout: (callback, delayMs) => Number(setTimeout(callback, delayMs)),
    clearTimeout: (id) => clearTimeout(id),
    createWaker: (onWake) => useWorker ? new WorkerWaker(onWake) : undefined,
  };
}
