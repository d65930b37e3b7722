// The public types of the PluginManager: its options, reports and snapshots.

import type { Driver } from "../time/driver.ts";
import type { EventBus } from "../bus/event_bus.ts";
import type { Executor } from "../exec/executor.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import type { DataPort } from "../data/data_port.ts";
import type { ErrorRecord } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { PluginStateSnapshot } from "./author.ts";
import type { PluginIsolation, ResolvedManifest } from "./manifest_types.ts";
import type { PluginHostFactory, PluginHostStats, PluginMetricLimits } from "./host.ts";
import type { LifecycleState, LifecycleStats, PluginState, SteppingPhase } from "./lifecycle.ts";
import type { SupervisorStats } from "./supervisor.ts";
import type { TelemetryRingOptions, TelemetryRingStats } from "./telemetry_ring.ts";
import type { HotReloadStats } from "./hot_reload_types.ts";
import type { ResourceRegistryStats } from "./resource_registry.ts";

/** A give-up the supervisor escalates to the kernel (policy `escalate: true`). */
export interface PluginEscalation {
  /** The plugin. */
  plugin: string;
  /** Why the supervisor gave up. */
  reason: string;
  /** The last failure. */
  error: ErrorRecord | undefined;
  /** When, ms (driver clock). */
  atMs: number;
}

/** Options of a {@linkcode PluginManager}: the kernel's parts and the manager's policies. */
export interface PluginManagerOptions {
  /** The kernel's driver: restart timers, phase budgets. */
  driver: Driver;
  /** The kernel's executor: inline plugins' tasks run on it. */
  executor: Executor;
  /** The kernel's bus. */
  bus: EventBus;
  /** The registry `chronetix_plugin_*` (and plugins' own metrics) go into. @default {a new registry} */
  metrics?: MetricsRegistry;
  /** Where failures, give-ups and warnings are logged. @default {CONSOLE_LOGGER} */
  logger?: Logger;
  /** The manager's name: the `manager` label of its metrics. @default {"plugins"} */
  name?: string;
  /** The supervisor's random source for jitter, values in [0, 1). @default {mulberry32(seed)} */
  random?: () => number;
  /** The seed of the default random source. @default {0x5eed} */
  seed?: number;
  /** Options of the telemetry ring (capacity, filters). */
  telemetry?: Omit<TelemetryRingOptions, "clock" | "metrics" | "name">;
  /**
   * Fresh imports the inline host may make over the process's life (each
   * leaks the old module, about 85 KiB for a 16 KB module).
   *
   * @default {100}
   */
  maxInlineReloads?: number;
  /**
   * Restart an inline plugin from a fresh import of its entry (module state
   * starts over; counts against `maxInlineReloads`) instead of re-using the
   * module imported before.
   *
   * @default {false}
   */
  freshRestarts?: boolean;
  /** Offers data ports to plugins (with capability `dataport`) by name. */
  dataPorts?: (plugin: string, name: string) => DataPort | undefined;
  /** Called when the supervisor gives up on a plugin whose policy escalates. */
  onEscalate?: (escalation: PluginEscalation) => void;
  /** Host factories by isolation level; `inline` is built in. */
  hosts?: Partial<Record<PluginIsolation, PluginHostFactory>>;
  /** Limits on plugins' own metrics. @default {{ maxFamilies: 32, hardLimit: 100, softLimit: 50 }} */
  pluginMetrics?: Partial<PluginMetricLimits>;
}

/** Options of {@linkcode PluginManager.load}. */
export interface PluginLoadOptions {
  /** State to hand to the plugin before it starts (`importState`, `ctx.state`). */
  state?: PluginStateSnapshot;
  /** What a manifest object's relative paths resolve against. @default {the working folder} */
  baseUrl?: URL;
}

/** Options of {@linkcode PluginManager.restart}. */
export interface PluginRestartOptions {
  /** Hand the running instance's `exportState()` to the new one. @default {false} */
  keepState?: boolean;
}

/** Options of {@linkcode PluginManager.unload} and {@linkcode PluginManager.close}. */
export interface PluginStopOptions {
  /** How long stopping and shutting down may take in all, ms; then the plugin is killed. @default {the manifest's stopTimeoutMs} */
  graceMs?: number;
}

/** What one plugin looks like now. */
export interface PluginInfo {
  /** Its name. */
  name: string;
  /** Its version. */
  version: string;
  /** Where it runs. */
  isolation: PluginIsolation;
  /** Its lifecycle state. */
  state: LifecycleState;
  /** The phase in progress, if one is. */
  phase: SteppingPhase | undefined;
  /** Restarts the supervisor scheduled. */
  restarts: number;
  /** Times the supervisor gave up. */
  giveUps: number;
  /** Instances killed. */
  kills: number;
  /** Killed instances whose code may still run. */
  zombies: number;
  /** When a scheduled restart fires, ms, or `undefined`. */
  restartAtMs: number | undefined;
  /** The last failure. */
  lastError: ErrorRecord | undefined;
  /** Timing and counts per phase. */
  lifecycle: LifecycleStats;
  /** Calls into its code, all instances. */
  calls: number;
  /** The current instance's counters. */
  host: PluginHostStats | undefined;
  /** Its manifest. */
  manifest: ResolvedManifest;
}

/** How one plugin was stopped and unloaded. */
export interface PluginStopReport {
  /** The plugin. */
  name: string;
  /** `true` when it stopped and shut down within its budget. */
  graceful: boolean;
  /** The state it ended in. */
  state: LifecycleState;
  /** How long it took, ms. */
  durationMs: number;
  /** Whether it had to be killed. */
  killed: boolean;
  /** Whether the kill left code that may still run. */
  zombie: boolean;
  /** What failed, if something did. */
  error: ErrorRecord | undefined;
}

/** What {@linkcode PluginManager.close} did, plugin by plugin (reverse load order). */
export interface PluginManagerCloseReport {
  /** `true` when every plugin stopped gracefully. */
  graceful: boolean;
  /** How long it took, ms. */
  durationMs: number;
  /** Each plugin, in the order stopped. */
  plugins: PluginStopReport[];
}

/** A snapshot of a {@linkcode PluginManager}. */
export interface PluginManagerStats {
  /** The manager's name. */
  name: string;
  /** Plugins loaded. */
  plugins: number;
  /** Plugins in each state. */
  byState: Record<PluginState, number>;
  /** Restarts scheduled, give-ups, auto-unloads, escalations, kills, zombies, all plugins. */
  restarts: number;
  /** Give-ups. */
  giveUps: number;
  /** Plugins unloaded by policy. */
  autoUnloads: number;
  /** Give-ups escalated. */
  escalations: number;
  /** Instances killed. */
  kills: number;
  /** Killed instances whose code may still run. */
  zombies: number;
  /** Fresh inline imports so far and the cap. */
  inlineReloads: { total: number; max: number; refused: number };
  /** The supervisor. */
  supervisor: SupervisorStats;
  /** The telemetry ring. */
  telemetry: TelemetryRingStats;
  /** Hot reloads: switches, failures, leaks, timeouts, force-separations, rollbacks. */
  hotReload: HotReloadStats;
  /** What plugin instances hold now (the resource registry). */
  resources: ResourceRegistryStats;
}
