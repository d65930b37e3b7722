// collectDefaultMetrics(): the standard process and runtime families, read on
// scrape. Fixed sources and a manual timer make the figures and the
// event-loop probe deterministic; one test reads the real runtime (values
// are checked for shape and sense, never against a wall-clock bound).
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import {
  collectDefaultMetrics,
  DEFAULT_METRIC_NAMES,
  type ProcessSources,
} from "../../src/metrics/default_metrics.ts";
import { find, parseScrape } from "./_parse.ts";
import {
  checkWithPromtool,
  HAS_PYTHON_CLIENT,
  parseWithPython,
  PROMTOOL,
  REQUIRED,
} from "./external_tools.ts";

/** Sources with settable figures and a timer the test fires by hand. */
function fakeSources() {
  const state = {
    now: 1000,
    cpu: { user: 1_500_000, system: 250_000 },
    memory: { rss: 50_000_000, heapTotal: 9_000_000, heapUsed: 7_000_000, external: 1_000 },
    fds: 12 as number | undefined,
    resources: ["Timeout", "Timeout", "TCPSocketWrap"] as string[] | undefined,
    timer: undefined as { callback: () => void; delayMs: number; id: number } | undefined,
    armed: 0,
    cleared: [] as number[],
  };
  const sources: Partial<ProcessSources> = {
    cpuUsage: () => ({ ...state.cpu }),
    memoryUsage: () => ({ ...state.memory }),
    openFds: () => state.fds,
    maxFds: () => 1024,
    activeResources: () => state.resources,
    startTimeSeconds: () => 1_700_000_000.5,
    now: () => state.now,
    setTimer: (callback, delayMs) => {
      state.timer = { callback, delayMs, id: ++state.armed };
      return state.armed;
    },
    clearTimer: (id) => {
      state.cleared.push(id);
      if (state.timer?.id === id) state.timer = undefined;
    },
  };
  /** Advances the clock to `at` ms and fires the armed probe. */
  const fireAt = (at: number) => {
    state.now = at;
    const t = state.timer;
    if (t === undefined) throw new Error("No probe timer armed");
    state.timer = undefined;
    t.callback();
  };
  return { state, sources, fireAt };
}

Deno.test("collectDefaultMetrics() exports process and runtime figures under the standard names", () => {
  const registry = new MetricsRegistry({ defaultLabels: { service: "gw" } });
  const { state, sources } = fakeSources();
  using defaults = collectDefaultMetrics(registry, { sources });
  assertEquals(defaults.names, DEFAULT_METRIC_NAMES);
  let scrape = parseScrape(registry.exposeText());
  const value = (name: string, labels: Record<string, string> = {}) => {
    const found = find(scrape, name, labels);
    assertEquals(found.length, 1, `${name} ${JSON.stringify(labels)}`);
    assertEquals(found[0]!.labels.service, "gw");
    return found[0]!.value;
  };
  assertEquals(value("process_cpu_user_seconds_total"), 1.5);
  assertEquals(value("process_cpu_system_seconds_total"), 0.25);
  assertEquals(value("process_cpu_seconds_total"), 1.75);
  assertEquals(value("process_resident_memory_bytes"), 50_000_000);
  assertEquals(value("process_start_time_seconds"), 1_700_000_000.5);
  assertEquals(value("process_open_fds"), 12);
  assertEquals(value("process_max_fds"), 1024);
  assertEquals(value("nodejs_heap_size_total_bytes"), 9_000_000);
  assertEquals(value("nodejs_heap_size_used_bytes"), 7_000_000);
  assertEquals(value("nodejs_external_memory_bytes"), 1_000);
  assertEquals(value("nodejs_active_resources", { type: "Timeout" }), 2);
  assertEquals(value("nodejs_active_resources", { type: "TCPSocketWrap" }), 1);
  assertEquals(value("deno_version_info", { version: Deno.version.deno }), 1);
  assert(Number.isNaN(value("nodejs_eventloop_lag_seconds"))); // no probe yet: unknown
  assertEquals(scrape.types.get("process_cpu_seconds_total"), "counter");
  assertEquals(scrape.types.get("nodejs_eventloop_delay_seconds"), "histogram");

  // Read again on the next scrape; a resource kind that went away reads 0.
  state.cpu = { user: 2_000_000, system: 500_000 };
  state.memory = { ...state.memory, rss: 60_000_000 };
  state.resources = ["Timeout"];
  state.fds = 15;
  scrape = parseScrape(registry.exposeText());
  assertEquals(value("process_cpu_seconds_total"), 2.5);
  assertEquals(value("process_resident_memory_bytes"), 60_000_000);
  assertEquals(value("process_open_fds"), 15);
  assertEquals(value("nodejs_active_resources", { type: "Timeout" }), 1);
  assertEquals(value("nodejs_active_resources", { type: "TCPSocketWrap" }), 0);
  // A CPU figure that goes back (a bad source) never makes a counter go back.
  state.cpu = { user: 1, system: 1 };
  scrape = parseScrape(registry.exposeText());
  assertEquals(value("process_cpu_seconds_total"), 2.5);
  assertEquals(defaults.stats().collections, 3);
});

