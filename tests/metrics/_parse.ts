// A small parser of Prometheus text 0.0.4 and OpenMetrics 1.0 sample lines,
// for tests that assert on a real scrape: every sample with its labels
// (escapes undone) and value, and the TYPE of each family.

/** One parsed sample. */
export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** What a scrape holds. */
export interface ParsedScrape {
  samples: ParsedSample[];
  /** Family name to its TYPE. */
  types: Map<string, string>;
}

function unescape(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) => c === "n" ? "\n" : c);
}

function number(text: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  const n = Number(text);
  if (text.trim() === "" || (Number.isNaN(n) && text !== "NaN")) {
    throw new Error(`Not a sample value: ${text}`);
  }
  return n;
}

/** Parses a scrape; throws on a line it cannot read. */
export function parseScrape(text: string): ParsedScrape {
  const samples: ParsedSample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "" || line === "# EOF") continue;
    if (line.startsWith("# TYPE ")) {
      const [name, type] = line.slice(7).split(" ");
      types.set(name!, type!);
      continue;
    }
    if (line.startsWith("#")) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/);
    if (m === null) throw new Error(`Unparsable sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      if (Object.hasOwn(labels, l[1]!)) throw new Error(`Repeated label ${l[1]} in: ${line}`);
      labels[l[1]!] = unescape(l[2]!);
    }
    samples.push({ name: m[1]!, labels, value: number(m[3]!) });
  }
  return { samples, types };
}

/** The samples named `name`, optionally with these labels among theirs. */
export function find(
  scrape: ParsedScrape,
  name: string,
  labels: Record<string, string> = {},
): ParsedSample[] {
  return scrape.samples.filter((s) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  );
}
