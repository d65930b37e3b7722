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
export { type Clock, MonotonicClock } from "./clock.ts";
export { SYSTEM_WALL_CLOCK, SystemWallClock, type WallClock } from "./wall_clock.ts";
export {
  MAX_BURST_TICKS,
  MIN_PERIOD_MS,
  type MissedTickPolicy,
  type ScheduleOptions,
  type TimerCallback,
  type TimerId,
  TimerWheel,
  type TimerWheelOptions,
  type TimerWheelStats,
} from "./timer_wheel.ts";
export { LatencyHistogram, type LatencySnapshot } from "./latency_histogram.ts";
export type { PrecisionProfile } from "./precision.ts";
export { Driver } from "./driver.ts";
export type { DriverOptions, DriverStats, DriverWakeStats } from "./driver_types.ts";
export type { DriverCallback, EveryOptions, Timer, TimerOptions } from "./timer.ts";
