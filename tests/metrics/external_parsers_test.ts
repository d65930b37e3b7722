// The exposition checked by the real tools users run: promtool (Debian's
// `prometheus` package) and the strict OpenMetrics parser of Debian's
// `python3-prometheus-client`. `.ci/run` installs both and sets
// CHRONETIX_REQUIRE_TOOLS=1, so in CI these tests cannot be skipped; on a
// machine without the tools they are reported as ignored.
import { assertEquals, fail } from "@std/assert";
import { everyKindRegistry } from "./_fixture.ts";

const REQUIRED = Deno.env.get("CHRONETIX_REQUIRE_TOOLS") === "1";

async function run(cmd: string, args: string[], input: Uint8Array) {
  const child = new Deno.Command(cmd, { args, stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();
  const writer = child.stdin.getWriter();
  await writer.write(input);
  await writer.close();
  const out = await child.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

async function available(cmd: string, args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output()).success;
  } catch {
    return false;
  }
}

const PROMTOOL = [Deno.env.get("PROMTOOL"), ".ci/tools/usr/bin/promtool", "promtool"].filter(
  (p): p is string => p !== undefined,
);
let promtool: string | undefined;
for (const candidate of PROMTOOL) {
  if (await available(candidate, ["--version"])) {
    promtool = candidate;
    break;
  }
}
const PYTHON = "/usr/bin/python3";
const hasPythonClient = await available(PYTHON, ["-c", "import prometheus_client"]);

Deno.test({
  name: "promtool check metrics accepts the Prometheus text exposition of every kind of metric",
  ignore: promtool === undefined && !REQUIRED,
  async fn() {
    if (promtool === undefined) {
      fail("promtool is required (CHRONETIX_REQUIRE_TOOLS=1) but was not found");
    }
    const result = await run(
      promtool,
      ["check", "metrics"],
      everyKindRegistry().expose("prometheus"),
    );
    assertEquals(result.code, 0, `promtool said:\n${result.stdout}${result.stderr}`);
    assertEquals(
      result.stdout.trim() + result.stderr.trim(),
      "",
      "promtool reported lint problems",
    );
  },
});

const PARSE = `
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om
from prometheus_client.parser import text_string_to_metric_families as prom
text = sys.stdin.read()
families = list((om if sys.argv[1] == "openmetrics" else prom)(text))
print(len(families), sum(len(f.samples) for f in families))
`;

for (const format of ["openmetrics", "prometheus"] as const) {
  Deno.test({
    name: `python prometheus_client's strict parser accepts the ${format} exposition`,
    ignore: !hasPythonClient && !REQUIRED,
    async fn() {
      if (!hasPythonClient) fail("python3-prometheus-client is required but was not found");
      const registry = everyKindRegistry();
      const result = await run(PYTHON, ["-c", PARSE, format], registry.expose(format));
      assertEquals(result.code, 0, result.stderr);
      const [families, samples] = result.stdout.trim().split(" ").map(Number);
      const expected = new Set(registry.inventory().map((m) => m.name)).size;
      assertEquals(families, expected);
      assertEquals(samples, registry.flatten().length);
    },
  });
}