Deno.test("collectDefaultMetrics() measures event-loop lag as a histogram with p50, p99 and max in stats", () => {
  const registry = new MetricsRegistry({ selfMetrics: false });
  const { state, sources, fireAt } = fakeSources();
  const defaults = collectDefaultMetrics(registry, {
    sources,
    eventLoopResolutionMs: 10,
    eventLoopBuckets: [0.001, 0.01, 0.1],
  });
  assertEquals(state.timer?.delayMs, 10);
  assertEquals(defaults.stats().eventLoopLag.count, 0);
  assert(Number.isNaN(defaults.stats().eventLoopLag.p99));
  // Due at 1010; fired at 1010 (no lag), then each due 10 ms after it fired.
  let now = 1000;
  const lags = [0, 0.5, 0.5, 2, 0.5, 0.5, 0.5, 0.5, 0.5, 50];
  for (const lag of lags) {
    now += 10 + lag;
    fireAt(now);
  }
  const lag = defaults.stats().eventLoopLag;
  assertEquals(lag.count, 10);
  assertAlmostEquals(lag.p50, 0.5, 0.02);
  assertAlmostEquals(lag.max, 50, 1e-9);
  assertAlmostEquals(lag.p99, 50, 1.5);
  const scrape = parseScrape(registry.exposeText());
  assertEquals(
    find(scrape, "nodejs_eventloop_delay_seconds_bucket").map((s) => [s.labels.le, s.value]),
    [["0.001", 8], ["0.01", 9], ["0.1", 10], ["+Inf", 10]],
  );
  assertAlmostEquals(find(scrape, "nodejs_eventloop_delay_seconds_sum")[0]!.value, 0.0555, 1e-9);
  assertAlmostEquals(find(scrape, "nodejs_eventloop_lag_seconds")[0]!.value, 0.05, 1e-9);
  // close() stops the probe: its timer is cleared, no new one is armed.
  const armed = state.armed;
  defaults.close();
  assertEquals(state.cleared, [armed]);
  assertEquals(state.timer, undefined);
  assertEquals(defaults.stats().closed, true);
  defaults.close(); // idempotent
  assertEquals(state.cleared, [armed]);
});

Deno.test("collectDefaultMetrics() leaves out what the platform does not give", () => {
  const registry = new MetricsRegistry({ selfMetrics: false });
  const { sources } = fakeSources();
  using defaults = collectDefaultMetrics(registry, {
    sources: { ...sources, openFds: () => undefined, maxFds: () => undefined },
  });
  assertEquals(defaults.names.includes("process_open_fds"), false);
  assertEquals(defaults.names.includes("process_max_fds"), false);
  const text = registry.exposeText();
  assertEquals(text.includes("process_open_fds"), false);
  assertEquals(text.includes("nodejs_gc_duration_seconds"), false); // Deno 2.9.6 gives no GC entries
});

Deno.test("collectDefaultMetrics() takes a prefix, ignores the namespace, and refuses a second live collection", () => {
  const registry = new MetricsRegistry({ namespace: "myapp" });
  const { sources } = fakeSources();
  const first = collectDefaultMetrics(registry, { sources, prefix: "myapp_" });
  assert(first.names.every((n) => n.startsWith("myapp_")));
  assertEquals(first.names.length, DEFAULT_METRIC_NAMES.length);
  assertEquals(
    find(parseScrape(registry.exposeText()), "myapp_process_cpu_seconds_total")[0]!.value,
    1.75,
  );
  assertThrows(
    () => collectDefaultMetrics(registry, { sources }),
    TypeError,
    "Cannot collect default metrics as the registry already collects them",
  );
  first.close();
  // Unprefixed standard names are allowed despite the namespace.
  using second = collectDefaultMetrics(registry, { sources });
  assert(second.names.includes("process_cpu_seconds_total"));
  assertThrows(
    () => registry.gauge({ name: "process_other", help: "Other" }),
    TypeError,
    "namespace 'myapp_'",
  );
});

