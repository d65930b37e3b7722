/**
 * The time core: clocks, the hierarchical timing wheel, lateness histograms
 * and the precise driver.
 *
 * @example A drift-free periodic timer on the virtual clock
 * ```ts
 * import { Driver } from "@chronetix/core";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * using driver = new Driver({ clock });
 * const deadlines: number[] = [];
 * driver.every(0.5, (deadline) => deadlines.push(deadline));
 * clock.advance(2);
 * assertEquals(deadlines, [0.5, 1, 1.5, 2]);
 * ```
 *
 * @module
 */
export {
  type Clock,
  type ClockTarget,
  isSteppedClock,
  MONOTONIC_CLOCK,
  MonotonicClock,
  type SteppedClock,
} from "./clock.ts";
export { type RunUntilIdleOptions, VirtualClock } from "./virtual_clock.ts";
export {
  MISSED_TICK_POLICIES,
  type MissedTickPolicy,
  type ScheduleOptions,
  type TimerCallback,
  type TimerId,
  TimerWheel,
  type TimerWheelOptions,
  type TimerWheelStats,
} from "./timer_wheel.ts";
export { LatenessHistogram, type LatenessSnapshot } from "./lateness_histogram.ts";
export {
  farDelayMs,
  planWake,
  PRECISION_PROFILES,
  type PrecisionProfile,
  type PrecisionTuning,
  precisionTuning,
  type WakeMode,
} from "./precision.ts";
export type { DriverHost, Waker } from "./driver_host.ts";
export {
  Driver,
  type DriverCallback,
  type DriverOptions,
  type DriverStats,
  type DriverWakeStats,
  type EveryOptions,
  type Timer,
  TIMER_LATENESS_BUCKETS,
  type TimerOptions,
} from "./driver.ts";
