// The real tools users check an exposition with: promtool (Debian's
// `prometheus` package; `PROMTOOL`, `.ci/tools/usr/bin/promtool` or the PATH)
// and the strict parsers of Debian's `python3-prometheus-client`. `.ci/run`
// installs both and sets CHRONETIX_REQUIRE_TOOLS=1, so in CI the tests that
// use them cannot be skipped. Many expositions are checked in one process of
// each tool, so a fuzz run with hundreds of cases stays fast.

/** Whether a missing tool fails the test instead of skipping it. */
export const REQUIRED: boolean = Deno.env.get("CHRONETIX_REQUIRE_TOOLS") === "1";

/** What a tool printed and its exit code. */
export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd` with `input` on its stdin. */
export async function run(cmd: string, args: string[], input: Uint8Array): Promise<ToolResult> {
  const child = new Deno.Command(cmd, { args, stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();
  const writer = child.stdin.getWriter();
  await writer.write(input);
  await writer.close();
  const out = await child.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

async function available(cmd: string, args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output()).success;
  } catch {
    return false;
  }
}

async function findPromtool(): Promise<string | undefined> {
  const candidates = [Deno.env.get("PROMTOOL"), ".ci/tools/usr/bin/promtool", "promtool"];
  for (const candidate of candidates) {
    if (candidate !== undefined && await available(candidate, ["--version"])) return candidate;
  }
  return undefined;
}

/** The promtool binary, if found. */
export const PROMTOOL: string | undefined = await findPromtool();

/** Debian's python, which has `python3-prometheus-client`. */
export const PYTHON = "/usr/bin/python3";

/** Whether `prometheus_client` can be imported. */
export const HAS_PYTHON_CLIENT: boolean = await available(PYTHON, [
  "-c",
  "import prometheus_client",
]);

// Reads a JSON list of [format, text] and parses each text with the strict
// parser of its format; also refuses two samples of one name and label set
// (which neither parser does). Prints a JSON list: null for a text that
// parsed, else the error; then one line with families and samples per text.
const PARSE_MANY = `
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om
from prometheus_client.parser import text_string_to_metric_families as prom
items = json.load(sys.stdin)
errors = []
counts = []
for fmt, text in items:
    try:
        families = list((om if fmt == "openmetrics" else prom)(text))
        seen = set()
        for f in families:
            for s in f.samples:
                key = (s.name, tuple(sorted(s.labels.items())))
                if key in seen:
                    raise ValueError("Duplicate sample: %r" % (key,))
                seen.add(key)
        errors.append(None)
        counts.append([len(families), sum(len(f.samples) for f in families)])
    except Exception as e:
        errors.append("%s: %s" % (type(e).__name__, e))
        counts.append(None)
print(json.dumps({"errors": errors, "counts": counts}))
`;

/** One text's outcome from {@linkcode parseWithPython}. */
export interface ParseOutcome {
  /** `null` when it parsed, else the parser's error. */
  error: string | null;
  /** Families and samples parsed, when it parsed. */
  counts: [number, number] | null;
}

/** Parses every text with prometheus_client's strict parser of its format, in one process. */
export async function parseWithPython(
  items: readonly { format: "prometheus" | "openmetrics"; text: string }[],
): Promise<ParseOutcome[]> {
  const input = new TextEncoder().encode(
    JSON.stringify(items.map((i) => [i.format, i.text])),
  );
  const result = await run(PYTHON, ["-c", PARSE_MANY], input);
  if (result.code !== 0) throw new Error(`python failed: ${result.stderr}`);
  const { errors, counts } = JSON.parse(result.stdout) as {
    errors: (string | null)[];
    counts: ([number, number] | null)[];
  };
  return errors.map((error, i) => ({ error, counts: counts[i] ?? null }));
}

/**
 * Runs `promtool check metrics` on Prometheus texts. The texts go to one
 * promtool process, each one's metric names given a distinct prefix
 * (`chronetix_` -> `chronetix_b<i>_`) so that they stay distinct families;
 * when promtool objects, each text is checked alone to name the culprit.
 *
 * @returns `undefined` when promtool accepts every text, else the index of
 * the first text it rejects and what it said.
 */
export async function checkWithPromtool(
  promtool: string,
  texts: readonly string[],
): Promise<{ index: number; output: string } | undefined> {
  const check = async (text: string) => {
    const r = await run(promtool, ["check", "metrics"], new TextEncoder().encode(text));
    const output = (r.stdout + r.stderr).trim();
    return r.code === 0 && output === "" ? undefined : output || `exit code ${r.code}`;
  };
  const joined = texts.map((text, i) => renamed(text, `chronetix_b${i}_`)).join("");
  if (await check(joined) === undefined) return undefined;
  for (let i = 0; i < texts.length; i++) {
    const output = await check(texts[i]!);
    if (output !== undefined) return { index: i, output };
  }
  return { index: -1, output: "promtool rejected the texts together but none alone" };
}

/** Renames every metric of a Prometheus text: `chronetix_` at a name's start becomes `prefix`. */
function renamed(text: string, prefix: string): string {
  return text.replace(/^(# (?:HELP|TYPE) )?chronetix_/gm, (_, meta = "") => `${meta}${prefix}`);
}
