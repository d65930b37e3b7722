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
export {
  type Clock,
  type ClockTarget,
  Driver,
  type DriverCallback,
  type DriverHost,
  type DriverOptions,
  type DriverStats,
  type DriverWakeStats,
  type EveryOptions,
  farDelayMs,
  isSteppedClock,
  LatenessHistogram,
  type LatenessSnapshot,
  MISSED_TICK_POLICIES,
  type MissedTickPolicy,
  MONOTONIC_CLOCK,
  MonotonicClock,
  planWake,
  PRECISION_PROFILES,
  type PrecisionProfile,
  type PrecisionTuning,
  precisionTuning,
  type ScheduleOptions,
  type SteppedClock,
  type Timer,
  TIMER_LATENESS_BUCKETS,
  type TimerCallback,
  type TimerId,
  type TimerOptions,
  TimerWheel,
  type TimerWheelOptions,
  type TimerWheelStats,
  VirtualClock,
  type WakeMode,
  type Waker,
} from "./src/time/mod.ts";
export {
  BASE_UNITS,
  checkMetricSpec,
  type Counter,
  type CounterFamily,
  DEFAULT_LATENCY_BUCKETS,
  expositionContentType,
  type ExpositionFormat,
  type Gauge,
  type GaugeFamily,
  type Histogram,
  type HistogramFamily,
  type HistogramOptions,
  type MetricFamily,
  type MetricInventoryEntry,
  type MetricOptions,
  type MetricsLogger,
  type MetricSpec,
  MetricsRegistry,
  type MetricsRegistryOptions,
  type MetricType,
  negotiateExpositionFormat,
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
  type Sample,
  SampleBuffer,
} from "./src/metrics/mod.ts";
export {
  type BlockHandle,
  DataPort,
  DATAPORT_CAPABILITY,
  type DataPortCloseReport,
  type DataPortOptions,
  type DataPortStats,
  type FrameCallback,
  type FrameMeta,
  NO_BLOCK,
  type RingCloseReport,
  type RingFrameCallback,
  RingReader,
  type RingStats,
  RingWriter,
  type RingWriterOptions,
  type SharedRingOptions,
  SlabAllocator,
  type SlabAllocatorOptions,
  type SlabAllocatorStats,
  WOULD_BLOCK,
  type WouldBlock,
} from "./src/data/mod.ts";
export {
  type EnqueueOptions,
  EventBus,
  type EventBusOptions,
  type EventBusStats,
  type EventHandler,
  EventScope,
  type SubscribeOptions,
  type Subscription,
  Topic,
  type TopicQueue,
  type TopicStats,
} from "./src/bus/mod.ts";
export {
  BUDGET_TIERS,
  BUDGET_TOPIC,
  type BudgetEvent,
  type BudgetPolicy,
  type BudgetTier,
  BudgetTracker,
  DROP_REASONS,
  type DropReason,
  ERROR_POLICIES,
  type ErrorPolicy,
  type EventTaskOptions,
  Executor,
  type ExecutorOptions,
  type ExecutorStats,
  type OffloadCloseReport,
  OffloadJobError,
  OffloadPool,
  type OffloadPoolOptions,
  OffloadQueueFullError,
  type OffloadStats,
  type OffloadTarget,
  OffloadTimeoutError,
  type OneShotTaskOptions,
  OVERFLOW_POLICIES,
  type OverflowPolicy,
  type PeriodicTaskOptions,
  resolveBudgetPolicy,
  type ResolvedBudgetPolicy,
  type SubmitOptions,
  TASK_STATES,
  type TaskBody,
  type TaskContext,
  type TaskHandle,
  type TaskOffload,
  type TaskOptions,
  type TaskState,
  type TaskStats,
  TimingSlot,
  type TimingSnapshot,
} from "./src/exec/mod.ts";
export {
  Kernel,
  type KernelOptions,
  type KernelStats,
  type ShutdownOptions,
  type ShutdownReport,
} from "./src/kernel.ts";
export { ChronetixError, ClosedError } from "./src/errors.ts";
