/**
 * `deno run --allow-read bench/summarize.ts run1.json run2.json run3.json`:
 * combines several `deno task bench:<name> --json` reports of the same bench
 * into one Markdown table of per-figure medians, as the README quotes them.
 *
 * @module
 */
import { type BenchResult, median } from "./_report.ts";

interface Report {
  bench: string;
  quick: boolean;
  machine: { cores: number; deno: string };
  results: BenchResult[];
}

if (Deno.args.length === 0) {
  console.error("Cannot summarize as no report files were given: pass the --json outputs");
  Deno.exit(2);
}
const reports: Report[] = [];
for (const path of Deno.args) {
  const report = JSON.parse(await Deno.readTextFile(path)) as Report;
  if (!Array.isArray(report.results)) {
    console.error(`Cannot summarize '${path}' as it has no 'results' array`);
    Deno.exit(2);
  }
  reports.push(report);
}
const benches = new Set(reports.map((r) => r.bench));
if (benches.size !== 1) {
  console.error(`Cannot summarize reports of different benches: ${[...benches].join(", ")}`);
  Deno.exit(2);
}

const rows = reports[0]!.results.map((first) => {
  const matches = reports.map((r) =>
    r.results.find((x) => x.case === first.case && x.subject === first.subject)
  ).filter((x): x is BenchResult => x !== undefined);
  const figures: Record<string, number> = {};
  for (const key of Object.keys(first)) {
    if (key === "case" || key === "subject") continue;
    figures[key] = median(matches.map((m) => Number(m[key])));
  }
  return { case: first.case, subject: first.subject, figures };
});
const keys = [...new Set(rows.flatMap((r) => Object.keys(r.figures)))];
console.log(
  `Median of ${reports.length} runs of \`deno task bench:${[...benches][0]} --json\` ` +
    `(${reports[0]!.machine.cores} cores, Deno ${reports[0]!.machine.deno}):\n`,
);
console.log(`| case | subject | ${keys.join(" | ")} |`);
console.log(`| --- | --- | ${keys.map(() => "---:").join(" | ")} |`);
for (const row of rows) {
  const cells = keys.map((k) => {
    const v = row.figures[k];
    return v === undefined || Number.isNaN(v) ? "" : String(Math.round(v * 1000) / 1000);
  });
  console.log(`| ${row.case} | ${row.subject} | ${cells.join(" | ")} |`);
}
