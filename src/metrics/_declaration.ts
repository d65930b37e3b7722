// Checks a family's declaration before the registry creates it: option
// types, the naming and HELP rules, the registry's namespace and default
// labels. Each option is read once, so a getter cannot pass a check, then
// change.
import type { FamilyDeclaration } from "./_core.ts";
import { checkMetricSpec, LIBRARY_PREFIX, type MetricType } from "./naming.ts";
import { histogramBuckets, listOf, optionalLimit } from "./_registry_checks.ts";
import { requireNonEmptyString, show } from "../internal/validate.ts";

/** What the registry checks a declaration against. */
export interface DeclarationRules {
  /** Buckets of a histogram declared without any. */
  defaultBuckets: readonly number[];
  /** The namespace names must start with (`undefined`: none, or a standard family). */
  namespace: string | undefined;
  /** The registry's default labels, which no family may declare. */
  defaults: Readonly<Record<string, string>>;
}

/** A checked declaration, with its own cardinality limits. */
export interface CheckedDeclaration {
  declaration: FamilyDeclaration;
  /** `register metric '<name>'`, for the messages that follow. */
  named: string;
  ownSoft: number | undefined;
  ownHard: number | undefined;
}

/** Checks `options` of a family of `type`; throws the first breach. */
export function checkDeclaration(
  type: MetricType,
  options: unknown,
  rules: DeclarationRules,
): CheckedDeclaration {
  const action = `register a ${type}`;
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `Cannot ${action} as 'options' must be an object: current value is ${show(options)}`,
    );
  }
  const { name, help, unit, labelNames, softLimit, hardLimit } = options as Record<
    string,
    unknown
  >;
  const bucketOption = type === "histogram"
    ? (options as { buckets?: unknown }).buckets
    : undefined;
  requireNonEmptyString(action, "name", name);
  const named = `register metric '${name}'`;
  if (typeof help !== "string" || !help.isWellFormed()) {
    throw new TypeError(
      `Cannot ${named} as 'help' must be a string of well-formed Unicode: current value is ${
        show(help)
      }`,
    );
  }
  if (unit !== undefined && typeof unit !== "string") {
    throw new TypeError(
      `Cannot ${named} as 'unit' must be a string: current value is ${show(unit)}`,
    );
  }
  const labels = labelNames === undefined ? [] : listOf(named, "labelNames", labelNames);
  if (labels.some((l) => typeof l !== "string")) {
    throw new TypeError(
      `Cannot ${named} as 'labelNames' must hold strings: current value is ${show(labels)}`,
    );
  }
  const buckets = type !== "histogram" ? [] : histogramBuckets(
    named,
    bucketOption === undefined ? rules.defaultBuckets : bucketOption,
  );
  const declaration: FamilyDeclaration = {
    name: name as string,
    help,
    type,
    unit: unit as string | undefined,
    labelNames: labels as string[],
    buckets,
  };
  const problems = checkMetricSpec(declaration);
  if (problems.length > 0) throw new TypeError(problems[0]);
  const ns = rules.namespace;
  if (
    ns !== undefined && !declaration.name.startsWith(`${ns}_`) &&
    !declaration.name.startsWith(LIBRARY_PREFIX)
  ) {
    throw new TypeError(
      `Cannot register metric '${name}' as its name must start with the registry's namespace '${ns}_' (only the library's own metrics use 'chronetix_')`,
    );
  }
  for (const label of labels as string[]) {
    if (Object.hasOwn(rules.defaults, label)) {
      throw new TypeError(
        `Cannot register metric '${name}' as its label "${label}" is also a default label of the registry: rename one of them`,
      );
    }
  }
  return {
    declaration,
    named,
    ownSoft: optionalLimit(named, "softLimit", softLimit),
    ownHard: optionalLimit(named, "hardLimit", hardLimit),
  };
}
