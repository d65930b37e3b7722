import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { kernelInventory, lintInventory, renderMetricsMarkdown } from "../../src/cli/metrics.ts";

const decoder = new TextDecoder();

async function runCli(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-read=.",
      new URL("../../src/cli/metrics.ts", import.meta.url).href,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

Deno.test("kernelInventory() holds every component's metrics", async () => {
  const inventory = await kernelInventory();
  const names = inventory.map((m) => m.name);
  for (
    const name of [
      "chronetix_timer_lateness_seconds",
      "chronetix_metrics_overflow_total",
      "chronetix_bus_published_total",
      "chronetix_bus_handler_errors_total",
    ]
  ) {
    assert(names.includes(name), name);
  }
  // Names in other layers change with them: check that each layer contributes.
  for (
    const subsystem of ["timer", "exec", "offload", "dataport", "alloc", "ring"]
  ) {
    assert(names.some((n) => n.startsWith(`chronetix_${subsystem}_`)), subsystem);
  }
  assertEquals(lintInventory(inventory), []);
});

Deno.test("lintInventory() rejects a precomputed quantile", () => {
  assertEquals(
    lintInventory([
      {
        name: "chronetix_exec_latency_p99_seconds",
        type: "gauge",
        unit: "seconds",
        help: "P99",
        labels: [],
      },
      {
        name: "chronetix_exec_pool_size",
        type: "gauge",
        unit: "",
        help: "Not a quantile",
        labels: [],
      },
    ]),
    [
      "Cannot register metric 'chronetix_exec_latency_p99_seconds' as 'p99' is a precomputed quantile, which cannot be aggregated: export a histogram instead",
    ],
  );
});

Deno.test("renderMetricsMarkdown() lists every metric, sorted, with escaped cells", () => {
  const text = renderMetricsMarkdown([
    {
      name: "chronetix_b_x_total",
      type: "counter",
      unit: "",
      help: "Uses a | pipe",
      labels: ["k"],
    },
    { name: "chronetix_a_y_seconds", type: "gauge", unit: "seconds", help: "Y", labels: [] },
  ]);
  const rows = text.split("\n").filter((l) => l.startsWith("| `"));
  assertEquals(rows, [
    "| `chronetix_a_y_seconds` | gauge | seconds |  | Y |",
    "| `chronetix_b_x_total` | counter |  | `k` | Uses a \\| pipe |",
  ]);
});

Deno.test("metrics lint exits non-zero and names each breach in a JSON inventory", async () => {
  const file = await Deno.makeTempFile({ dir: ".", suffix: ".json" });
  try {
    await Deno.writeTextFile(
      file,
      JSON.stringify([
        { name: "chronetix_ok_events_total", type: "counter", unit: "", help: "Fine", labels: [] },
        { name: "chronetix_bad_latency_ms", type: "gauge", unit: "", help: "Latency.", labels: [] },
      ]),
    );
    const result = await runCli(["lint", file]);
    assertEquals(result.code, 1);
    assertStringIncludes(result.stderr, "'ms' is not a base unit: use 'seconds'");
    assertStringIncludes(result.stderr, "its HELP must not end with a period");
    assertStringIncludes(result.stdout, "2 metrics checked, 2 problem(s)");
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("metrics docs --check passes on the committed file and usage errors exit 2", async () => {
  const check = await runCli(["docs", "--check"]);
  assertEquals(check.code, 0, check.stderr);
  assertStringIncludes(check.stdout, "docs/metrics.md is up to date");
  const bad = await runCli(["publish"]);
  assertEquals(bad.code, 2);
  assertStringIncludes(bad.stderr, "Cannot run the metrics tool as 'publish' is not a command");
});
