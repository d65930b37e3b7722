// A real Prometheus (Debian's `prometheus` package, extracted: `PROMETHEUS`,
// `.ci/tools/usr/bin/prometheus` or the PATH) scrapes an application's
// registry served with `toResponse()`: its own `myapp_*` families, default
// labels and `collectDefaultMetrics`. Read back through Prometheus' HTTP
// API: the target is up, the standard names a Node.js dashboard queries are
// there, and `histogram_quantile` works on the event-loop delay. Ignored
// without the binary unless CHRONETIX_REQUIRE_TOOLS=1 (CI). Nothing waits on
// a time bound: the API is polled until the answer is there.
import { assert, assertEquals } from "@std/assert";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { collectDefaultMetrics } from "../../src/metrics/default_metrics.ts";

const REQUIRED = Deno.env.get("CHRONETIX_REQUIRE_TOOLS") === "1";

async function findPrometheus(): Promise<string | undefined> {
  for (
    const candidate of [Deno.env.get("PROMETHEUS"), ".ci/tools/usr/bin/prometheus", "prometheus"]
  ) {
    if (candidate === undefined) continue;
    try {
      const out = await new Deno.Command(candidate, {
        args: ["--version"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (out.success) return candidate;
    } catch {
      // Not there: try the next one.
    }
  }
  return undefined;
}

const PROMETHEUS = await findPrometheus();

// Runs Prometheus with the config from stdin in a temporary folder the shell
// removes afterwards.
const RUNNER = `
dir=$(mktemp -d) || exit 1
cat > "$dir/prometheus.yml"
"$0" --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \\
  --web.listen-address="$1" --log.level=warn &
pid=$!
trap 'kill -TERM $pid 2>/dev/null' TERM INT
wait $pid
wait $pid
rm -rf "$dir"
`;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

type Vector = { metric: Record<string, string>; value: [number, string] }[];

Deno.test({
  name:
    "MetricsRegistry.toResponse() with default metrics and labels is scraped by a real Prometheus",
  ignore: PROMETHEUS === undefined && !REQUIRED,
  async fn() {
    assert(
      PROMETHEUS !== undefined,
      "CHRONETIX_REQUIRE_TOOLS=1 but no prometheus binary was found",
    );
    const registry = new MetricsRegistry({
      namespace: "myapp",
      defaultLabels: { instance: "edge-1", service: "gateway" },
    });
    registry.counter({ name: "myapp_frames_received_total", help: "Frames", labelNames: ["link"] })
      .labels("can0").inc(5);
    const defaults = collectDefaultMetrics(registry, { eventLoopResolutionMs: 5 });
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (request) => registry.toResponse(request),
    );
    const web = `127.0.0.1:${freePort()}`;
    const child = new Deno.Command("sh", {
      args: ["-c", RUNNER, PROMETHEUS, web],
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let log = "";
    const logged = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({ write: (s) => void (log = (log + s).slice(-8000)) }),
    );
    const writer = child.stdin.getWriter();
    // Two jobs on one target: Prometheus' own `instance` target label either
    // renames ours to `exported_instance`, or (honor_labels) yields to it.
    await writer.write(new TextEncoder().encode(`
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: app
    static_configs:
      - targets: ["127.0.0.1:${server.addr.port}"]
  - job_name: app_honored
    honor_labels: true
    static_configs:
      - targets: ["127.0.0.1:${server.addr.port}"]
`));
    await writer.close();
    const query = async (promql: string): Promise<Vector | undefined> => {
      try {
        const r = await fetch(`http://${web}/api/v1/query?query=${encodeURIComponent(promql)}`);
        const body = await r.json();
        return body.status === "success" ? body.data.result as Vector : undefined;
      } catch {
        return undefined; // not listening yet
      }
    };
    const poll = async (what: string, promql: string): Promise<Vector> => {
      const giveUp = Date.now() + 120_000;
      while (true) {
        const value = await query(promql);
        if (value !== undefined && value.length > 0) return value;
        if (Date.now() > giveUp) {
          throw new Error(`Prometheus never showed ${what}; its log:\n${log}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };
    try {
      const up = await poll("up", 'up{job="app"} == 1');
      assertEquals(up[0]!.metric.instance, `127.0.0.1:${server.addr.port}`);
      const frames = await poll("the app's counter", 'myapp_frames_received_total{job="app"}');
      assertEquals(frames[0]!.metric, {
        __name__: "myapp_frames_received_total",
        exported_instance: "edge-1",
        instance: `127.0.0.1:${server.addr.port}`,
        job: "app",
        link: "can0",
        service: "gateway",
      });
      assertEquals(frames[0]!.value[1], "5");
      const honored = await poll("honor_labels", 'myapp_frames_received_total{job="app_honored"}');
      assertEquals(honored[0]!.metric.instance, "edge-1");
      // The queries of a Node.js dashboard.
      for (
        const promql of [
          'rate(process_cpu_seconds_total{job="app"}[1m]) >= 0',
          'process_resident_memory_bytes{job="app"} > 0',
          'nodejs_heap_size_used_bytes{job="app"} > 0',
          'time() - process_start_time_seconds{job="app"} >= 0',
          'nodejs_eventloop_lag_seconds{job="app"} >= 0',
          'histogram_quantile(0.99, sum by (le) (rate(nodejs_eventloop_delay_seconds_bucket{job="app"}[1m]))) >= 0',
        ]
      ) {
        await poll(promql, promql);
      }
      const targets = await (await fetch(`http://${web}/api/v1/targets`)).json();
      for (const t of targets.data.activeTargets) assertEquals([t.health, t.lastError], ["up", ""]);
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await logged;
      defaults.close();
      await server.shutdown();
    }
  },
});
