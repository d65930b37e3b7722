/**
 * Chronetix: a high-precision, time-driven microkernel for Deno.
 *
 * Run periodic and one-shot work on time with the {@linkcode Driver}: a
 * hierarchical {@linkcode TimerWheel} plus adaptive wake-ups that reach tens
 * of microseconds of lateness, drift-free periods and per-class lateness
 * histograms. Report it with the {@linkcode MetricsRegistry} (Prometheus
 * text and OpenMetrics, cardinality limits). Test timing logic
 * deterministically with `VirtualClock` from `@chronetix/core/testing`.
 * Move high-rate frames with the {@linkcode DataPort} (credit backpressure,
 * slab memory) and, between threads, the shared ring ({@linkcode RingWriter},
 * {@linkcode RingReader}).
 *
 * @example A drift-free periodic timer
 * ```ts
 * import { Driver } from "@chronetix/core";
 * import { assert } from "@std/assert";
 *
 * await using driver = new Driver({ profile: "balanced" });
 * let ticks = 0;
 * const { promise, resolve } = Promise.withResolvers<void>();
 * const timer = driver.every(2, () => {
 *   if (++ticks === 10) resolve();
 * });
 * await promise;
 * timer.cancel();
 * assert(driver.lateness("periodic").p50 < 50);
 * ```
 *
 * @module
 */
export * from "./src/time/mod.ts";
export * from "./src/metrics/mod.ts";
export * from "./src/bus/mod.ts";
export * from "./src/data/mod.ts";
export * from "./src/exec/mod.ts";
export {
  Kernel,
  type KernelOptions,
  type KernelStats,
  type ShutdownOptions,
  type ShutdownReport,
} from "./src/kernel.ts";
export { ChronetixError, ClosedError } from "./src/errors.ts";
export type { Logger } from "./src/logger.ts";
