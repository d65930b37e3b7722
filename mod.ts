/**
 * Chronetix: a high-precision, time-driven microkernel for Deno.
 *
 * Start a {@linkcode Kernel} and give it tasks: periodic ones run on time,
 * drift-free, earliest deadline first, with budgets and QoS caps; event tasks
 * run once per event on the {@linkcode EventBus}; CPU-heavy jobs go to the
 * {@linkcode OffloadPool}. Timers alone are the {@linkcode Driver}. Frames
 * move with credit backpressure through the {@linkcode DataPort} and, between
 * threads, the shared ring ({@linkcode RingWriter}, {@linkcode RingReader}).
 * Everything reports into a {@linkcode MetricsRegistry} (Prometheus text and
 * OpenMetrics). Test timing logic deterministically with `VirtualClock` from
 * `@chronetix/core/testing`.
 *
 * @example A periodic task and an event task, on a virtual clock
 * ```ts
 * import { Kernel } from "@chronetix/core";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock(); // leave out for real time
 * await using kernel = await Kernel.start({ clock });
 * const readings = kernel.bus.topic<number>("readings");
 * const seen: number[] = [];
 * kernel.periodic({ name: "sampler", periodMs: 10, run: (ctx) => readings.publish(ctx.release) });
 * kernel.onEvent<number>({ name: "filter", topic: "readings", run: (ctx) => void seen.push(ctx.event) });
 * clock.advance(30);
 * assertEquals(seen, [10, 20, 30]); // drift-free: released at exactly 10, 20, 30
 * assertEquals(kernel.executor.task("sampler")?.stats().deadlineMisses, 0);
 * ```
 *
 * @module
 */
export * from "./src/time/mod.ts";
export * from "./src/metrics/mod.ts";
export * from "./src/bus/mod.ts";
export * from "./src/data/mod.ts";
export * from "./src/chan/mod.ts";
export * from "./src/exec/mod.ts";
export * from "./src/schedule/mod.ts";
export * from "./src/island/mod.ts";
export * from "./src/plugin/mod.ts";
export {
  Kernel,
  type KernelChannelOptions,
  type KernelExecutorOptions,
  type KernelIslandOptions,
  type KernelOffloadOptions,
  type KernelOptions,
  type KernelPluginOptions,
  type KernelStats,
  type ShutdownOptions,
  type ShutdownReport,
} from "./src/kernel.ts";
export {
  ChronetixError,
  ClosedError,
  type ErrorRecord,
  OffloadJobError,
  type OffloadJobErrorCode,
  OffloadQueueFullError,
  OffloadTimeoutError,
} from "./src/errors.ts";
export type { Logger } from "./src/logger.ts";
