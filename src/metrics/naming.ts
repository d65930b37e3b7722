import { show } from "../internal/validate.ts";

/** The kinds of metric the registry holds. */
export type MetricType = "counter" | "gauge" | "histogram";

/**
 * Base units a metric name may end with (Prometheus naming practice: base
 * units only, so `_seconds` not `_milliseconds`, `_bytes` not `_kilobytes`).
 */
export const BASE_UNITS: readonly string[] = [
  "seconds",
  "bytes",
  "ratio",
  "celsius",
  "volts",
  "amperes",
  "joules",
  "grams",
  "meters",
  "hertz",
];

/** Unit suffixes that are not base units, with the base unit to use instead. */
const NON_BASE_UNITS: Readonly<Record<string, string>> = {
  ms: "seconds",
  msec: "seconds",
  millis: "seconds",
  milliseconds: "seconds",
  us: "seconds",
  microseconds: "seconds",
  ns: "seconds",
  nanoseconds: "seconds",
  minutes: "seconds",
  hours: "seconds",
  kb: "bytes",
  kib: "bytes",
  kilobytes: "bytes",
  mb: "bytes",
  mib: "bytes",
  megabytes: "bytes",
  gb: "bytes",
  percent: "ratio",
  pct: "ratio",
};

/**
 * Name parts promtool's linter takes for abbreviated units (its
 * `unitAbbreviations`): a name holding one fails `promtool check metrics`.
 */
const ABBREVIATED_UNITS: Readonly<Record<string, string>> = {
  s: "seconds",
  sec: "seconds",
  ms: "seconds",
  us: "seconds",
  ns: "seconds",
  m: "meters' or 'seconds",
  h: "seconds",
  d: "seconds",
  b: "bytes",
  kb: "bytes",
  mb: "bytes",
  gb: "bytes",
  tb: "bytes",
  pb: "bytes",
};

/** Metric type names, which promtool's linter refuses inside a metric name. */
const TYPE_NAMES: readonly string[] = ["counter", "gauge", "histogram", "summary"];

/** Suffixes of a histogram's (or summary's) samples, which promtool refuses on other metrics. */
const SAMPLE_SUFFIXES: readonly string[] = ["bucket", "count", "sum"];

/** Label names the registry reserves for itself or the exposition formats. */
export const RESERVED_LABELS: readonly string[] = ["le", "quantile", "overflow"];

/** A name in the library's own namespace: `chronetix_<subsystem>_<name>...`. */
const LIBRARY_NAME = /^chronetix_[a-z][a-z0-9]*_[a-z0-9]+(?:_[a-z0-9]+)*$/;
/**
 * Any other name: lower snake case with a prefix (`myapp_frames_total`), so a
 * valid Prometheus name (`[a-zA-Z_:][a-zA-Z0-9_:]*`) without colons (kept for
 * recording rules), leading `__` (reserved) or camelCase (promtool lints it).
 */
const NAME = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$/;
/** A registry namespace: lower snake case, no trailing underscore. */
export const NAMESPACE: RegExp = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;
/** The prefix of the library's own metric families. */
export const LIBRARY_PREFIX = "chronetix_";
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** What promtool's linter takes for camelCase in a label name. */
const CAMEL_CASE = /[a-z][A-Z]/;

/** What a metric is declared with; checked by {@linkcode checkMetricSpec}. */
export interface MetricSpec {
  /**
   * `<prefix>_<name>[_<unit>]` in lower snake case (`myapp_frames_total`);
   * the library's own are `chronetix_<subsystem>_<name>[_<unit>]`. Counters
   * end in `_total`.
   */
  name: string;
  /** What it measures: required, non-empty, no trailing period. */
  help: string;
  /** The kind of metric. */
  type: MetricType;
  /** A base unit from {@linkcode BASE_UNITS}, which the name must end with. */
  unit?: string;
  /** Label names, in the order values are given. */
  labelNames?: readonly string[];
}

/** Extra rules of {@linkcode checkMetricSpec}. */
export interface NamingRules {
  /**
   * The name must start with `<namespace>_` (the library's own inventory is
   * checked with `"chronetix"`).
   */
  namespace?: string;
}

