import { assertEquals, assertThrows } from "@std/assert";
import { checkMetricSpec } from "../../src/metrics/naming.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";

Deno.test("checkMetricSpec() accepts well-formed names in base units", () => {
  for (
    const spec of [
      { name: "chronetix_timer_fires_total", type: "counter" },
      { name: "chronetix_driver_spin_seconds_total", type: "counter", unit: "seconds" },
      { name: "chronetix_timer_lateness_seconds", type: "histogram", unit: "seconds" },
      { name: "chronetix_data_port_in_use_bytes", type: "gauge", unit: "bytes" },
      { name: "chronetix_timer_pending", type: "gauge" },
    ] as const
  ) {
    assertEquals(checkMetricSpec({ ...spec, help: "Something measured" }), [], spec.name);
  }
});

Deno.test("checkMetricSpec() accepts any prefix for user names and checks a namespace", () => {
  const spec = { name: "myapp_frames_received_total", type: "counter", help: "Frames" } as const;
  assertEquals(checkMetricSpec(spec), []);
  assertEquals(checkMetricSpec(spec, { namespace: "myapp" }), []);
  assertEquals(
    checkMetricSpec({ ...spec, name: "process_cpu_seconds_total", unit: "seconds" }),
    [],
  );
  assertEquals(checkMetricSpec(spec, { namespace: "chronetix" }), [
    "Cannot register metric 'myapp_frames_received_total' as its name must start with the namespace 'chronetix_'",
  ]);
  // A prefix that is only the start of a longer word is no namespace.
  assertEquals(
    checkMetricSpec({ ...spec, name: "myapps_x_total" }, { namespace: "myapp" }).length,
    1,
  );
});

Deno.test("checkMetricSpec() names each breach", async (t) => {
  const cases: [string, Parameters<typeof checkMetricSpec>[0], string][] = [
    ["prefix", { name: "fires", type: "gauge", help: "x" }, "must match <prefix>_<name>"],
    ["colon", { name: "myapp:fires", type: "gauge", help: "x" }, "no colon"],
    ["camelCase", { name: "myApp_fires", type: "gauge", help: "x" }, "lower snake case"],
    ["double underscore", { name: "__myapp_fires", type: "gauge", help: "x" }, "lower snake"],
    ["trailing underscore", { name: "myapp_fires_", type: "gauge", help: "x" }, "lower snake"],
    [
      "non-base unit in a user name",
      { name: "myapp_wait_ms", type: "gauge", help: "x" },
      "'ms' is not a base unit",
    ],
    ["subsystem", { name: "chronetix_fires", type: "gauge", help: "x" }, "must match chronetix_"],
    ["case", { name: "chronetix_Timer_fires", type: "gauge", help: "x" }, "must match chronetix_"],
    [
      "counter suffix",
      { name: "chronetix_timer_fires", type: "counter", help: "x" },
      "must end with '_total'",
    ],
    [
      "gauge suffix",
      { name: "chronetix_timer_fires_total", type: "gauge", help: "x" },
      "must not end with '_total'",
    ],
    [
      "non-base unit",
      { name: "chronetix_timer_lateness_ms", type: "gauge", help: "x" },
      "'ms' is not a base unit: use 'seconds'",
    ],
    ["kilobytes", { name: "chronetix_port_kilobytes", type: "gauge", help: "x" }, "use 'bytes'"],
    [
      "abbreviated unit (promtool lint)",
      { name: "chronetix_timer_lateness_s", type: "gauge", help: "x" },
      "'s' is an abbreviated unit: use 'seconds'",
    ],
    [
      "abbreviated unit in the subsystem",
      { name: "chronetix_b_pending", type: "gauge", help: "x" },
      "'b' is an abbreviated unit: use 'bytes'",
    ],
    [
      "type in the name (promtool lint)",
      { name: "chronetix_timer_gauge", type: "gauge", help: "x" },
      "must not hold the metric type 'gauge'",
    ],
    [
      "histogram suffix on a gauge (promtool lint)",
      { name: "chronetix_timer_fires_count", type: "gauge", help: "x" },
      "a gauge name must not end with '_count', which histograms use",
    ],
    [
      "camelCase label (promtool lint)",
      { name: "chronetix_timer_pending", type: "gauge", help: "x", labelNames: ["timerName"] },
      'label name "timerName" is camelCase',
    ],
    ["unit mismatch", {
      name: "chronetix_timer_lateness",
      type: "gauge",
      help: "x",
      unit: "seconds",
    }, "must end with its unit '_seconds'"],
    ["unknown unit", {
      name: "chronetix_timer_lateness_ticks",
      type: "gauge",
      help: "x",
      unit: "ticks",
    }, "must be a base unit"],
    [
      "missing help",
      { name: "chronetix_timer_pending", type: "gauge", help: "" },
      "its HELP text is missing",
    ],
    [
      "blank help",
      { name: "chronetix_timer_pending", type: "gauge", help: "   " },
      "its HELP text is missing",
    ],
    [
      "trailing period",
      { name: "chronetix_timer_pending", type: "gauge", help: "Pending timers." },
      "must not end with a period",
    ],
    ["bad label", {
      name: "chronetix_timer_pending",
      type: "gauge",
      help: "x",
      labelNames: ["1abc"],
    }, `label name "1abc" is not valid`],
    ["dunder label", {
      name: "chronetix_timer_pending",
      type: "gauge",
      help: "x",
      labelNames: ["__x"],
    }, `label name "__x" is not valid`],
    ["reserved label", {
      name: "chronetix_timer_pending",
      type: "gauge",
      help: "x",
      labelNames: ["le"],
    }, `label name "le" is reserved`],
    ["repeated label", {
      name: "chronetix_timer_pending",
      type: "gauge",
      help: "x",
      labelNames: ["a", "a"],
    }, `label name "a" is repeated`],
  ];
  for (const [title, spec, expected] of cases) {
    await t.step(title, () => {
      const problems = checkMetricSpec(spec);
      assertEquals(problems.length >= 1, true);
      assertEquals(problems.some((p) => p.includes(expected)), true, problems.join("\n"));
      assertEquals(
        problems.every((p) => p.startsWith(`Cannot register metric '${spec.name}' as `)),
        true,
      );
    });
  }
});

