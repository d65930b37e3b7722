// The whole-system demo, run the way a newcomer runs it: `deno task demo`
// in a subprocess, with DEMO_SECONDS=20. Its scenario script prints one
// `DEMO RESULT {json}` line after the shutdown; the checks here are on what
// happened (counts, states, faults), never on how fast.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import type { DemoResult } from "../../examples/demo/_result.ts";

const ROOT = new URL("../../", import.meta.url);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  result: DemoResult;
}

async function runDemo(): Promise<Run> {
  const output = await new Deno.Command(Deno.execPath(), {
    // A free port, so the test runs beside anything on the config's 8080.
    args: ["task", "--quiet", "demo", "--port", "0"],
    cwd: ROOT,
    env: { DEMO_SECONDS: "20", NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  const line = stdout.split("\n").find((l) => l.startsWith("DEMO RESULT "));
  if (line === undefined) {
    throw new Error(
      `The demo printed no DEMO RESULT line (exit ${output.code}):\n${stdout}\n${stderr}`,
    );
  }
  return {
    code: output.code,
    stdout,
    stderr,
    result: JSON.parse(line.slice("DEMO RESULT ".length)),
  };
}

Deno.test("deno task demo runs every part, heals what it breaks, and shuts down gracefully", async (t) => {
  const { code, stdout, stderr, result: r } = await runDemo();
  const context = `\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;
  assertEquals(code, 0, `exit code ${code}${context}`);
  assert(r.ok, `the demo's own checks failed: ${r.failures.join("; ")}${context}`);

  await t.step("it says where the dashboard is and prints the live table", () => {
    assertStringIncludes(stdout, "Server listening on http://127.0.0.1:");
    assert(/^Dashboard: http:\/\/127\.0\.0\.1:\d+\/$/m.test(stdout), "no dashboard URL");
    const ticks = stdout.split("\n").filter((l) => /^-- \d+ s$/.test(l));
    assert(ticks.length >= 10, `only ${ticks.length} status table ticks`);
    assert(/^task +crc +running/m.test(stdout), "no crc row in the table");
    assert(/^port +frames /m.test(stdout), "no data port row in the table");
    assert(/^faults +\d+ active/m.test(stdout), "no faults row in the table");
    assertStringIncludes(stdout, "Demo summary");
    assertStringIncludes(stdout, "Summary after");
  });

  await t.step("every component was running when the shutdown began", () => {
    for (
      const name of [
        "island:control",
        "task:crc",
        "task:burst-latest",
        "task:burst-first",
        "task:burst-all",
        "offload",
        "server",
        "dashboard",
      ]
    ) {
      assertEquals(r.running[name], "running", name);
    }
    for (const name of ["plugin:sampler", "plugin:consumer", "plugin:greedy"]) {
      assertEquals(r.running[name], "started", name);
    }
    // The faulty plugin was given up and unloaded by then.
    assertEquals(r.running["plugin:faulty"], undefined);
  });

  await t.step("the stream lost no frame and the consumer's count survived its reload", () => {
    const s = r.stream;
    assert(s.published > 500, `only ${s.published} readings`);
    assertEquals(s.frameBytes, 1024);
    assertEquals(s.framesSent, s.published);
    assertEquals(s.framesRefused, 0);
    assertEquals(s.framesLost, 0);
    assertEquals(s.framesReceived, s.framesSent);
    assertEquals([s.frameGaps, s.badFrames], [0, 0], JSON.stringify(s.frameGapsAt));
    assertEquals(s.port.unreceived + s.port.unrecycled, 0);
    assertEquals(s.consumerEvents, s.published);
    assertEquals(s.eventGaps, 0);
    assert(r.reloads.ok >= 1, "the consumer was never reloaded");
    assertEquals(r.reloads.failed, 0);
    assertEquals(s.consumerInstances, r.reloads.ok + 1);
    assertEquals(s.consumerVersion, r.reloads.versions.at(-1));
  });

  await t.step(
    "faulty crashed, was restarted with backoff once, then given up and unloaded",
    () => {
      const f = r.plugins.faulty!;
      assertEquals(f.crashes, 2);
      assertEquals([f.restartsScheduled, f.restartsLoaded], [1, 1]);
      assertEquals([f.giveUps, f.autoUnloads], [1, 1]);
    },
  );

  await t.step("hung was detected, replaced, and its Worker reported a zombie", () => {
    const h = r.plugins.hung!;
    assert(h.hangs >= 1, "no hang detected");
    // Each hang's kill leaves a zombie; the last kill may come after the shutdown began.
    assert(h.zombies >= 1 && h.zombies <= h.hangs && h.hangs - h.zombies <= 1, JSON.stringify(h));
    assert(h.restartsLoaded >= 1, "never replaced");
    assertEquals(h.crashes, 0);
  });

  await t.step("greedy's escapes were all denied", () => {
    assert(r.greedy.attempts >= 9, `${r.greedy.attempts} attempts`);
    assertEquals(r.greedy.denied, r.greedy.attempts);
    assertEquals(r.greedy.escaped, 0);
    assertStringIncludes(stdout + stderr, "denied: read deno.json");
  });

  await t.step("the QoS caps shed burst events by policy; the deferring task ran them", () => {
    assert(r.qos["burst-latest"]!.dropped["task-cap"]! > 0, "drop-oldest dropped nothing");
    assert(r.qos["burst-first"]!.dropped["task-cap"]! > 0, "drop-newest dropped nothing");
    const all = r.qos["burst-all"]!;
    assertEquals(all.dropped["task-cap"], 0);
    assert(all.runs > r.qos["burst-latest"]!.runs, "defer ran no more than drop-oldest");
  });

  await t.step("the offloaded CRC jobs ran and were right", () => {
    assert(r.crc.jobs > 0, "no CRC job ran");
    assertEquals([r.crc.mismatches, r.crc.failures], [0, 0]);
  });

  await t.step("the plugin faults were raised and healed as scripted", () => {
    for (const f of ["PLUGIN_CRASHED@faulty", "PLUGIN_GAVE_UP@faulty", "PLUGIN_HUNG@hung"]) {
      assert(r.faults.raised.includes(f), `${f} was not raised: ${r.faults.raised}`);
    }
    for (const f of ["PLUGIN_CRASHED@faulty", "PLUGIN_HUNG@hung"]) {
      assert(r.faults.healed.includes(f), `${f} never healed: ${r.faults.healed}`);
    }
    assert(r.faults.held.includes("PLUGIN_GAVE_UP@faulty"), "the give-up fault did not stay");
  });

  await t.step("the shutdown was graceful", () => {
    assertEquals(r.shutdown.graceful, true);
    assertStringIncludes(stdout, "Shutdown report: graceful");
  });
});
