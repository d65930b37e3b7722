// `chronetix check` in a real subprocess: per-item results for a good
// config, exit 1 for a missing module and a plugin that imports from outside
// its roots, exit 2 for a bad config; and the help and usage errors of `main`.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { main } from "../../src/cli/main.ts";

const MAIN = new URL("../../src/cli/main.ts", import.meta.url).pathname;
const decoder = new TextDecoder();
const FIXTURE = new URL("./_fixtures/run/chronetix.json", import.meta.url).pathname;
const FIXTURE_NO_SERVER = new URL("./_fixtures/check/chronetix.json", import.meta.url).pathname;

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-read", "--allow-env", "--allow-run", MAIN, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

Deno.test("chronetix check passes the run fixture item by item (exit 0)", async () => {
  const config = new URL("./_fixtures/run/chronetix.json", import.meta.url).pathname;
  const { code, stdout, stderr } = await cli(["check", config]);
  assertEquals(code, 0, stderr);
  const lines = stdout.trim().split("\n");
  assert(lines[0]!.startsWith("ok   config "), lines[0]);
  assertEquals(lines.slice(1, -1).map((l) => l.slice(0, l.indexOf(":"))), [
    "ok   task tick (tasks[0], periodic)",
    "ok   task frames (tasks[1], event)",
    "ok   script scripts[0]",
    "ok   plugin producer (plugins[0], worker)",
    "ok   plugin consumer (plugins[1], worker)",
    "ok   data port frames",
  ]);
  assertStringIncludes(stdout, "plugin producer (plugins[0], worker): manifest ok; imports ok: ");
  assertEquals(lines.at(-1), "7 items checked, all passed");
});

Deno.test("chronetix check fails a missing module and an import from outside the roots (exit 1)", async () => {
  const config = new URL("./_fixtures/check/chronetix.json", import.meta.url).pathname;
  const { code, stdout } = await cli(["check", config]);
  assertEquals(code, 1, stdout);
  assertStringIncludes(stdout, "FAIL task gone (tasks[0], cron): ./missing.ts does not exist");
  assertStringIncludes(stdout, "FAIL plugin greedy (plugins[0], worker): ");
  assertStringIncludes(stdout, "outside.ts");
  assertStringIncludes(stdout, "3 items checked, 2 failed");
  const skipped = await cli(["check", config, "--no-audit"]);
  assertEquals(skipped.code, 1);
  assertStringIncludes(
    skipped.stdout,
    "ok   plugin greedy (plugins[0], worker): manifest ok; imports not audited",
  );
});

Deno.test("chronetix check refuses a bad config with every problem (exit 2)", async () => {
  const folder = await Deno.makeTempDir({ dir: "." });
  try {
    await Deno.writeTextFile(
      `${folder}/bad.json`,
      JSON.stringify({
        plugins: [{ name: "x", version: "one", entry: "./x.ts" }],
        status: { intervalMs: 5 },
      }),
    );
    const { code, stdout, stderr } = await cli(["check", `${folder}/bad.json`]);
    assertEquals(code, 2);
    assertEquals(stdout, "");
    assertStringIncludes(stderr, "has 2 problems");
    assertStringIncludes(
      stderr,
      "status.intervalMs must be an integer from 100 to 3600000: current value is 5",
    );
    assertStringIncludes(
      stderr,
      'plugins[0].version must be a semantic version such as "1.2.3": current value is "one"',
    );
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("main() prints help for each command and refuses bad usage with exit 2", async () => {
  const run = async (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out: out.join("\n"), err: err.join("\n") };
  };
  for (const command of ["run", "check", "bench"]) {
    const help = await run([command, "--help"]);
    assertEquals(help.code, 0);
    assertStringIncludes(help.out, `Usage: chronetix ${command}`);
    assertStringIncludes(help.out, "Exit codes:");
    assertStringIncludes(help.out, "Examples:");
  }
  const top = await run(["--help"]);
  assertStringIncludes(top.out, "130  forced down by a second signal");
  assertEquals((await run(["--version"])).out.startsWith("chronetix 0."), true);
  assertEquals((await run([])).code, 2);
  assertEquals(
    (await run(["launch"])).err.split("\n")[0],
    "Cannot run chronetix as 'launch' is not a command",
  );
  assertEquals((await run(["run"])).err.split("\n")[0], "Cannot run as the config file is missing");
  assertEquals(
    (await run(["run", "a.json", "--fast"])).err.split("\n")[0],
    "Cannot run as '--fast' is not a flag of 'run'",
  );
  for (const duration of ["soon", "-1", "0", "Infinity", "1e10", ""]) {
    const usage = await run(["run", "a.json", "--duration", duration]);
    assertEquals(usage.code, 2);
    assertEquals(
      usage.err.split("\n")[0],
      `Cannot run as '--duration' must be a number of seconds > 0 and <= 2147483: current value is ${
        JSON.stringify(duration)
      }`,
    );
  }
  assertEquals(
    (await run(["run", "a.json", "--watch=maybe"])).err.split("\n")[0],
    `Cannot run as '--watch' takes no value: current value is "maybe"`,
  );
  for (const port of ["70000", "-1", "x", "1.5"]) {
    assertEquals(
      (await run(["run", "a.json", "--port", port])).err.split("\n")[0],
      `Cannot run as '--port' must be an integer from 0 to 65535: current value is "${port}"`,
    );
  }
  const noServer = await run(["run", FIXTURE_NO_SERVER, "--port", "0"]);
  assertEquals(noServer.code, 2);
  assertEquals(
    noServer.err.split("\n")[0],
    `Cannot run as '--port' needs a 'server' in the config: ${FIXTURE_NO_SERVER} has none`,
  );
  const unknownHelp = await run(["help", "launch"]);
  assertEquals(unknownHelp.code, 2);
  assertEquals(unknownHelp.err.split("\n")[0], "Cannot show help as 'launch' is not a command");
  // `--no-audit` before the file, as the help writes it, and after.
  for (const args of [["--no-audit", FIXTURE], [FIXTURE, "--no-audit"]]) {
    const check = await run(["check", ...args]);
    assertEquals(check.code, 0, check.err);
    assertStringIncludes(check.out, "manifest ok; imports not audited");
  }
});

Deno.test("chronetix bench says clearly when the bench folder is not there (exit 2)", async () => {
  const folder = await Deno.makeTempDir({ dir: "." });
  try {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(["bench", "--root", folder], {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    assertEquals(code, 2);
    assertStringIncludes(err[0]!, `Cannot run benches as ${folder}/bench is not there`);
    const listed: string[] = [];
    assertEquals(await main(["bench", "--list"], { out: (l) => listed.push(l), err: () => {} }), 0);
    assert(listed.some((l) => l.startsWith("dataport: deno run ")), listed.join("\n"));
    const unknown: string[] = [];
    assertEquals(await main(["bench", "nope"], { out: () => {}, err: (l) => unknown.push(l) }), 2);
    assertStringIncludes(
      unknown[0]!,
      "Cannot run bench 'nope' as the checkout has no task 'bench:nope'",
    );
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("chronetix metrics runs the metric tools under the one CLI", async () => {
  const { code, stdout } = await cli(["metrics", "lint"]);
  assertEquals(code, 0);
  assert(/^\d+ metrics checked, 0 problem\(s\)$/m.test(stdout), stdout);
  const usage = await cli(["metrics", "graph"]);
  assertEquals(usage.code, 2);
  assertStringIncludes(usage.stderr, "Cannot run the metrics tool as 'graph' is not a command");
});
