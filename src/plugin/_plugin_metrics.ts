// A plugin's own metrics (`ctx.metrics`): families named
// `chronetix_plugin_<name>_*`, each with a hard series limit, and a cap on
// the families one plugin may declare. Shared by the hosts that run a
// plugin's code in the kernel's isolate.

import type { CounterFamily, GaugeFamily, HistogramFamily } from "../metrics/families.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import { requireOptions, show } from "../internal/validate.ts";
import type { PluginHistogramOptions, PluginMetricOptions, PluginMetrics } from "./author.ts";
import type { PluginMetricLimits } from "./host.ts";
import { PluginError } from "./plugin_error.ts";

/** The metric name prefix of a plugin: `chronetix_plugin_<name with - as _>_`. */
export function pluginMetricPrefix(plugin: string): string {
  return `chronetix_plugin_${plugin.replaceAll("-", "_")}_`;
}

/** Builds `ctx.metrics` for one plugin; `allowed()` is its `metrics` capability. */
export function pluginMetrics(
  plugin: string,
  registry: MetricsRegistry,
  limits: PluginMetricLimits,
  families: Map<string, Set<string>>,
  allowed: () => boolean,
): PluginMetrics {
  const prefix = pluginMetricPrefix(plugin);
  const declare = <F>(
    type: "counter" | "gauge" | "histogram",
    options: PluginMetricOptions | PluginHistogramOptions,
    make: (spec: Record<string, unknown>) => F,
  ): F => {
    const action = `declare a ${type} of plugin "${plugin}"`;
    if (!allowed()) {
      throw new PluginError(
        "E_PLUGIN_CAPABILITY",
        plugin,
        `Cannot ${action} as it lacks the "metrics" capability: add "metrics" to the manifest's capabilities`,
      );
    }
    requireOptions(action, "options", options);
    if (options === undefined || typeof options.name !== "string" || options.name === "") {
      throw new TypeError(
        `Cannot ${action} as 'options.name' must be a non-empty string: current value is ${
          show(options?.name)
        }`,
      );
    }
    const name = prefix + options.name;
    let declared = families.get(plugin);
    if (declared === undefined) {
      declared = new Set();
      families.set(plugin, declared);
    }
    if (!declared.has(name) && declared.size >= limits.maxFamilies) {
      throw new PluginError(
        "E_PLUGIN_METRICS_LIMIT",
        plugin,
        `Cannot ${action} as the plugin already declared ${declared.size} metric families (the limit): current name is ${
          show(name)
        }`,
      );
    }
    const spec: Record<string, unknown> = {
      name,
      help: options.help,
      unit: options.unit,
      labelNames: options.labelNames,
      softLimit: limits.softLimit,
      hardLimit: limits.hardLimit,
    };
    if (type === "histogram") spec.buckets = (options as PluginHistogramOptions).buckets;
    const family = make(spec);
    declared.add(name);
    return family;
  };
  return Object.freeze({
    prefix,
    counter: (options: PluginMetricOptions): CounterFamily =>
      declare("counter", options, (s) => registry.counter(s as never)),
    gauge: (options: PluginMetricOptions): GaugeFamily =>
      declare("gauge", options, (s) => registry.gauge(s as never)),
    histogram: (options: PluginHistogramOptions): HistogramFamily =>
      declare("histogram", options, (s) => registry.histogram(s as never)),
  });
}
