// A pool, a driver (its waker worker) and an island must work under plain
// `deno run -A`, without `--unstable-worker-options`: real subprocesses run
// ./no_unstable_flag_fixtures/run.ts with `--no-config`, so that this repo's
// deno.json ("unstable": ["worker-options"]) does not apply. Scoped Worker
// permissions do need the flag: without it the process gets a ChronetixError
// naming the flag instead of being ended by Deno with exit code 70.
import { assertEquals, assertStringIncludes } from "@std/assert";

const FIXTURE = new URL("./no_unstable_flag_fixtures/run.ts", import.meta.url);

interface Run {
  code: number;
  out: Record<string, unknown> | undefined;
  stderr: string;
}

/** Runs the fixture in `mode`; with `--no-config` unless `flags` name a config file. */
async function run(mode: string, flags: string[] = []): Promise<Run> {
  const config = flags.includes("--config") ? [] : ["--no-config"];
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...config, "-A", ...flags, FIXTURE.pathname, mode],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const line = new TextDecoder().decode(stdout).trim().split("\n").at(-1) ?? "";
  return {
    code,
    out: line.startsWith("{") ? JSON.parse(line) : undefined,
    stderr: new TextDecoder().decode(stderr),
  };
}

function assertRan(result: Run, expected: Record<string, unknown>): void {
  assertEquals(result.code, 0, `exit code ${result.code}, stderr: ${result.stderr}`);
  assertEquals(result.out, expected);
}

Deno.test("An offload pool that grows works without --unstable-worker-options", async () => {
  assertRan(await run("pool"), { mode: "pool", results: [4, 9, 16] });
});

Deno.test("Drivers of every profile (the waker worker) work without --unstable-worker-options", async () => {
  assertRan(await run("driver"), { mode: "driver", fired: true });
});

Deno.test("A kernel with an island and an offload pool works without --unstable-worker-options", async () => {
  assertRan(await run("island"), { mode: "island", ticked: true, square: 25 });
});

Deno.test("Scoped pool permissions without the flag throw a ChronetixError naming it, not exit 70", async () => {
  const result = await run("scoped");
  assertEquals(result.code, 0, `exit code ${result.code}, stderr: ${result.stderr}`);
  const error = result.out?.error as { code: string; message: string };
  assertEquals(error.code, "E_UNSTABLE_FLAG_MISSING");
  assertStringIncludes(error.message, "--unstable-worker-options");
  assertStringIncludes(error.message, '"unstable": ["worker-options"]');
});

Deno.test("Scoped pool permissions work with the flag on the command line or in a config file", async () => {
  assertRan(await run("scoped", ["--unstable-worker-options"]), { mode: "scoped", result: 36 });
  const dir = await Deno.makeTempDir({
    dir: new URL(".", import.meta.url).pathname,
    prefix: ".tmp_flag_",
  });
  try {
    const config = `${dir}/deno.jsonc`;
    await Deno.writeTextFile(config, '// a comment\n{ "unstable": ["worker-options"] }\n');
    assertRan(await run("scoped", ["--config", config]), { mode: "scoped", result: 36 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
