// Argument checks and small helpers of the MetricsRegistry: option lists,
// bucket bounds, cardinality limits, the sample names a family takes.

import type { CardinalityLimits } from "./_core.ts";
import { labelNameProblem, type MetricType, NAMESPACE } from "./naming.ts";
import { SampleBuffer } from "./sample.ts";
import { requireInteger, show } from "../internal/validate.ts";

/**
 * The sample and family names a family takes in either format, so that no
 * two families can print samples of one name: a counter `x_total` is the
 * OpenMetrics family `x`; a histogram `x` prints `x_bucket`, `x_sum` and
 * `x_count`; `_created` is reserved by both.
 */
export function takenNames(type: MetricType, name: string): string[] {
  if (type === "counter") {
    const family = name.slice(0, -"_total".length);
    return [family, name, `${family}_created`];
  }
  if (type === "histogram") {
    return [name, `${name}_bucket`, `${name}_sum`, `${name}_count`, `${name}_created`];
  }
  return [name];
}

/** A list option copied into an array: any iterable, or a clear error. */
export function listOf(action: string, name: string, value: unknown): unknown[] {
  if (
    value === null || typeof value !== "object" ||
    typeof (value as Iterable<unknown>)[Symbol.iterator] !== "function"
  ) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be an array: current value is ${show(value)}`,
    );
  }
  return [...(value as Iterable<unknown>)];
}

export const DEFAULT_SOFT_LIMIT = 1000;
export const DEFAULT_HARD_LIMIT = 2000;

export function envLimit(variable: string): number | undefined {
  try {
    if (Deno.permissions.querySync({ name: "env", variable }).state !== "granted") return undefined;
    const raw = Deno.env.get(variable);
    if (raw === undefined) return undefined;
    return requireInteger("read a cardinality limit", variable, Number(raw), 1, 1e9);
  } catch (error) {
    if (error instanceof RangeError) throw error;
    return undefined;
  }
}

/** A limit option: `undefined`, or an integer in [1, 1e9]. */
export function optionalLimit(action: string, name: string, value: unknown): number | undefined {
  return value === undefined ? undefined : requireInteger(action, name, value, 1, 1e9);
}

/** Bucket bounds: finite numbers, strictly ascending, at least one. */
export function histogramBuckets(action: string, value: unknown, param = "buckets"): number[] {
  const buckets = listOf(action, param, value);
  if (buckets.some((b) => typeof b !== "number")) {
    throw new TypeError(
      `Cannot ${action} as '${param}' must hold numbers: current value is ${show(buckets)}`,
    );
  }
  const bounds = buckets as number[];
  if (
    bounds.length === 0 ||
    bounds.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= bounds[i - 1]!))
  ) {
    throw new RangeError(
      `Cannot ${action} as '${param}' must be finite and strictly ascending: current value is [${
        bounds.join(", ")
      }]`,
    );
  }
  return bounds;
}

export function requireSampleBuffer(buffer: unknown): void {
  const action = "flatten metrics";
  if (!(buffer instanceof SampleBuffer)) {
    throw new TypeError(
      `Cannot ${action} as 'buffer' must be a SampleBuffer: current value is ${show(buffer)}`,
    );
  }
  if (!(buffer.values instanceof Float64Array)) {
    throw new TypeError(
      `Cannot ${action} as 'buffer.values' must be a Float64Array: current value is ${
        show(buffer.values)
      }`,
    );
  }
  for (const field of ["names", "labels"] as const) {
    if (!Array.isArray(buffer[field])) {
      throw new TypeError(
        `Cannot ${action} as 'buffer.${field}' must be an array: current value is ${
          show(buffer[field])
        }`,
      );
    }
  }
}

/** An error for a log line, whatever was thrown. */
export function describeError(error: unknown): string {
  try {
    return error instanceof Error ? String(error) : show(error);
  } catch {
    return show(error);
  }
}

export function limits(action: string, soft: number, hard: number): CardinalityLimits {
  requireInteger(action, "hardLimit", hard, 1, 1e9);
  requireInteger(action, "softLimit", soft, 1, 1e9);
  if (soft > hard) {
    throw new RangeError(
      `Cannot ${action} as 'softLimit' must be <= 'hardLimit': current values are ${soft} and ${hard}`,
    );
  }
  return { soft, hard };
}
/** Default labels: an object of valid label names to well-formed strings. */
export function checkDefaultLabels(action: string, labels: unknown): [string, string][] {
  if (labels === undefined) return [];
  if (labels === null || typeof labels !== "object" || Array.isArray(labels)) {
    throw new TypeError(
      `Cannot ${action} as 'defaultLabels' must be an object: current value is ${show(labels)}`,
    );
  }
  const pairs = Object.entries(labels);
  for (const [name, value] of pairs) {
    const problem = labelNameProblem(name);
    if (problem !== undefined) {
      throw new TypeError(`Cannot ${action} as 'defaultLabels' is not valid: ${problem}`);
    }
    if (typeof value !== "string" || !value.isWellFormed()) {
      throw new TypeError(
        `Cannot ${action} as 'defaultLabels' must map to strings of well-formed Unicode: current value of "${name}" is ${
          show(value)
        }`,
      );
    }
  }
  return pairs as [string, string][];
}

/** A registry namespace: `undefined`, or lower snake case without a trailing underscore. */
export function requireNamespace(action: string, namespace: unknown): void {
  if (namespace !== undefined && (typeof namespace !== "string" || !NAMESPACE.test(namespace))) {
    throw new TypeError(
      `Cannot ${action} as 'namespace' must be lower snake case (a-z, 0-9, single underscores, no trailing underscore): current value is ${
        show(namespace)
      }`,
    );
  }
}
