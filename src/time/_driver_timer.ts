import type { Clock } from "./clock.ts";
import type { ClassMetrics } from "./_driver_metrics.ts";
import { LatencyHistogram } from "./latency_histogram.ts";
import type { DriverCallback, Timer } from "./timer.ts";
import type { TimerId, TimerWheel } from "./timer_wheel.ts";

/** What every timer of one driver shares; the driver builds it once. */
export interface TimerOwner {
  /** The driver's wheel. */
  readonly wheel: TimerWheel;
  /** The driver's clock, read once per fire to measure lateness. */
  readonly clock: Clock;
  /** Cancels a timer through the driver (which may then go idle). */
  readonly cancel: (id: TimerId) => boolean;
  /** Called after every fire, when set (on a stepped clock: the idle check). */
  readonly afterFire: (() => void) | undefined;
}

/** One lateness class of a driver: its histogram and metric handles. */
export interface LatenessClass {
  /** The class name. */
  readonly name: string;
  /** Lateness of the class's fires, in milliseconds. */
  readonly histogram: LatencyHistogram;
  /** Its metric handles, when the driver reports metrics. */
  readonly metrics: ClassMetrics | undefined;
}

/**
 * Creates a lateness class with an empty histogram.
 *
 * @param name The class name.
 * @param metrics Its metric handles, if any.
 * @returns The class record.
 *
 * @example A class without metrics
 * ```ts
 * import { latenessClass } from "./_driver_timer.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const cls = latenessClass("loop", undefined);
 * assertEquals([cls.name, cls.histogram.count, cls.metrics], ["loop", 0, undefined]);
 * ```
 */
export function latenessClass(name: string, metrics: ClassMetrics | undefined): LatenessClass {
  return { name, histogram: new LatencyHistogram(), metrics };
}

/**
 * The `Timer` handle a driver returns, and the callback its wheel fires. The
 * constructor copies what `fire` needs out of the shared records into
 * fields of its own, so a fire reads no further than the timer.
 *
 * @example A timer on a bare wheel
 * ```ts
 * import { DriverTimer, latenessClass } from "./_driver_timer.ts";
 * import { TimerWheel } from "./timer_wheel.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const wheel = new TimerWheel();
 * let now = 0;
 * const owner = { wheel, clock: { now: () => now }, cancel: (id: number) => wheel.cancel(id), afterFire: undefined };
 * const cls = latenessClass("oneshot", undefined);
 * const seen: number[] = [];
 * const timer = new DriverTimer(owner, cls, (deadline) => void seen.push(deadline), 0);
 * timer.id = wheel.schedule(2, timer.fire);
 * now = 2.5;
 * wheel.advance(now);
 * assertEquals([seen, timer.fires, cls.histogram.snapshot().max], [[2], 1, 0.5]);
 * assertEquals(timer.active, false);
 * ```
 */
export class DriverTimer implements Timer {
  /** The wheel id, set by the driver right after scheduling. */
  id: TimerId = 0;
  /** The period in milliseconds, or `0` for a one-shot timer. */
  readonly periodMs: number;
  /** The lateness class it records into. */
  readonly latenessClass: string;
  readonly #wheel: TimerWheel;
  readonly #cancel: (id: TimerId) => boolean;
  readonly #clock: Clock;
  readonly #histogram: LatencyHistogram;
  readonly #callback: DriverCallback;
  readonly #afterFire: (() => void) | undefined;
  readonly #latenessMetric: ClassMetrics["lateness"] | undefined;
  readonly #firesMetric: ClassMetrics["fires"] | undefined;
  #fires = 0;

  /**
   * Creates an unscheduled timer.
   *
   * @param owner The driver's shared parts.
   * @param cls The lateness class it records into.
   * @param callback Called with the deadline of each fire.
   * @param periodMs The period, or `0` for a one-shot timer.
   */
  constructor(
    owner: TimerOwner,
    cls: LatenessClass,
    callback: DriverCallback,
    periodMs: number,
  ) {
    this.#wheel = owner.wheel;
    this.#cancel = owner.cancel;
    this.#clock = owner.clock;
    this.#afterFire = owner.afterFire;
    this.#histogram = cls.histogram;
    this.#latenessMetric = cls.metrics?.lateness;
    this.#firesMetric = cls.metrics?.fires;
    this.latenessClass = cls.name;
    this.#callback = callback;
    this.periodMs = periodMs;
  }

  /** Whether it is still pending. */
  get active(): boolean {
    return this.#wheel.has(this.id);
  }

  /** Its next deadline in milliseconds, or `NaN` once inactive. */
  get deadline(): number {
    return this.#wheel.deadlineOf(this.id);
  }

  /** How many times it has fired (counted once its callback returns). */
  get fires(): number {
    return this.#fires;
  }

  /**
   * The wheel callback: reads the lateness, runs the user's callback and
   * returns what it returned (so the wheel sees a promise that rejects),
   * then records the lateness and counts the fire.
   */
  fire = (deadline: number): unknown => {
    const late = this.#clock.now() - deadline;
    // The callback first: the bookkeeping below, slow on cold caches, is
    // not paid in its lateness.
    try {
      return this.#callback(deadline);
    } finally {
      this.#histogram.record(late);
      this.#latenessMetric?.observe(late > 0 ? late / 1000 : 0);
      this.#firesMetric?.inc();
      this.#fires++;
      this.#afterFire?.();
    }
  };

  /**
   * Cancels it; cancelling twice is a no-op.
   *
   * @returns `true` when it was pending.
   */
  cancel(): boolean {
    return this.#cancel(this.id);
  }

  /** Same as {@linkcode DriverTimer.cancel}. */
  [Symbol.dispose](): void {
    this.cancel();
  }
}