Deno.test("MetricsRegistry rejects a breach at creation with a TypeError naming the metric", () => {
  const registry = new MetricsRegistry();
  assertThrows(
    () => registry.counter({ name: "chronetix_timer_fires", help: "Fires" }),
    TypeError,
    "Cannot register metric 'chronetix_timer_fires' as a counter name must end with '_total'",
  );
  assertThrows(
    () => registry.gauge({ name: "chronetix_timer_pending", help: "Pending." }),
    TypeError,
    "its HELP must not end with a period",
  );
  assertThrows(
    () => registry.histogram({ name: "chronetix_x_y_seconds", help: "x", buckets: [1, 1] }),
    RangeError,
    "'buckets' must be finite and strictly ascending",
  );
  assertThrows(
    () => registry.histogram({ name: "chronetix_x_y_seconds", help: "x", buckets: [] }),
    RangeError,
    "'buckets'",
  );
});

Deno.test("MetricsRegistry returns the same family for an identical declaration and rejects a conflicting one", () => {
  const registry = new MetricsRegistry();
  const a = registry.counter({
    name: "chronetix_demo_events_total",
    help: "Events",
    labelNames: ["k"],
  });
  const b = registry.counter({
    name: "chronetix_demo_events_total",
    help: "Events",
    labelNames: ["k"],
  });
  assertEquals(a === b, true);
  assertThrows(
    () =>
      registry.counter({ name: "chronetix_demo_events_total", help: "Other", labelNames: ["k"] }),
    TypeError,
    "already registered with a different declaration",
  );
  assertThrows(
    () =>
      registry.gauge({ name: "chronetix_demo_events_total", help: "Events", labelNames: ["k"] }),
    TypeError,
  );
});

Deno.test("lintInventory() keeps the kernel's families in the chronetix namespace, standard ones aside", async () => {
  const { lintInventory } = await import("../../src/cli/metrics.ts");
  const entry = (name: string, type: "counter" | "gauge", unit = "") => ({
    name,
    type,
    unit,
    help: "Something",
    labels: [],
  });
  const inventory = [
    entry("chronetix_bus_published_total", "counter"),
    entry("process_cpu_seconds_total", "counter", "seconds"),
    entry("nodejs_heap_size_used_bytes", "gauge", "bytes"),
    entry("myapp_frames_total", "counter"),
  ];
  assertEquals(lintInventory(inventory, "chronetix"), [
    "Cannot register metric 'myapp_frames_total' as its name must start with the namespace 'chronetix_'",
  ]);
  // A user's own inventory file: any prefix.
  assertEquals(lintInventory(inventory), []);
});
