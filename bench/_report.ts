// Shared command-line handling and output for the `deno task bench:*`
// scripts: `--quick` for a short run, `--json` for exactly one JSON object on
// stdout (progress goes to stderr), otherwise a readable table.

/**
 * One measured result: a workload (`case`), an implementation and its
 * figures. A figure that does not apply to this subject is `null` (the
 * table shows it blank).
 */
export interface BenchResult {
  case: string;
  subject: string;
  [figure: string]: string | number | null;
}

/** A target from the issue, checked against the results of this run. */
export interface BenchTarget {
  name: string;
  ok: boolean;
  detail: string;
}

/** The parsed flags of a bench script. */
export interface BenchArgs {
  quick: boolean;
  json: boolean;
}

/** Parses `--quick` and `--json`; exits with a clear message on anything else. */
export function parseBenchArgs(name: string): BenchArgs {
  const known = new Set(["--quick", "--json"]);
  for (const arg of Deno.args) {
    if (!known.has(arg)) {
      console.error(
        `Cannot run bench:${name} as '${arg}' is not a known flag: use --quick and/or --json`,
      );
      Deno.exit(2);
    }
  }
  return { quick: Deno.args.includes("--quick"), json: Deno.args.includes("--json") };
}

/** Writes a progress line to stderr, so `--json` output stays one object. */
export function progress(message: string): void {
  console.error(message);
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Rounds a figure for output. */
export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Prints the results as one JSON object (`--json`) or as a table. */
export function report(
  bench: string,
  args: BenchArgs,
  results: BenchResult[],
  targets: BenchTarget[] = [],
): void {
  const out = {
    bench,
    quick: args.quick,
    machine: {
      cores: navigator.hardwareConcurrency,
      deno: Deno.version.deno,
      os: Deno.build.os,
      arch: Deno.build.arch,
    },
    results,
    targets,
  };
  if (args.json) {
    console.log(JSON.stringify(out, null, 2));
    return;
  }
  const figures = [...new Set(results.flatMap((r) => Object.keys(r)))].filter(
    (k) => k !== "case" && k !== "subject",
  );
  const header = ["case", "subject", ...figures];
  const rows = results.map((r) => header.map((k) => String(r[k] ?? "")));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
  console.log(
    `bench:${bench}${
      args.quick ? " (quick)" : ""
    }  ${out.machine.cores} cores, Deno ${out.machine.deno}`,
  );
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  if (targets.length > 0) {
    console.log("\ntargets:");
    for (const t of targets) console.log(`  ${t.ok ? "met " : "MISS"}  ${t.name}: ${t.detail}`);
  }
}
