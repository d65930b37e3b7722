// The types of a `chronetix run` config file: what an operator writes
// (ChronetixConfig, the shape of schema/chronetix.config.schema.json) and what
// loadConfig() hands back (LoadedConfig: validated, manifests resolved).

import type { PrecisionProfile } from "../time/precision.ts";
import type { MissedTickPolicy } from "../time/timer_wheel.ts";
import type { ErrorPolicy, OverflowPolicy } from "../exec/task.ts";
import type { BudgetPolicy } from "../exec/budget.ts";
import type { PluginManifest, ResolvedManifest } from "../plugin/manifest_types.ts";
import type { IslandScheduling, IslandTaskOptions } from "../island/island_types.ts";

/** The executor options a config can carry (plain data). */
export interface ExecutorConfig {
  /** Most releases waiting to run across tasks. */
  maxRunnable?: number;
  /** Most deferred releases. */
  deferCap?: number;
  /** The executor's tick. @default {"adaptive"} */
  tick?: "adaptive" | { fixedMs: number };
  /** Thresholds and cooldown of the budget tiers. */
  budget?: BudgetPolicy;
}

/** The offload pool options a config can carry; job modules are paths relative to the config. */
export interface OffloadConfig {
  /** Job name to module path. */
  jobs: Record<string, string>;
  /** Workers kept alive when idle. */
  minWorkers?: number;
  /** Most workers. */
  maxWorkers?: number;
  /** An idle worker above `minWorkers` ends after this long, ms. */
  idleTimeoutMs?: number;
  /** Most queued jobs. */
  queueCap?: number;
  /** A job running longer fails, ms. */
  timeoutMs?: number;
  /** Jobs per message to a worker. */
  batch?: number;
  /** The job workers' permissions. @default {"inherit"} */
  permissions?: "inherit" | "none" | Deno.PermissionOptionsObject;
  /** Limits of each job worker. */
  resourceLimits?: { maxHeapMb?: number };
}

/** `kernel`: the `Kernel.start` options JSON can carry. */
export interface KernelConfig {
  /** The kernel's name (the label of its metrics). @default {"kernel"} */
  name?: string;
  /** The driver's precision profile. @default {"balanced"} */
  profile?: PrecisionProfile;
  /** The bus queue cap. @default {65536} */
  busQueueCap?: number;
  /** Also export process and runtime metrics. @default {false} */
  defaultMetrics?: boolean;
  /** Executor options. */
  executor?: ExecutorConfig;
  /** Starts an offload pool with these jobs. */
  offload?: OffloadConfig;
}

/** What every kind of config task takes. */
export interface TaskConfigBase {
  /** The task's name, unique in the config. */
  name: string;
  /** The module that exports the body, relative to the config file. */
  module: string;
  /** The export that is the body. @default {the task's name} */
  export?: string;
  /** Relative deadline, ms. */
  deadlineMs?: number;
  /** Budget per run, ms. */
  budgetMs?: number;
  /** Breaks deadline ties. @default {0} */
  priority?: number;
  /** Releases that may wait. @default {2} */
  queueCap?: number;
  /** What happens to a release over the cap. @default {"drop-oldest"} */
  overflow?: OverflowPolicy;
  /** What a run that throws does. @default {"continue"} */
  onError?: ErrorPolicy;
  /** Retries with `onError: "retry"`. @default {3} */
  maxRetries?: number;
}

/** A periodic task (`kernel.periodic()`). */
export interface PeriodicTaskConfig extends TaskConfigBase {
  /** The kind. */
  kind: "periodic";
  /** The period, ms. */
  periodMs: number;
  /** Delay before the first release, ms. @default {periodMs} */
  delayMs?: number;
  /** Releases missed in a stall. @default {"skip"} */
  missedTicks?: MissedTickPolicy;
}

/** An event task (`kernel.onEvent()`): one run per event on `topic`. */
export interface EventTaskConfig extends TaskConfigBase {
  /** The kind. */
  kind: "event";
  /** The bus topic. */
  topic: string;
}

/** A cron task (`kernel.cron()`). */
export interface CronTaskConfig extends TaskConfigBase {
  /** The kind. */
  kind: "cron";
  /** The cron expression. */
  cron: string;
  /** The IANA time zone. @default {the process's} */
  timezone?: string;
  /** Longest sleep without reading the wall clock, ms. @default {30000} */
  checkMs?: number;
  /** A fire later than this is skipped, ms. @default {Infinity} */
  maxLateMs?: number;
}

/** One entry of `tasks`. */
export type TaskConfig = PeriodicTaskConfig | EventTaskConfig | CronTaskConfig;

/** One periodic task of an island (its body: the module's export of the same name): its options are all JSON. */
export type IslandTaskConfig = IslandTaskOptions;

