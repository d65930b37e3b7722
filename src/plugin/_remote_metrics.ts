// `ctx.metrics` of a plugin out of the kernel's isolate: families declared
// here are mirrored by the host in the kernel's registry; samples are
// aggregated per series (a counter's increments summed, a gauge's last value,
// a histogram's observations listed) and sent once per flush.

import type { Counter, Gauge, Histogram } from "../metrics/families.ts";
import type { PluginHistogramOptions, PluginMetricOptions, PluginMetrics } from "./author.ts";
import { requireOptions, show } from "../internal/validate.ts";
import { PluginError } from "./plugin_error.ts";
import type { Op } from "./_remote_protocol.ts";

type Type = "counter" | "gauge" | "histogram";

interface Pending {
  family: number;
  labels: string[];
  type: Type;
  delta: number;
  set: number | undefined;
  observations: number[];
}

/** The metric name prefix of a plugin. */
function prefixOf(plugin: string): string {
  return `chronetix_plugin_${plugin.replaceAll("-", "_")}_`;
}

/** The plugin side of `ctx.metrics`. */
export class RemoteMetrics {
  /** What the plugin sees. */
  readonly api: PluginMetrics;
  readonly #push: (op: Op) => void;
  readonly #pending = new Map<string, Pending>();
  readonly #families = new Map<string, unknown>();

  /**
   * Creates the metrics of one instance.
   *
   * @param plugin The plugin's name.
   * @param maxFamilies Families it may declare.
   * @param push Queues an op for the host.
   * @param options Whether the capability is granted.
   */
  constructor(
    plugin: string,
    maxFamilies: number,
    push: (op: Op) => void,
    options: { allowed: () => boolean },
  ) {
    this.#push = push;
    const prefix = prefixOf(plugin);
    const declare = (type: Type, o: PluginMetricOptions | PluginHistogramOptions): unknown => {
      const action = `declare a ${type} of plugin "${plugin}"`;
      if (!options.allowed()) {
        throw new PluginError(
          "E_PLUGIN_CAPABILITY",
          plugin,
          `Cannot ${action} as it lacks the "metrics" capability: add "metrics" to the manifest's capabilities`,
        );
      }
      requireOptions(action, "options", o);
      if (o === undefined || typeof o.name !== "string" || o.name === "") {
        throw new TypeError(
          `Cannot ${action} as 'options.name' must be a non-empty string: current value is ${
            show(o?.name)
          }`,
        );
      }
      const name = prefix + o.name;
      const known = this.#families.get(name);
      if (known !== undefined) return known;
      if (this.#families.size >= maxFamilies) {
        throw new PluginError(
          "E_PLUGIN_METRICS_LIMIT",
          plugin,
          `Cannot ${action} as the plugin already declared ${this.#families.size} metric families (the limit): current name is ${
            show(name)
          }`,
        );
      }
      const id = this.#families.size;
      const labelNames = [...(o.labelNames ?? [])];
      const spec: Record<string, unknown> = {
        name: o.name,
        help: o.help,
        unit: o.unit,
        labelNames,
      };
      if (type === "histogram") spec.buckets = (o as PluginHistogramOptions).buckets;
      push(["md", id, type, spec]);
      const family = this.#family(id, type, name, o, labelNames);
      this.#families.set(name, family);
      return family;
    };
    this.api = Object.freeze({
      prefix,
      counter: (o: PluginMetricOptions) => declare("counter", o) as never,
      gauge: (o: PluginMetricOptions) => declare("gauge", o) as never,
      histogram: (o: PluginHistogramOptions) => declare("histogram", o) as never,
    });
  }

  /** Queues the aggregated samples as ops. */
  drain(): void {
    for (const p of this.#pending.values()) {
      if (p.type === "counter") {
        if (p.delta > 0) this.#push(["m", p.family, p.labels, "inc", p.delta]);
      } else if (p.type === "gauge") {
        if (p.set !== undefined) this.#push(["m", p.family, p.labels, "set", p.set]);
        else if (p.delta !== 0) this.#push(["m", p.family, p.labels, "inc", p.delta]);
      } else if (p.observations.length > 0) {
        this.#push(["m", p.family, p.labels, "obs", p.observations]);
      }
    }
    this.#pending.clear();
  }

  #family(
    id: number,
    type: Type,
    name: string,
    o: PluginMetricOptions | PluginHistogramOptions,
    labelNames: string[],
  ): unknown {
    const series = new Map<string, unknown>();
    const pending = this.#pending;
    const labels = (...values: string[]): unknown => {
      if (values.length !== labelNames.length || values.some((v) => typeof v !== "string")) {
        throw new TypeError(
          `Cannot resolve a series of ${name} as it takes ${labelNames.length} string label values: current values are ${
            show(values)
          }`,
        );
      }
      const key = values.join("\u0000");
      const known = series.get(key);
      if (known !== undefined) return known;
      const slot = (): Pending => {
        let p = pending.get(`${id}\u0001${key}`);
        if (p === undefined) {
          p = { family: id, labels: values, type, delta: 0, set: undefined, observations: [] };
          pending.set(`${id}\u0001${key}`, p);
        }
        return p;
      };
      let value = 0;
      let count = 0;
      const check = (action: string, v: unknown, min: number) => {
        if (typeof v !== "number") {
          throw new TypeError(
            `Cannot ${action} as 'value' must be a number: current value is ${show(v)}`,
          );
        }
        if (!(v >= min) || v === Infinity) {
          throw new RangeError(
            `Cannot ${action} as 'value' must be finite and >= ${min}: current value is ${v}`,
          );
        }
      };
      let handle: Counter | Gauge | Histogram;
      if (type === "counter") {
        handle = {
          inc(v = 1) {
            check(`increment ${name}`, v, 0);
            value += v;
            slot().delta += v;
          },
          advanceTo(total: number) {
            check(`advance ${name}`, total, value);
            slot().delta += total - value;
            value = total;
          },
          get value() {
            return value;
          },
        };
      } else if (type === "gauge") {
        handle = {
          set(v: number) {
            if (typeof v !== "number") check(`set ${name}`, v, -Infinity);
            value = v;
            const p = slot();
            p.set = v;
            p.delta = 0;
          },
          inc(v = 1) {
            if (typeof v !== "number") check(`increment ${name}`, v, -Infinity);
            value += v;
            const p = slot();
            if (p.set !== undefined) p.set = value;
            else p.delta += v;
          },
          dec(v = 1) {
            (handle as Gauge).inc(-v);
          },
          get value() {
            return value;
          },
        };
      } else {
        handle = {
          observe(v: number) {
            check(`observe ${name}`, v, -Infinity);
            value += v;
            count++;
            slot().observations.push(v);
          },
          get count() {
            return count;
          },
          get sum() {
            return value;
          },
        };
      }
      series.set(key, handle);
      return handle;
    };
    const family: Record<string, unknown> = {
      name,
      help: o.help,
      type,
      unit: o.unit,
      labelNames: Object.freeze([...labelNames]),
      get seriesCount() {
        return series.size;
      },
      labels,
    };
    if (type === "histogram") {
      family.buckets = Object.freeze([...((o as PluginHistogramOptions).buckets ?? [])]);
    }
    return Object.freeze(family);
  }
}
