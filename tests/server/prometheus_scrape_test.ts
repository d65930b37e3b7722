// A real Prometheus (Debian's `prometheus` package, extracted like promtool:
// `PROMETHEUS`, `.ci/tools/usr/bin/prometheus` or the PATH) scrapes
// `serve()` and the test reads, through Prometheus' own HTTP API, that the
// target is up and that known series arrived. Without the binary the test
// is ignored (with a note on stderr) unless CHRONETIX_REQUIRE_TOOLS=1, as
// in CI, where it fails. Nothing waits on a time bound: the API is polled
// until the answer is there, with a generous overall give-up.
import { assert, assertEquals } from "@std/assert";
import { Kernel } from "../../src/kernel.ts";
import { serve } from "../../src/server/mod.ts";
import { SILENT_LOGGER } from "../_util/logger.ts";

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
      })
        .output();
      if (out.success) return candidate;
    } catch {
      // Not there: try the next one.
    }
  }
  return undefined;
}

const PROMETHEUS = await findPrometheus();
if (PROMETHEUS === undefined && !REQUIRED) {
  console.error(
    "prometheus_scrape_test: no prometheus binary (set PROMETHEUS, or extract Debian's package to .ci/tools as .ci/run does): ignored",
  );
}

// Runs Prometheus with the config from stdin in a temporary folder the shell
// removes afterwards (the test itself writes no file).
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
  name: "serve() is scraped by a real Prometheus: up == 1 and known series arrive",
  ignore: PROMETHEUS === undefined && !REQUIRED,
  async fn() {
    assert(
      PROMETHEUS !== undefined,
      "CHRONETIX_REQUIRE_TOOLS=1 but no prometheus binary was found",
    );
    await using kernel = await Kernel.start({ name: "scraped", logger: SILENT_LOGGER });
    kernel.periodic({ name: "sampler", periodMs: 20, run: () => {} });
    await using handle = serve(kernel, { port: 0, logger: SILENT_LOGGER });
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
    await writer.write(new TextEncoder().encode(`
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: chronetix
    static_configs:
      - targets: ["127.0.0.1:${handle.addr.port}"]
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
    const poll = async <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => {
      const giveUp = Date.now() + 120_000;
      while (true) {
        const value = await probe();
        if (value !== undefined) return value;
        if (Date.now() > giveUp) {
          throw new Error(`Prometheus never showed ${what}; its log:\n${log}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };
    try {
      const up = await poll("up == 1", async () => {
        const v = await query('up{job="chronetix"}');
        return v?.[0]?.value[1] === "1" ? v : undefined;
      });
      assertEquals(up[0]!.metric.instance, `127.0.0.1:${handle.addr.port}`);
      const runs = await poll("the sampler's runs", async () => {
        const v = await query('chronetix_exec_runs_total{task="sampler"}');
        return v !== undefined && v.length > 0 && Number(v[0]!.value[1]) > 0 ? v : undefined;
      });
      assertEquals(runs[0]!.metric.executor, "scraped");
      const lateness = await poll("a lateness histogram", async () => {
        const v = await query('chronetix_exec_lateness_seconds_count{task="sampler"}');
        return v !== undefined && v.length > 0 ? v : undefined;
      });
      assert(Number(lateness[0]!.value[1]) > 0);
      const targets = await (await fetch(`http://${web}/api/v1/targets`)).json();
      const target = targets.data.activeTargets.find((t: { labels: { job: string } }) =>
        t.labels.job === "chronetix"
      );
      assertEquals([target.health, target.lastError], ["up", ""]);
      assert(handle.server.stats().responses["2xx"] > 0);
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await logged;
    }
  },
});
