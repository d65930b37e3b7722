// The hot-reload metrics of a plugin manager, `chronetix_hotreload_*`, with
// the Rust prototype's meaning: stats-fed counters and gauges (label
// `manager`), the switch-duration histogram and the active version per
// plugin (label `plugin`, `version`).

import type { GaugeFamily, HistogramFamily } from "../metrics/families.ts";
import { type MetricsRegistry, registerAtomically } from "../metrics/registry.ts";
import { exportStats, type StatMetric } from "../metrics/export_stats.ts";
import type { HotReloadStats } from "./hot_reload_types.ts";

const COUNTERS: readonly [keyof HotReloadStats, string, string][] = [
  ["switches", "chronetix_hotreload_switches_total", "Hot switches attempted"],
  [
    "success",
    "chronetix_hotreload_switch_success_total",
    "Hot switches that ended with the new version running",
  ],
  [
    "failed",
    "chronetix_hotreload_switch_failed_total",
    "Hot switches that failed (the old version kept running)",
  ],
  [
    "deactivateLeaks",
    "chronetix_hotreload_deactivate_leaks_total",
    "Resources an old instance still held when it was verified after a switch",
  ],
  [
    "deactivateSlow",
    "chronetix_hotreload_deactivate_slow_total",
    "Old instances whose deactivation (quiesce to kill) took longer than quiescentTimeoutMs",
  ],
  [
    "verifyFailed",
    "chronetix_hotreload_verify_failed_total",
    "Verifications that found resources of the old instance still registered",
  ],
  [
    "resourceCheckFailed",
    "chronetix_hotreload_resource_check_failed_total",
    "Resource-check rounds that did not pass while an old instance quiesced",
  ],
  [
    "quiescentTimeouts",
    "chronetix_hotreload_quiescent_timeouts_total",
    "Old instances that did not quiesce within quiescentTimeoutMs",
  ],
  [
    "forceSeparateInvoked",
    "chronetix_hotreload_force_separate_invoked_total",
    "Force-separations of an old instance (unsubscribe, close ports, cancel timers)",
  ],
  [
    "forceSeparateFailed",
    "chronetix_hotreload_force_separate_failed_total",
    "Force-separations after which the resource checks still failed",
  ],
  [
    "rollbacks",
    "chronetix_hotreload_rollbacks_total",
    "Rollbacks to the previous version in probation",
  ],
  [
    "bufferOverflows",
    "chronetix_hotreload_buffer_overflows_total",
    "Switches given up because more than maxBuffered events arrived while routing was gated",
  ],
];

const METRICS: readonly StatMetric<HotReloadStats>[] = [
  ...COUNTERS.map(([key, name, help]): StatMetric<HotReloadStats> => ({
    name,
    help,
    type: "counter",
    value: (s) => s[key] as number,
  })),
  {
    name: "chronetix_hotreload_last_switch_duration_seconds",
    help: "The last hot switch's duration, from the start of the reload to the old instance ended",
    type: "gauge",
    value: (s) => (Number.isNaN(s.lastSwitchMs) ? 0 : s.lastSwitchMs / 1000),
  },
];

/** The handles the manager observes and sets. */
export interface ReloadMetrics {
  /** `chronetix_hotreload_switch_duration_seconds{manager, plugin}`. */
  duration: HistogramFamily;
  /** `chronetix_hotreload_active_version{manager, plugin, version}`: 1 for the version running. */
  activeVersion: GaugeFamily;
  dispose(): void;
}

/** Registers the hot-reload metrics of a manager. */
export function registerReloadMetrics(
  registry: MetricsRegistry,
  manager: string,
  stats: () => HotReloadStats,
): ReloadMetrics {
  return registerAtomically(registry, () => {
    const duration = registry.histogram({
      name: "chronetix_hotreload_switch_duration_seconds",
      help: "Hot switch durations, from the start of the reload to the old instance ended",
      unit: "seconds",
      labelNames: ["manager", "plugin"],
    });
    const activeVersion = registry.gauge({
      name: "chronetix_hotreload_active_version",
      help: "1 for the version of each plugin that runs now, 0 for versions it ran before",
      labelNames: ["manager", "plugin", "version"],
    });
    const whole = exportStats(registry, stats, METRICS, { labels: { manager } });
    return {
      duration,
      activeVersion,
      dispose() {
        whole[Symbol.dispose]();
      },
    };
  });
}
