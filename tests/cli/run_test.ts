// `chronetix run` in a real subprocess: it starts a config (tasks, a worker
// producer streaming to a worker consumer over a DataPort, a script, the
// server on a free port), serves, and shuts down on SIGTERM with a report;
// a second signal during a shutdown that hangs forces the exit (130), the
// same signal twice at once counts as one, a signal during the start-up
// shuts down once the start ends. A second config (tests/cli/_fixtures/full)
// runs an island, a cron task, offload jobs and the dashboard. And, in
// process, runConfig() refusing missing exports before anything starts.
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { ConfigError, runConfig, validateConfig } from "../../src/cli/mod.ts";

const MAIN = new URL("../../src/cli/main.ts", import.meta.url).pathname;
const CONFIG = new URL("./_fixtures/run/chronetix.json", import.meta.url).pathname;

/** A `chronetix` subprocess whose stdout is read line by line. */
class Cli {
  readonly child: Deno.ChildProcess;
  readonly lines: string[] = [];
  #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";
  #stderr: Promise<string>;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-read",
        "--allow-env",
        "--allow-net=127.0.0.1",
        "--allow-run",
        "--allow-sys",
        MAIN,
        ...args,
      ],
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#reader = this.child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    this.#stderr = new Response(this.child.stderr).text();
  }

  /** Reads lines until one matches; fails when stdout ends first. */
  async waitFor(pattern: RegExp): Promise<RegExpExecArray> {
    for (const line of this.lines) {
      const match = pattern.exec(line);
      if (match !== null) return match;
    }
    while (true) {
      const newline = this.#buffer.indexOf("\n");
      if (newline >= 0) {
        const line = this.#buffer.slice(0, newline);
        this.#buffer = this.#buffer.slice(newline + 1);
        this.lines.push(line);
        const match = pattern.exec(line);
        if (match !== null) return match;
        continue;
      }
      const { value, done } = await this.#reader.read();
      if (done) {
        throw new Error(
          `stdout ended before ${pattern}:\n${this.lines.join("\n")}\n${await this.#stderr}`,
        );
      }
      this.#buffer += value;
    }
  }

  /** Waits for the exit; returns the code, every stdout line and stderr. */
  async finish(): Promise<{ code: number; stdout: string; stderr: string }> {
    while (true) {
      const { value, done } = await this.#reader.read();
      if (done) break;
      this.#buffer += value;
    }
    this.lines.push(...this.#buffer.split("\n").filter((l) => l !== ""));
    const status = await this.child.status;
    return { code: status.code, stdout: this.lines.join("\n"), stderr: await this.#stderr };
  }
}

Deno.test("chronetix run serves the config and shuts down gracefully on SIGTERM with a report", async () => {
  const cli = new Cli(["run", CONFIG]);
  const [, port] = await cli.waitFor(/^Server listening on http:\/\/127\.0\.0\.1:(\d+)\//);
  await cli.waitFor(/^script saw frames$/);
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  assertEquals(response.status, 200);
  const metrics = await response.text();
  assertStringIncludes(metrics, 'chronetix_dataport_frames_sent_total{port="frames"}');
  assertStringIncludes(metrics, "chronetix_plugin_");
  cli.child.kill("SIGTERM");
  const { code, stdout, stderr } = await cli.finish();
  assertEquals(code, 0, stderr);
  const lines = stdout.split("\n");
  const at = (prefix: string) => lines.findIndex((l) => l.startsWith(prefix));
  assert(
    at('Chronetix kernel "cli-test" running: 2 tasks, 0 islands, 2 plugins, 1 data port') >= 0,
    stdout,
  );
  assert(at("script started: 1 data port, server true") >= 0, stdout);
  assert(at("Shutting down (SIGTERM)") >= 0, stdout);
  assert(
    at("script before shutdown: signal aborted true, received true") > at("Shutting down"),
    stdout,
  );
  assert(at("Shutdown report: graceful in ") > at("script before shutdown"), stdout);
  assert(at("  plugin consumer: graceful in ") > at("Shutdown report"), stdout);
  assert(at("  plugin producer: graceful in ") > at("  plugin consumer"), stdout);
  // afterShutdown hooks run before the command prints the report.
  assert(
    at("script after shutdown: graceful true") > at("script before shutdown"),
    stdout,
  );
});

Deno.test("chronetix run stops when a script asks, and when --duration elapses", async (t) => {
  await t.step("ctx.stop()", async () => {
    const cli = new Cli(["run", CONFIG], { CLI_TEST_STOP: "1" });
    const { code, stdout, stderr } = await cli.finish();
    assertEquals(code, 0, stderr);
    assertStringIncludes(stdout, "Shutting down (the script asked)");
    assertStringIncludes(stdout, "Shutdown report: graceful in ");
  });
  await t.step("--duration", async () => {
    const cli = new Cli(["run", CONFIG, "--duration", "0.5"]);
    const { code, stdout, stderr } = await cli.finish();
    assertEquals(code, 0, stderr);
    assertStringIncludes(stdout, "Shutting down (--duration 0.5 s elapsed)");
    assertStringIncludes(stdout, "Shutdown report: graceful in ");
  });
});

Deno.test("chronetix run exits 1 after the report when a script's shutdown hook throws", async () => {
  const cli = new Cli(["run", CONFIG], { CLI_TEST_STOP: "1", CLI_TEST_FAIL_CHECK: "1" });
  const { code, stdout, stderr } = await cli.finish();
  assertEquals(code, 1, stderr);
  assertStringIncludes(stdout, "Shutdown report: graceful in ");
  assertStringIncludes(stderr, "Script hook afterShutdown failed: ");
  assertStringIncludes(stderr, "the frames did not add up");
  assertStringIncludes(stderr, "The run failed as a script's hook threw (1)");
});

Deno.test("chronetix run forces the stop on a second signal during the shutdown (exit 130)", async () => {
  const cli = new Cli(["run", CONFIG], { CLI_TEST_HANG: "1" });
  await cli.waitFor(/^script saw frames$/);
  // Ctrl-C under `deno task`: the same signal twice at once counts as one.
  cli.child.kill("SIGINT");
  cli.child.kill("SIGINT");
  // The script's beforeShutdown hook never ends: the graceful shutdown hangs there.
  await cli.waitFor(/^script before shutdown/);
  cli.child.kill("SIGTERM");
  const { code, stdout, stderr } = await cli.finish();
  assertEquals(code, 130, stderr);
  assertStringIncludes(stderr, "Forcing the stop (SIGTERM during the shutdown)");
  assertStringIncludes(stdout, "Shutdown report: NOT graceful");
  assertStringIncludes(stdout, "plugins: killed (emergency stop)");
  assert(!stdout.includes("script after shutdown"), stdout);
});

Deno.test("chronetix run refuses a bad config before starting anything (exit 2)", async () => {
  const folder = await Deno.makeTempDir({ dir: "." });
  try {
    await Deno.writeTextFile(
      `${folder}/bad.json`,
      JSON.stringify({
        tasks: [{ name: "t", kind: "periodic", periodMs: "x", module: "./t.ts" }],
        server: { port: -1 },
      }),
    );
    const cli = new Cli(["run", `${folder}/bad.json`]);
    const { code, stdout, stderr } = await cli.finish();
    assertEquals(code, 2);
    assertEquals(stdout, "");
    assertStringIncludes(stderr, "has 2 problems");
    assertStringIncludes(
      stderr,
      'tasks[0].periodMs must be a number >= 0.001: current value is "x"',
    );
    assertStringIncludes(
      stderr,
      "server.port must be an integer from 0 to 65535: current value is -1",
    );
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("chronetix run exits 1 when a plugin fails to start, with nothing left running", async () => {
  const config = new URL("./_fixtures/broken/chronetix.json", import.meta.url).pathname;
  const cli = new Cli(["run", config]);
  const { code, stdout, stderr } = await cli.finish();
  assertEquals(code, 1);
  assertEquals(stdout, "");
  assertStringIncludes(
    stderr,
    'Cannot start the config as plugins[0] failed to start: Cannot init plugin "broken" as it threw: no sensor attached',
  );
});

Deno.test("chronetix run --watch hot-reloads a plugin whose file changed", async () => {
  const cli = new Cli(["run", CONFIG, "--watch"]);
  try {
    const [, port] = await cli.waitFor(/^Server listening on http:\/\/127\.0\.0\.1:(\d+)\//);
    await cli.waitFor(/^script saw frames$/);
    const consumer = new URL("./_fixtures/run/plugins/consumer.ts", import.meta.url);
    const now = new Date();
    await Deno.utime(consumer, now, now);
    // Polled without a time limit: the test runner's own timeout is the bound.
    let switches = 0;
    while (switches === 0) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const line = /^chronetix_hotreload_switch_success_total\{[^}]*\} (\d+)/m.exec(text);
      switches = Number(line?.[1] ?? 0);
    }
    assert(switches >= 1);
  } finally {
    cli.child.kill("SIGTERM");
  }
  const { code, stdout, stderr } = await cli.finish();
  assertEquals(code, 0, stderr);
  assertStringIncludes(stdout, "Shutdown report: graceful in ");
});

Deno.test("chronetix run starts islands, cron tasks, offload jobs and the dashboard, and reports each", async () => {
  const config = new URL("./_fixtures/full/chronetix.json", import.meta.url).pathname;
  // The config says port 8080; --port 0 takes a free one instead.
  const cli = new Cli(["run", config, "--port", "0"]);
  try {
    const [, url, port] = await cli.waitFor(/^Dashboard: (http:\/\/127\.0\.0\.1:(\d+)\/)$/);
    assert(port !== "8080", url);
    const page = await fetch(url!);
    assertEquals(page.status, 200);
    assertStringIncludes(page.headers.get("content-type") ?? "", "text/html");
    assertStringIncludes(await page.text(), "<html");
    await cli.waitFor(/^script offload: double 21 = 42, triple 2 = 6$/);
    await cli.waitFor(/^script saw cron runs and island runs of "control"$/);
  } finally {
    cli.child.kill("SIGTERM");
  }
  const { code, stdout, stderr } = await cli.finish();
  assertEquals(code, 0, stderr);
  const lines = stdout.split("\n");
  const at = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));
  assert(
    at(/^Chronetix kernel "cli-full" running: 1 task, 1 island, 0 plugins, 0 data ports$/) >= 0,
    stdout,
  );
  assert(at(/^Server listening on http:\/\/127\.0\.0\.1:\d+\//) >= 0, stdout);
  const report = at(/^Shutdown report: graceful in /);
  assert(report > at(/^Shutting down \(SIGTERM\)/), stdout);
  assert(
    at(/^ {2}island control: graceful, [1-9]\d* runs, 0 failures, 0 restarts$/) > report,
    stdout,
  );
  assert(
    at(/^script after shutdown: islands closed: control true; offload cut off 0$/) >= 0,
    stdout,
  );
  // The status table's summary of the run: every part with its counts.
  const summary = at(/^Summary after /);
  assert(summary > report, stdout);
  assert(at(/^ {2}task every-second: [1-9]\d* runs?, /) > summary, stdout);
  assert(at(/^ {2}island control: \w+, [1-9]\d* runs, \d+ misses, 0 restarts$/) > summary, stdout);
  assert(at(/^ {2}offload: 2 jobs done, 0 failed$/) > summary, stdout);
});

Deno.test("chronetix run shuts down what started when SIGTERM comes during the start-up", async () => {
  const folder = await Deno.makeTempDir({ dir: "." });
  const go = `${await Deno.realPath(folder)}/go`;
  try {
    const cli = new Cli(["run", CONFIG], { CLI_TEST_SLOW_START: go });
    // The script's start waits for the file: the signal comes before it ends.
    await cli.waitFor(/^script waits for the go file$/);
    cli.child.kill("SIGTERM");
    await Deno.writeTextFile(go, "");
    const { code, stdout, stderr } = await cli.finish();
    assertEquals(code, 0, stderr);
    const lines = stdout.split("\n");
    const at = (prefix: string) => lines.findIndex((l) => l.startsWith(prefix));
    assert(at("script started") > at("script waits for the go file"), stdout);
    assert(at("Shutting down (SIGTERM)") > at("script started"), stdout);
    assert(at("Shutdown report: graceful in ") > at("Shutting down"), stdout);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("chronetix run exits 1 naming the server when its port is taken, with nothing left running", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const cli = new Cli(["run", CONFIG, "--port", String(listener.addr.port)]);
  const { code, stdout, stderr } = await cli.finish();
  assertEquals(code, 1, stderr);
  assertStringIncludes(
    stderr,
    `Cannot start the config as server (127.0.0.1:${listener.addr.port}) failed to start: `,
  );
  // The plugins had started: they were stopped before the exit, and no script ran.
  assert(!stdout.includes("script started"), stdout);
});

Deno.test("runConfig() refuses missing exports of tasks, islands and scripts before anything starts", async () => {
  const folder = await Deno.realPath(await Deno.makeTempDir({ dir: "." }));
  try {
    await Deno.writeTextFile(
      `${folder}/code.ts`,
      "export const tick = 5;\nexport function step() {}\n",
    );
    const loaded = await validateConfig({
      tasks: [
        { name: "every-second", kind: "periodic", periodMs: 10, module: "./code.ts" },
        { name: "t", kind: "periodic", periodMs: 10, module: "./code.ts", export: "tick" },
        { name: "u", kind: "periodic", periodMs: 10, module: "./gone.ts" },
      ],
      islands: [{
        module: "./code.ts",
        tasks: [{ name: "step", periodMs: 1 }, {
          name: "control",
          periodMs: 1,
        }],
      }],
      scripts: ["./code.ts"],
      kernel: { offload: { jobs: { crc: "./crc.ts" } } },
    }, { configUrl: new URL(`file://${folder}/chronetix.json`) });
    const error = await assertRejects(() => runConfig(loaded, { print: () => {} }));
    assertInstanceOf(error, ConfigError);
    assertEquals(error.problems, [
      `tasks[0].name must name a function ./code.ts exports (or set 'export'): its export "every-second" is missing`,
      'tasks[1].export must name a function ./code.ts exports: its export "tick" is a number',
      `tasks[2].module could not be imported: Module not found "file://${folder}/gone.ts".`,
      "scripts[0] must be a module whose default export is a function: ./code.ts has none",
      'islands[0].tasks[1].name must name a function ./code.ts exports: its export "control" is missing',
      `kernel.offload.jobs["crc"] must be a module file: ${folder}/crc.ts does not exist`,
    ]);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});
