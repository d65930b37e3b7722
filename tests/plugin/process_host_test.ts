// The process host with real subprocesses: lifecycle, bus, crash, hang (a
// hard kill), out-of-memory, a broken framing, every phase throwing.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { crashCase, lifecycleCase, phasesCase, setUp } from "./_fixtures/remote/_cases.ts";
import { nextEvent, remoteManifest, telemetryEvent } from "./_fixtures/remote/_kernel.ts";

Deno.test("ProcessHost runs a plugin through its lifecycle with the bus, metrics and state", async () => {
  await lifecycleCase("process");
});

Deno.test("ProcessHost reports a crash with its cause and the supervisor restarts it", async () => {
  await crashCase("process");
});

Deno.test("ProcessHost fails the phase a plugin throws in (load, init, start, stop, shutdown)", async () => {
  await phasesCase("process");
});

Deno.test("ProcessHost marks a spinning plugin hung, kills it hard and restarts it", async () => {
  const { p, plugins, processes, settle } = setUp();
  try {
    const started = nextEvent<string>(p.bus, "hang.started");
    await plugins.load(remoteManifest("hang", "hang.ts", "process", {
      capabilities: ["publish"],
      budgets: { heartbeatMs: 20, hangMs: 200 },
      restart: { maxRetries: 1, backoffInitialMs: 10, backoffJitterRatio: 0 },
    }));
    assertEquals(await started, "process");
    const exit = await telemetryEvent(plugins, (e) => e.kind === "exit");
    assertStringIncludes(exit.reason!, "hung: it sent no heartbeat for over 200 ms");
    const kill = await telemetryEvent(plugins, (e) => e.kind === "kill");
    assert(!kill.reason!.includes("zombie"));
    await telemetryEvent(plugins, (e) => e.kind === "restart_loaded");
    await telemetryEvent(plugins, (e) => e.kind === "restart_give_up");
    assertEquals(plugins.stats().zombies, 0);
    await plugins.close();
    await processes.settled();
    const stats = processes.stats();
    assertEquals([stats.started, stats.live], [2, 0]);
    assert(stats.terminated >= 2);
  } finally {
    await settle();
  }
});

Deno.test("ProcessHost contains a plugin that runs out of heap (limits.maxHeapMb)", async () => {
  const { p, plugins, settle } = setUp();
  try {
    const started = nextEvent<string>(p.bus, "oom.started");
    await plugins.load(remoteManifest("oom", "oom.ts", "process", {
      capabilities: ["publish"],
      limits: { maxHeapMb: 32 },
      restart: { restartEnabled: false },
      // A heap near its limit collects for seconds before it gives up; on a
      // loaded machine that silence outlasts the default hang budget, and
      // this test is about the out-of-memory, not the hang.
      budgets: { hangMs: 60_000, taskBudgetMs: 60_000 },
    }));
    assertEquals(await started, "process");
    const exit = await telemetryEvent(plugins, (e) => e.kind === "exit");
    assertStringIncludes(exit.reason!, "out-of-memory: it ran out of heap");
    assertEquals(plugins.get("oom")!.state, "failed");
  } finally {
    await settle();
  }
});

Deno.test("ProcessHost fails a plugin that breaks the stdio framing, never the kernel", async () => {
  const { plugins, settle } = setUp();
  try {
    await plugins.load(remoteManifest("framing", "framing.ts", "process", {
      restart: { restartEnabled: false },
    }));
    const exit = await telemetryEvent(plugins, (e) => e.kind === "exit");
    assertStringIncludes(exit.reason!, "crashed: it broke the stdio framing");
    assertStringIncludes(exit.reason!, "hello, host");
    assertEquals(plugins.get("framing")!.state, "failed");
  } finally {
    await settle();
  }
});
