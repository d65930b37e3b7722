// The dashboard in a real browser: Debian's Chromium driven by
// playwright-core (from tests/browser/_drive.ts, in its own process, see
// there why). The kernel runs here, in the test process, with kernel tasks,
// an island, a worker plugin streaming into a DataPort, a crashing plugin
// and a hot reload, so that every plot has data; the server listens on port
// 0. The page must load with no console error, every plot must receive
// points and redraw, the fault list must show the deadline-miss fault the
// kernel detects once a task starts missing its deadlines, and the entity
// tree must open an app and show its timing. A screenshot goes to
// $CHRONETIX_ARTIFACTS/dashboard.png and to $CHRONETIX_SCREENSHOT when set.
// Without /usr/bin/chromium (or $CHROMIUM) the test is ignored with a note,
// unless CHRONETIX_REQUIRE_TOOLS=1 (CI), where it fails.
import { assert, assertEquals } from "@std/assert";
import { Kernel } from "../../src/kernel.ts";
import { DataPort } from "../../src/data/data_port.ts";
import { serve } from "../../src/server/mod.ts";
import { SILENT_LOGGER } from "../_util/logger.ts";

const REQUIRED = Deno.env.get("CHRONETIX_REQUIRE_TOOLS") === "1";
const CHROMIUM = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";

