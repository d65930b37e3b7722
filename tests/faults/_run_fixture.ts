// Runs a fault fixture in its own Deno process and reads the JSON report it
// prints last. The fixture ends by its own logic; the 120 s abort is only a
// safety net that turns a hang into a failure, not a bound under test.

/** What a fixture process left behind. */
export interface Outcome {
  /** Its exit code. */
  code: number;
  /** The JSON object on its last line of output (`{ unparsed }` when there is none). */
  report: Record<string, unknown>;
  /** Everything it wrote to stderr. */
  stderr: string;
}

/** Runs `fixture` with `args` under `deno run --quiet --no-lock --allow-read=.`. */
export async function runFixture(fixture: URL, ...args: string[]): Promise<Outcome> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 120_000);
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--no-lock", "--allow-read=.", fixture.pathname, ...args],
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
    }).output();
    const stdout = new TextDecoder().decode(out.stdout).trim().split("\n");
    const stderr = new TextDecoder().decode(out.stderr);
    let report: Record<string, unknown> = {};
    try {
      report = JSON.parse(stdout.at(-1) ?? "{}");
    } catch {
      report = { unparsed: stdout };
    }
    return { code: out.code, report, stderr };
  } finally {
    clearTimeout(timer);
  }
}
