// The worker host with real Web Workers: lifecycle, bus, crash, every phase
// throwing, the same module in all three hosts, out-of-memory contained by a
// heap-limited inner thread, and a hang (in a subprocess: a zombie thread
// spins forever and would keep this test process alive).
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import {
  crashCase,
  lifecycleCase,
  phasesCase,
  sameModuleCase,
  setUp,
} from "./_fixtures/remote/_cases.ts";
import { nextEvent, remoteManifest, telemetryEvent } from "./_fixtures/remote/_kernel.ts";

Deno.test("WorkerHost runs a plugin through its lifecycle with the bus, metrics and state", async () => {
  await lifecycleCase("worker");
});

Deno.test("WorkerHost reports a crash with its cause and the supervisor restarts it", async () => {
  await crashCase("worker");
});

Deno.test("WorkerHost fails the phase a plugin throws in (load, init, start, stop, shutdown)", async () => {
  await phasesCase("worker");
});

Deno.test("The same plugin module runs unchanged inline, in a worker and in a process", async () => {
  await sameModuleCase();
});

Deno.test("WorkerHost contains out-of-memory with limits.maxHeapMb (a heap-limited inner thread)", async () => {
  const { p, plugins, workers, settle } = setUp();
  try {
    const started = nextEvent<string>(p.bus, "oom.started");
    await plugins.load(remoteManifest("oom", "oom.ts", "worker", {
      capabilities: ["publish"],
      limits: { maxHeapMb: 32 },
      restart: { restartEnabled: false },
      // A heap near its limit collects for seconds before it gives up; on a
      // loaded machine that silence outlasts the default hang budget, and
      // this test is about the out-of-memory, not the hang.
      budgets: { hangMs: 60_000, taskBudgetMs: 60_000 },
    }));
    assertEquals(await started, "worker");
    const exit = await telemetryEvent(plugins, (e) => e.kind === "exit");
    assertStringIncludes(exit.reason!, "out-of-memory: it ran out of heap");
    assertEquals(plugins.get("oom")!.state, "failed");
    assertEquals(workers.stats().zombies, 0);
  } finally {
    await settle();
  }
});

Deno.test("WorkerHost marks a spinning plugin hung, restarts it in a new Worker and counts the zombie", async () => {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 120_000);
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-read=.",
        "--allow-run",
        "--allow-env",
        new URL("./_fixtures/remote/worker_hang_main.ts", import.meta.url).pathname,
      ],
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
    }).output();
    const stdout = new TextDecoder().decode(out.stdout).trim().split("\n");
    const report = JSON.parse(stdout.at(-1) ?? "{}");
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    assertStringIncludes(report.exit, 'hung: task "spin" ran past its budget of 100 ms');
    assertEquals(report.killZombie, true);
    assertEquals(report.restarted, true);
    assertEquals(report.managerZombies, 1);
    assertEquals(report.workers.zombies, 1);
    assert(report.workers.started >= 2);
    assertEquals(report.secondStarted, "worker");
  } finally {
    clearTimeout(timer);
  }
});