Deno.test("collectDefaultMetrics() checks its arguments and registers nothing on a rejected call", () => {
  const registry = new MetricsRegistry({ selfMetrics: false });
  const { sources } = fakeSources();
  const cases: [unknown, unknown, string][] = [
    [{}, { sources }, "'registry' must be a MetricsRegistry"],
    [registry, 5, "'options' must be"],
    [registry, { sources, prefix: "MyApp_" }, "'prefix' must be lower snake case ending with '_'"],
    [registry, { sources, prefix: "myapp" }, "'prefix'"],
    [registry, { sources, eventLoopResolutionMs: 0 }, "'eventLoopResolutionMs'"],
    [registry, { sources, eventLoopResolutionMs: 1.5 }, "'eventLoopResolutionMs'"],
    [registry, { sources, eventLoopBuckets: [1, 1] }, "'eventLoopBuckets' must be finite"],
    [registry, { sources: { now: 5 } }, "'sources.now' must be a function"],
  ];
  for (const [r, options, expected] of cases) {
    const error = assertThrows(() =>
      collectDefaultMetrics(r as MetricsRegistry, options as Record<string, never>)
    );
    assert(error instanceof TypeError || error instanceof RangeError);
    assert(error.message.startsWith("Cannot collect default metrics as "), error.message);
    assert(error.message.includes(expected), error.message);
  }
  assertEquals(registry.inventory(), []);
  // A clash with an existing family rolls the whole call back.
  registry.counter({ name: "nodejs_heap_size_used_bytes_total", help: "Clash", unit: "bytes" });
  assertThrows(() => collectDefaultMetrics(registry, { sources }), TypeError, "clash");
  assertEquals(registry.inventory().map((m) => m.name), ["nodejs_heap_size_used_bytes_total"]);
  using ok = collectDefaultMetrics(new MetricsRegistry(), { sources }); // still usable elsewhere
  assertEquals(ok.stats().closed, false);
});

Deno.test("collectDefaultMetrics() on the real runtime: a scrape that parses and makes sense", async () => {
  const registry = new MetricsRegistry({ defaultLabels: { instance: "test" } });
  const defaults = collectDefaultMetrics(registry, { eventLoopResolutionMs: 1 });
  // Wait for a few probes (a condition, not a fixed sleep).
  while (defaults.stats().eventLoopLag.count < 3) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const text = registry.exposeText();
  const scrape = parseScrape(text);
  const one = (name: string) => find(scrape, name)[0]!.value;
  assert(one("process_resident_memory_bytes") > 1_000_000);
  assert(one("nodejs_heap_size_used_bytes") > 0);
  assert(one("nodejs_heap_size_used_bytes") <= one("nodejs_heap_size_total_bytes"));
  assert(one("process_cpu_seconds_total") > 0);
  assertAlmostEquals(
    one("process_cpu_seconds_total"),
    one("process_cpu_user_seconds_total") + one("process_cpu_system_seconds_total"),
    1e-6,
  );
  const start = one("process_start_time_seconds");
  assert(start <= Date.now() / 1000 && start > Date.now() / 1000 - 3600, String(start));
  assert(one("nodejs_eventloop_delay_seconds_count") >= 3);
  assert(one("nodejs_eventloop_lag_seconds") >= 0);
  // Only with read access to /proc/self/fd (not under --allow-read=.).
  if (defaults.names.includes("process_open_fds")) assert(one("process_open_fds") > 0);
  else assertEquals(find(scrape, "process_open_fds"), []);
  const stats = defaults.stats().eventLoopLag;
  assert(stats.p50 <= stats.p99 && stats.p99 <= stats.max, JSON.stringify(stats));
  defaults.close(); // the sanitizers fail this test if the probe's timer is left
  if (HAS_PYTHON_CLIENT || REQUIRED) {
    const outcomes = await parseWithPython([
      { format: "prometheus", text },
      { format: "openmetrics", text: registry.exposeText("openmetrics") },
    ]);
    assertEquals(outcomes.map((o) => o.error), [null, null]);
  }
  if (PROMTOOL !== undefined) {
    assertEquals(await checkWithPromtool(PROMTOOL, [text]), undefined);
  }
});