/** One entry of `islands`: `kernel.island()` options JSON can carry. */
export interface IslandConfig {
  /** The island's name. @default {"island"} */
  name?: string;
  /** The task module, relative to the config file. */
  module: string;
  /** Its periodic tasks. */
  tasks: IslandTaskConfig[];
  /** Fields of the shared value blocks. */
  values?: { in?: string[]; out?: string[] };
  /** Frame rings. */
  rings?: {
    in?: { slots?: number; slotSize?: number; livenessTimeoutMs?: number };
    out?: { slots?: number; slotSize?: number; livenessTimeoutMs?: number };
  };
  /** The least spin lead, µs. */
  leadUs?: number;
  /** The most the lead may grow to, µs. */
  maxLeadUs?: number;
  /** Nice value of the island's thread. */
  priority?: number;
  /** How the OS schedules the island's thread: SCHED_FIFO when it may (`"auto"`), always (`"realtime"`), never (`"normal"`). */
  scheduling?: IslandScheduling;
  /** SCHED_FIFO priority, 1-99. */
  realtimePriority?: number;
  /** A run longer than this declares the island hung, ms. */
  hangMs?: number;
  /** Time to load and `init()`, ms. */
  startTimeoutMs?: number;
  /** Budget tiers. */
  budget?: BudgetPolicy;
  /** What happens after a crash. */
  restart?: { policy?: "never" | "on-failure"; maxRestarts?: number; backoffMs?: number };
  /** Heap cap of the thread, MB. */
  maxHeapMb?: number;
}

/** One entry of `dataPorts`: a DataPort offered to both plugins under `name`. */
export interface DataPortConfig {
  /** The port's name (what the plugins pass to `ctx.dataPort()`). */
  name: string;
  /** The plugin that sends. */
  producer: string;
  /** The plugin that receives. */
  consumer: string;
  /** Frames in flight. @default {1024} */
  credit?: number;
  /** Writable again above this credit. @default {credit / 4} */
  lowWatermark?: number;
}

/** `server`: the diagnostics server's options JSON can carry. */
export interface ServerConfig {
  /** The address to bind. @default {"127.0.0.1"} */
  hostname?: string;
  /** The port; 0 picks a free one. @default {8080} */
  port?: number;
  /** Bearer token for writes (and reads with `authenticateReads`). */
  token?: string;
  /** Ask the token for reads too. */
  authenticateReads?: boolean;
  /** Allowed CORS origins. */
  cors?: string[];
  /** Path prefix of every route. */
  basePath?: string;
  /** Largest request body, bytes. */
  bodyLimitBytes?: number;
  /** Log entries kept. */
  logEntries?: number;
  /** How long a /metrics rendering is reused, ms. */
  metricsMaxAgeMs?: number;
  /** The server's name in log lines. @default {"diagnostics"} */
  name?: string;
  /** The fault monitor: how often detectors run, when faults heal, events kept. */
  faults?: { evaluateEveryMs?: number; healAfterMs?: number; logCapacity?: number };
  /** The SSE fault streams' limits. */
  stream?: {
    keepAliveMs?: number;
    maxPerClient?: number;
    maxStreams?: number;
    maxQueuedFrames?: number;
  };
  /** Serve the dashboard at `/` (under `basePath`). @default {true} */
  dashboard?: boolean;
}

/** A config file of `chronetix run` (schema/chronetix.config.schema.json). */
export interface ChronetixConfig {
  /** The schema, for editors. */
  $schema?: string;
  /** Kernel options. */
  kernel?: KernelConfig;
  /** Tasks whose bodies are module exports. */
  tasks?: TaskConfig[];
  /** Real-time islands. */
  islands?: IslandConfig[];
  /** Plugins: manifest file paths or manifest objects. */
  plugins?: (string | PluginManifest)[];
  /** Data ports between plugins. */
  dataPorts?: DataPortConfig[];
  /** Script modules called with a `ScriptContext`. */
  scripts?: string[];
  /** The diagnostics server; left out, none runs. */
  server?: ServerConfig;
  /** The live status table. */
  status?: { table?: boolean; intervalMs?: number };
  /** The graceful shutdown. */
  shutdown?: { graceMs?: number };
  /** Hot reload of every plugin. @default {false} */
  watch?: boolean;
}

/** A validated config: the value as written, with its file and every manifest resolved. */
export interface LoadedConfig {
  /** The config as written (validated). */
  readonly config: ChronetixConfig;
  /** The config file (or the URL relative paths were resolved against). */
  readonly url: URL;
  /** Each entry of `plugins`, resolved, in order. */
  readonly plugins: readonly ResolvedManifest[];
}
