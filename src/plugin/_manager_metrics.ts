// The plugin manager's metrics: per plugin (label `plugin`) from its info,
// manager-wide from its stats, and the phase-time histograms observed on
// every transition. Collectors read snapshots at scrape time; the lifecycle
// path only observes a histogram handle.

import type { Histogram, HistogramFamily } from "../metrics/families.ts";
import { type MetricsRegistry, registerAtomically } from "../metrics/registry.ts";
import { exportKeyedStats, exportStats, type StatMetric } from "../metrics/export_stats.ts";
import { PLUGIN_PHASES, PLUGIN_STATES, type PluginPhase, type PluginState } from "./lifecycle.ts";

/** The per-plugin figures the metrics read. */
export interface PluginFigures {
  name: string;
  up: number;
  transitions: number;
  failuresByPhase: Record<PluginPhase, number>;
  restarts: number;
  giveUps: number;
  kills: number;
  zombies: number;
  calls: number;
}

/** The manager-wide figures the metrics read. */
export interface ManagerFigures {
  byState: Record<PluginState, number>;
  autoUnloads: number;
  escalations: number;
  inlineReloads: number;
  zombies: number;
}

const PER_PLUGIN: readonly StatMetric<PluginFigures>[] = [
  {
    name: "chronetix_plugin_up",
    help: "1 while the plugin is started, else 0",
    type: "gauge",
    value: (s) => s.up,
  },
  {
    name: "chronetix_plugin_transitions_total",
    help: "Lifecycle state changes of the plugin",
    type: "counter",
    value: (s) => s.transitions,
  },
  ...PLUGIN_PHASES.map((phase): StatMetric<PluginFigures> => ({
    name: "chronetix_plugin_failures_total",
    help: "Plugin failures by the lifecycle phase they happened in (run: while running)",
    type: "counter",
    labels: { phase },
    value: (s) => s.failuresByPhase[phase],
  })),
  {
    name: "chronetix_plugin_restarts_total",
    help: "Restarts the supervisor scheduled for the plugin",
    type: "counter",
    value: (s) => s.restarts,
  },
  {
    name: "chronetix_plugin_give_ups_total",
    help: "Times the supervisor gave up on the plugin (restart intensity spent)",
    type: "counter",
    value: (s) => s.giveUps,
  },
  {
    name: "chronetix_plugin_kills_total",
    help: "Plugin instances killed (failed, hung, or past their stop budget)",
    type: "counter",
    value: (s) => s.kills,
  },
  {
    name: "chronetix_plugin_zombies_total",
    help:
      "Killed plugin instances whose code may still run (a pending hook or a thread Deno cannot stop)",
    type: "counter",
    value: (s) => s.zombies,
  },
  {
    name: "chronetix_plugin_calls_total",
    help: "Calls into the plugin's code: lifecycle hooks, task runs and handler calls",
    type: "counter",
    value: (s) => s.calls,
  },
];

const MANAGER: readonly StatMetric<ManagerFigures>[] = [
  ...PLUGIN_STATES.map((state): StatMetric<ManagerFigures> => ({
    name: "chronetix_plugin_states",
    help: "Plugins in each lifecycle state",
    type: "gauge",
    labels: { state },
    value: (s) => s.byState[state],
  })),
  {
    name: "chronetix_plugin_auto_unloads_total",
    help: "Plugins unloaded by the supervisor's policy (autoUnloadFailed)",
    type: "counter",
    value: (s) => s.autoUnloads,
  },
  {
    name: "chronetix_plugin_escalations_total",
    help: "Give-ups escalated to the kernel",
    type: "counter",
    value: (s) => s.escalations,
  },
  {
    name: "chronetix_plugin_inline_reloads_total",
    help:
      "Fresh imports of inline plugin entries; each leaks the old module until the process ends",
    type: "counter",
    value: (s) => s.inlineReloads,
  },
];

/** Registers the manager's metrics; disposing runs a final collect and stops collecting. */
export function registerManagerMetrics(
  registry: MetricsRegistry,
  manager: string,
  plugins: () => Iterable<PluginFigures>,
  figures: () => ManagerFigures,
): { phaseHistogram: HistogramFamily; dispose(): void } {
  const labels = { labels: { manager } };
  return registerAtomically(registry, () => {
    const phaseHistogram = registry.histogram({
      name: "chronetix_plugin_phase_duration_seconds",
      help: "Time each plugin lifecycle phase took (run: time running before a failure)",
      unit: "seconds",
      labelNames: ["manager", "plugin", "phase"],
    });
    const perPlugin = exportKeyedStats(
      registry,
      plugins,
      {
        label: "plugin",
        of: (p) => p.name,
      },
      PER_PLUGIN,
      labels,
    );
    let whole: Disposable;
    try {
      whole = exportStats(registry, figures, MANAGER, labels);
    } catch (error) {
      perPlugin[Symbol.dispose]();
      throw error;
    }
    return {
      phaseHistogram,
      dispose() {
        perPlugin[Symbol.dispose]();
        whole[Symbol.dispose]();
      },
    };
  });
}

/** Resolves (once per plugin and phase) the histogram handles of a plugin. */
export function phaseHandles(
  family: HistogramFamily,
  manager: string,
  plugin: string,
): Map<PluginPhase, Histogram> {
  return new Map(PLUGIN_PHASES.map((phase) => [phase, family.labels(manager, plugin, phase)]));
}
