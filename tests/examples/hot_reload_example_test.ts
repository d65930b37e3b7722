// examples/hot_reload.ts as a user runs it, in a subprocess: watch-mode
// reloads under a 1 kHz sampler with every event acknowledged, then a broken
// version on probation that is rolled back (to the kept instance on the
// worker host, by a restart from the manifest on the process host).
import { assertEquals, assertStringIncludes } from "@std/assert";

async function runExample(isolation: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../../examples/hot_reload.ts", import.meta.url).pathname,
      "--seconds",
      "3",
      "--isolation",
      isolation,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, text);
  return text;
}

const CASES: [string, string][] = [
  ["worker", "by its kept instance"],
  ["process", "by a restart from its manifest"],
];
for (const [isolation, how] of CASES) {
  Deno.test(`examples/hot_reload.ts (${isolation}) reloads with equal totals and rolls a broken version back ${how}`, async () => {
    const text = await runExample(isolation);
    assertStringIncludes(text, `back to 1.0.0 ${how}`);
    assertStringIncludes(text, "running: 1.0.0 (started)");
    assertStringIncludes(text, "(equal)");
  });
}