/** Whether the browser runs (the test may not read /usr/bin, but it may run it). */
async function runs(path: string): Promise<boolean> {
  try {
    const out = await new Deno.Command(path, {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

const HAVE_CHROMIUM = await runs(CHROMIUM);
if (!HAVE_CHROMIUM && !REQUIRED) {
  console.error(
    `dashboard_test: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM): ignored`,
  );
}

type Step = { step: string; [key: string]: unknown };

/** Reads the driver's JSON lines one at a time. */
function lines(stream: ReadableStream<Uint8Array>): () => Promise<Step> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  return async () => {
    for (;;) {
      const i = buffer.indexOf("\n");
      if (i >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        return JSON.parse(line) as Step;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error(`The browser driver ended early; last output: ${buffer}`);
      buffer += value;
    }
  };
}

function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // Busy on purpose: the task must overrun its deadline.
  }
}

Deno.test({
  name:
    "The dashboard in Chromium: plots get data and redraw, faults arrive live, the tree opens an app",
  ignore: !HAVE_CHROMIUM && !REQUIRED,
  async fn() {
    assert(HAVE_CHROMIUM, `CHRONETIX_REQUIRE_TOOLS=1 but there is no Chromium at ${CHROMIUM}`);
    const ports = new Map<string, DataPort>();
    const kernel = await Kernel.start({
      name: "browser-test",
      logger: SILENT_LOGGER,
      pluginOptions: {
        dataPorts: (_plugin, name) => ports.get(name),
      },
    });
    const frames = new DataPort({ name: "frames", credit: 32, metrics: kernel.metrics });
    ports.set("frames", frames);
    // A slow consumer: it holds what it gets and recycles every 50 ms.
    const held: Parameters<DataPort["recycle"]>[0][] = [];
    frames.onFrame((meta) => void held.push(meta));
    const recycler = setInterval(() => {
      for (const meta of held.splice(0)) frames.recycle(meta);
    }, 50);
    try {
      kernel.periodic({ name: "sampler", periodMs: 1, run: () => {} });
      kernel.periodic({ name: "logger", periodMs: 100, run: () => spin(0.2) });
      await kernel.island({
        name: "control",
        module: new URL("./_fixtures/island_tasks.ts", import.meta.url),
        tasks: [{ name: "control", periodMs: 1 }],
      });
      await kernel.plugins.load({
        name: "streamer",
        version: "1.0.0",
        entry: new URL("./_fixtures/streamer.ts", import.meta.url).href,
        isolation: "worker",
        capabilities: ["dataport"],
      });
      await kernel.plugins.load({
        name: "crasher",
        version: "1.0.0",
        entry: new URL("./_fixtures/crasher.ts", import.meta.url).href,
        isolation: "inline",
        restart: { maxRetries: 5, backoffInitialMs: 1000, backoffMultiplier: 1 },
      });
      await using handle = serve(kernel, {
        port: 0,
        logger: SILENT_LOGGER,
        faults: { evaluateEveryMs: 250 },
      });
      const url = `http://127.0.0.1:${handle.addr.port}/`;
      const shots: string[] = [];
      const artifacts = Deno.env.get("CHRONETIX_ARTIFACTS");
      if (artifacts !== undefined && artifacts !== "") shots.push(`${artifacts}/dashboard.png`);
      const docsShot = Deno.env.get("CHRONETIX_SCREENSHOT");
      if (docsShot !== undefined && docsShot !== "") shots.push(docsShot);

      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL("./_drive.ts", import.meta.url).pathname,
          url,
          "sampler",
          ...shots,
        ],
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
        env: { CHROMIUM, SHOT_MIN_POINTS: docsShot ? "20" : "0" },
      }).spawn();
      const next = lines(child.stdout);
      const writer = child.stdin.getWriter();
      let overload: { cancel(): boolean } | undefined;
      try {
        const loaded = await next();
        assertEquals(loaded.step, "loaded");
        assertEquals(loaded.title, "Chronetix dashboard");
        const charts = loaded.charts as Record<
          string,
          { points: number; series: number; redraws: number; canvas: boolean }
        >;
        assertEquals(Object.keys(charts).sort(), [
          "lateness",
          "misses",
          "plugins",
          "ports",
          "tiers",
          "wakeups",
        ]);
        for (const [id, chart] of Object.entries(charts)) {
          assert(chart.canvas, `chart ${id} has no canvas`);
          assert(chart.points >= 2, `chart ${id} has ${chart.points} points`);
          assert(chart.redraws >= 2, `chart ${id} was drawn ${chart.redraws} times`);
        }
        // Kernel tasks and the island's task, p99 and p50 each.
        assert(charts.lateness!.series >= 6, `lateness has ${charts.lateness!.series} series`);
        assertEquals(charts.plugins!.series, 2); // streamer and crasher
        assertEquals(charts.ports!.series, 2); // frames: utilization and would-block
        // A hot reload while the page is open: a mark on the plugin timeline.
        assertEquals((await kernel.plugins.reload("streamer")).ok, true);

        // A task the kernel sees missing its deadlines: DEADLINE_MISS.
        overload = kernel.periodic({
          name: "overload",
          periodMs: 20,
          deadlineMs: 1,
          budgetMs: 1,
          run: () => spin(3),
        });
        await writer.write(new TextEncoder().encode("fault\n"));
        const fault = await next();
        assertEquals(fault.step, "fault");
        assert(String(fault.text).includes("DEADLINE_MISS"), String(fault.text));
        assertEquals(fault.status, "active");

        const entity = await next();
        assertEquals(entity.step, "entity");
        assertEquals(entity.entity, "apps/sampler");
        const timing = entity.timing as Record<string, unknown>;
        assert(
          typeof timing.executions === "number" && timing.executions > 0,
          JSON.stringify(timing),
        );

        const done = await next();
        assertEquals(done.step, "done");
        assertEquals(done.errors, []);
        // The driver read each file back (the test may not read outside the repository).
        const written = done.screenshots as { path: string; png: boolean; bytes: number }[];
        assertEquals(written.map((w) => [w.path, w.png]), shots.map((path) => [path, true]));
      } finally {
        overload?.cancel();
        await writer.close().catch(() => {});
        const status = await child.status;
        await child.stdout.cancel().catch(() => {});
        assertEquals(status.code, 0);
      }
    } finally {
      await kernel.shutdown({ graceMs: 1000 });
      clearInterval(recycler);
      for (const meta of held.splice(0)) frames.recycle(meta);
      frames.close();
    }
  },
});
