/**
 * The real-time island: periodic tasks on a dedicated thread with its own
 * scheduling ({@linkcode Island}, `Kernel.island()`), read from the main
 * thread through shared memory, with data in and out through
 * {@linkcode SharedValues} blocks and shared rings.
 *
 * @example A block of latest values between threads
 * ```ts
 * import { SharedValues } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const setpoint = new SharedValues({ fields: ["x", "y"] });
 * setpoint.write({ x: 1, y: 2 });
 * // In an island: new SharedValues({ fields: ["x", "y"], buffer: setpoint.buffer })
 * assertEquals(setpoint.read(), { x: 1, y: 2 });
 * ```
 *
 * @module
 */
export {
  DEFAULT_LEAD_US,
  DEFAULT_REALTIME_LEAD_US,
  DEFAULT_REALTIME_PRIORITY,
  Island,
} from "./island.ts";
export { IslandError, type IslandErrorCode } from "./island_error.ts";
export type {
  IslandCloseOptions,
  IslandCloseReport,
  IslandContext,
  IslandOptions,
  IslandRestartOptions,
  IslandScheduling,
  IslandSchedulingState,
  IslandState,
  IslandStats,
  IslandTaskContext,
  IslandTaskOptions,
} from "./island_types.ts";
export { SharedValues, type SharedValuesOptions } from "./shared_values.ts";
