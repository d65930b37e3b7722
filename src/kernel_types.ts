// The options, reports and stats of the Kernel (src/kernel.ts), apart so
// the class file holds the class.
import type { Clock } from "./time/clock.ts";
import type { DriverStats } from "./time/driver_types.ts";
import type { PrecisionProfile } from "./time/precision.ts";
import type { EventBusStats } from "./bus/event_bus.ts";
import type { ExecutorOptions } from "./exec/executor.ts";
import type { ExecutorStats } from "./exec/task.ts";
import type { OffloadPoolOptions, OffloadStats } from "./exec/offload_types.ts";
import type { MetricsRegistry } from "./metrics/registry.ts";
import type { DefaultMetricsOptions } from "./metrics/default_metrics.ts";
import type { ChannelOptions } from "./chan/channel_types.ts";
import type { IslandCloseReport, IslandOptions, IslandStats } from "./island/island_types.ts";
import type {
  PluginManagerCloseReport,
  PluginManagerOptions,
  PluginManagerStats,
} from "./plugin/plugin_manager_types.ts";
import type { PluginManifest } from "./plugin/manifest_types.ts";
import type { Logger } from "./logger.ts";

/** Options of {@linkcode Kernel.start}. */
export interface KernelOptions {
  /**
   * The kernel's name: the `driver`, `executor`, `bus` and `pool` label of
   * its metrics, so two kernels can share one registry.
   *
   * @default {"kernel"}
   */
  name?: string;
  /** The clock; pass a `VirtualClock` to run the kernel in tests. @default {MONOTONIC_CLOCK} */
  clock?: Clock;
  /** The driver's precision profile. @default {"balanced"} */
  profile?: PrecisionProfile;
  /** The registry every part reports into. @default {a new MetricsRegistry} */
  metrics?: MetricsRegistry;
  /**
   * Executor options: caps, tick, budget policy, hooks. Pass
   * `hooks: new TaskSink()` (from `@chronetix/core/sovd`) and the
   * diagnostics server reads task liveness and timing from the executor's
   * hooks instead of polling its stats.
   */
  executor?: KernelExecutorOptions;
  /**
   * Offload pool options; the kernel starts a pool only when given, and then
   * {@linkcode Kernel.offload} is typed as present.
   */
  offload?: KernelOffloadOptions;
  /**
   * Plugins to load at start, in order: manifests (objects) or paths / URLs
   * of manifest files. A plugin that fails to load makes `start()` reject,
   * with the kernel shut down.
   */
  plugins?: readonly (PluginManifest | string | URL)[];
  /** Options of the plugin manager (`kernel.plugins`); the kernel supplies its parts. */
  pluginOptions?: KernelPluginOptions;
  /** The bus queue cap. @default {65536} */
  busQueueCap?: number;
  /**
   * Also export the process and runtime metrics (`process_*`, `nodejs_*`,
   * as prom-client's `collectDefaultMetrics`) into `metrics`; `true` for
   * the defaults, or their options. Stopped on shutdown.
   *
   * @default {false}
   */
  defaultMetrics?: boolean | DefaultMetricsOptions;
  /**
   * Where every part the kernel builds reports failed tasks and handlers,
   * replaced workers and warnings. `console` is one.
   *
   * @default {console}
   */
  logger?: Logger;
}

/** The executor options a kernel takes (the kernel supplies the rest). */
export type KernelExecutorOptions = Omit<
  ExecutorOptions,
  "driver" | "clock" | "profile" | "bus" | "offload" | "metrics" | "name" | "logger"
>;

/** The offload pool options a kernel takes (the kernel supplies the rest). */
export type KernelOffloadOptions = Omit<
  OffloadPoolOptions,
  "driver" | "metrics" | "name" | "logger"
>;

/** The plugin manager options a kernel takes (the kernel supplies its parts). */
export type KernelPluginOptions = Omit<
  PluginManagerOptions,
  "driver" | "executor" | "bus" | "metrics" | "logger" | "name"
>;

/** The channel options a kernel takes (the kernel supplies the clock, metrics and logger). */
export type KernelChannelOptions = Omit<ChannelOptions, "clock" | "metrics" | "logger">;

/** The island options a kernel takes (the kernel supplies the driver, metrics and logger). */
export type KernelIslandOptions = Omit<IslandOptions, "driver" | "metrics" | "logger">;

/** Options of {@linkcode Kernel.shutdown}. */
export interface ShutdownOptions {
  /**
   * The grace period: how long waiting runs, running async bodies, queued
   * events and offload jobs get to finish, in ms; what is left is cut off
   * and reported.
   *
   * @default {5000}
   */
  graceMs?: number;
}

/** What a shutdown cut off. */
export interface ShutdownReport {
  /** `true` when everything finished within the grace period. */
  graceful: boolean;
  /** How long the shutdown took, ms (kernel clock). */
  durationMs: number;
  /** Queued bus events delivered during the drain. */
  eventsFlushed: number;
  /** Queued bus events dropped: all of them in an emergency stop; in a graceful one, what handlers kept queueing past the final drain. */
  eventsDropped: number;
  /** Task releases dropped: deferred ones at once, waiting ones when the grace period ends. */
  releasesDropped: number;
  /** Async task bodies still running when the grace period ended (their signals aborted). */
  runsCutOff: number;
  /** Offload jobs that finished during the drain. */
  offloadDrained: number;
  /** Offload jobs rejected when the grace period ended. */
  offloadCutOff: number;
  /**
   * The close reports of the kernel's islands (closed with what was left of
   * the grace period); empty after an emergency stop, which terminates them.
   */
  islands: IslandCloseReport[];
  /**
   * What closing the plugin manager did, each plugin stopped in reverse load
   * order (first, within the grace period); `undefined` after an emergency
   * stop, which kills them.
   */
  plugins: PluginManagerCloseReport | undefined;
}

/** A snapshot of the whole kernel. */
export interface KernelStats {
  /** `running`, `draining` or `stopped`. */
  state: "running" | "draining" | "stopped";
  /** Time since start, ms (kernel clock). */
  uptimeMs: number;
  /** The executor and its tasks. */
  executor: ExecutorStats;
  /** The bus and its topics. */
  bus: EventBusStats;
  /** The driver's wake-ups and wheel. */
  driver: DriverStats;
  /** The offload pool, when there is one. */
  offload: OffloadStats | undefined;
  /** The kernel's islands (`Kernel.island()`), each with its tasks. */
  islands: IslandStats[];
  /** The plugin manager. */
  plugins: PluginManagerStats;
}
