/**
 * Helpers for testing code built on Chronetix deterministically: the
 * {@linkcode VirtualClock}, whose `advance(ms)` fires due timers in order
 * without real time passing, and the seams a test injects into a `Driver`
 * ({@linkcode DriverHost}, {@linkcode Waker}) to check its decisions without
 * real timers or Workers.
 *
 * @example Testing a periodic task without sleeping
 * ```ts
 * import { Driver } from "@chronetix/core";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * using driver = new Driver({ clock });
 * let count = 0;
 * driver.every(10, () => count++);
 * clock.advance(1000);
 * assertEquals(count, 100);
 * ```
 *
 * @module
 */
export { type RunUntilIdleOptions, VirtualClock } from "./src/time/virtual_clock.ts";
export { VirtualWallClock } from "./src/time/virtual_wall_clock.ts";
export type { ClockTarget, SteppedClock } from "./src/time/clock.ts";
export type { DriverHost, Waker } from "./src/time/driver_host.ts";