/**
 * Returns every breach of the naming and help rules in `spec`, as Deno-style
 * messages; an empty array when it is fine. `deno task metrics:lint` runs
 * this over the whole inventory; the registry throws the first breach as a
 * `TypeError` when a metric is created. Not public: the CLI and tests import
 * it from this file.
 *
 * @param spec The declaration to check.
 * @param rules A namespace the name must start with.
 * @returns Messages, one per breach.
 */
export function checkMetricSpec(spec: MetricSpec, rules: NamingRules = {}): string[] {
  // The CLI lints declarations it did not make: any field may be of any type.
  const name = typeof spec.name === "string" ? spec.name : show(spec.name);
  const problems: string[] = [];
  const fail = (why: string) => problems.push(`Cannot register metric '${name}' as ${why}`);
  if (name.startsWith(LIBRARY_PREFIX)) {
    if (!LIBRARY_NAME.test(name)) {
      fail(
        "its name must match chronetix_<subsystem>_<name>[_<unit>] in lower snake case (the library's own namespace)",
      );
    }
  } else if (!NAME.test(name)) {
    fail(
      "its name must match <prefix>_<name>[_<unit>] in lower snake case (a-z, 0-9, single underscores, no colon)",
    );
  }
  if (rules.namespace !== undefined && !name.startsWith(`${rules.namespace}_`)) {
    fail(`its name must start with the namespace '${rules.namespace}_'`);
  }
  const parts = name.split("_");
  const last = parts.at(-1) ?? "";
  const core = spec.type === "counter" && last === "total" ? parts.slice(0, -1) : parts;
  if (spec.type === "counter" && last !== "total") fail("a counter name must end with '_total'");
  if (spec.type !== "counter" && last === "total") {
    fail(`a ${spec.type} name must not end with '_total'`);
  }
  for (const part of core.slice(1)) {
    const base = NON_BASE_UNITS[part];
    if (base !== undefined) fail(`'${part}' is not a base unit: use '${base}'`);
  }
  for (const part of parts.slice(1)) {
    const base = ABBREVIATED_UNITS[part];
    if (base !== undefined && NON_BASE_UNITS[part] === undefined) {
      fail(`'${part}' is an abbreviated unit: use '${base}'`);
    }
    if (TYPE_NAMES.includes(part)) fail(`its name must not hold the metric type '${part}'`);
  }
  if (spec.type !== "histogram" && SAMPLE_SUFFIXES.includes(last)) {
    fail(`a ${spec.type} name must not end with '_${last}', which histograms use`);
  }
  if (spec.unit !== undefined) {
    if (!BASE_UNITS.includes(spec.unit)) {
      fail(
        `its unit must be a base unit (${BASE_UNITS.join(", ")}): current value is ${
          show(spec.unit)
        }`,
      );
    } else if (core.at(-1) !== spec.unit) {
      fail(
        `its name must end with its unit '_${spec.unit}'${
          spec.type === "counter" ? " before '_total'" : ""
        }`,
      );
    }
  }
  if (typeof spec.help !== "string" || spec.help.trim().length === 0) {
    fail("its HELP text is missing");
  } else {
    if (spec.help.endsWith(".")) fail("its HELP must not end with a period");
    if (spec.help !== spec.help.trim()) fail("its HELP must not start or end with white space");
  }
  const seen = new Set<string>();
  for (const label of spec.labelNames ?? []) {
    const problem = labelNameProblem(label);
    if (problem !== undefined) fail(problem);
    if (typeof label !== "string" || !LABEL.test(label)) continue;
    if (seen.has(label)) fail(`label name "${label}" is repeated`);
    seen.add(label);
  }
  return problems;
}

/**
 * What is wrong with a label name, or `undefined` when it is fine: valid
 * Prometheus, not `__`-prefixed, not reserved, not camelCase. Not public.
 *
 * @param label The label name.
 * @returns The reason, phrased to follow "as".
 */
export function labelNameProblem(label: unknown): string | undefined {
  if (typeof label !== "string" || !LABEL.test(label) || label.startsWith("__")) {
    return `label name ${
      show(label)
    } is not valid: use [a-zA-Z_][a-zA-Z0-9_]*, not starting with '__'`;
  }
  if (RESERVED_LABELS.includes(label)) return `label name "${label}" is reserved`;
  if (CAMEL_CASE.test(label)) return `label name "${label}" is camelCase: use snake_case`;
  return undefined;
}
