// The behaviours both remote hosts share, as test bodies parameterised by
// isolation: tests/plugin/worker_host_test.ts and process_host_test.ts run them.
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { PluginError } from "../../../../src/plugin/plugin_error.ts";
import { createWorkerHost } from "../../../../src/plugin/worker_host.ts";
import { createProcessHost } from "../../../../src/plugin/process_host.ts";
import type { PluginManager } from "../../../../src/plugin/plugin_manager.ts";
import {
  nextEvent,
  realManager,
  type RealParts,
  realParts,
  remoteManifest,
  telemetryEvent,
} from "./_kernel.ts";

type Isolation = "inline" | "worker" | "process";

/** A manager whose remote hosts the test can wait on. */
export function setUp(): {
  p: RealParts;
  plugins: PluginManager;
  settle(): Promise<void>;
  workers: ReturnType<typeof createWorkerHost>;
  processes: ReturnType<typeof createProcessHost>;
} {
  const p = realParts();
  const workers = createWorkerHost();
  const processes = createProcessHost({ killGraceMs: 2000 });
  const plugins = realManager(p, { hosts: { worker: workers, process: processes } });
  return {
    p,
    plugins,
    workers,
    processes,
    async settle() {
      await plugins.close();
      await processes.settled();
      p[Symbol.dispose]();
    },
  };
}

const ECHO = { capabilities: ["publish", "subscribe", "metrics"] as const };

/** load → start, publish/subscribe through the bus, metrics, logs, state, stop → shutdown. */
export async function lifecycleCase(isolation: Isolation): Promise<void> {
  const { p, plugins, settle } = setUp();
  try {
    const ticks = nextEvent<number>(p.bus, "echo.ticks", (n) => n >= 3);
    const started = nextEvent<unknown>(p.bus, "echo.started");
    const info = await plugins.load(remoteManifest("echo", "echo.ts", isolation, {
      capabilities: [...ECHO.capabilities],
    }));
    assertEquals([info.state, info.isolation, info.lifecycle.transitions], [
      "started",
      isolation,
      4,
    ]);
    assertEquals(await started, null);
    assert((await ticks) >= 3);
    const out = nextEvent<{ value: number; isolation: string }>(p.bus, "echo.out");
    p.bus.topic<number>("echo.in").publish(21);
    assertEquals(await out, { value: 42, isolation });
    // State handed over to the next instance (a restart by hand).
    const restarted = nextEvent<unknown>(p.bus, "echo.started");
    const stopped = nextEvent<boolean>(p.bus, "echo.stopped");
    await plugins.restart("echo", { keepState: true });
    assertEquals(await stopped, true);
    assertEquals(await restarted, { saved: 42 });
    const second = nextEvent<{ value: number }>(p.bus, "echo.out");
    p.bus.topic<number>("echo.in").publish(5);
    assertEquals((await second).value, 10);
    const report = await plugins.unload("echo");
    assertEquals([report.graceful, report.state, report.killed, report.zombie], [
      true,
      "shutdown",
      false,
      false,
    ]);
    assert(p.logger.lines.includes(`info: [plugin echo] init in ${isolation}`));
    assertEquals(
      p.metrics.counter({
        name: "chronetix_plugin_echo_echoed_total",
        help: "Events echoed",
        softLimit: 50,
        hardLimit: 100,
      }).labels().value,
      2,
    );
  } finally {
    await settle();
  }
}

/** A task that throws ends the instance as `crashed`; the supervisor restarts it. */
export async function crashCase(isolation: Isolation): Promise<void> {
  const { plugins, settle } = setUp();
  try {
    await plugins.load(remoteManifest("crash", "crash.ts", isolation, {
      restart: { maxRetries: 1, backoffInitialMs: 10, backoffJitterRatio: 0 },
    }));
    const exit = await telemetryEvent(plugins, (e) => e.kind === "exit");
    assertStringIncludes(exit.reason!, 'crashed: task "boom" threw: boom from ' + isolation);
    await telemetryEvent(plugins, (e) => e.kind === "restart_loaded");
    const giveUp = await telemetryEvent(plugins, (e) => e.kind === "restart_give_up");
    assertEquals(giveUp.plugin, "crash");
    const info = plugins.get("crash")!;
    assertEquals([info.state, info.restarts, info.giveUps], ["failed", 1, 1]);
    assertStringIncludes(info.lastError!.message, "boom from " + isolation);
  } finally {
    await settle();
  }
}

/** A plugin that throws in each phase: the phase fails with its error, the kernel goes on. */
export async function phasesCase(isolation: Isolation): Promise<void> {
  const { plugins, settle } = setUp();
  try {
    for (const hook of ["init", "start"]) {
      const error = await assertRejects(
        () => plugins.load(remoteManifest(`throws-${hook}`, "phases.ts", isolation)),
        PluginError,
      );
      assertEquals(error.code, "E_PLUGIN_PHASE_FAILED");
      assertEquals(error.phase, hook);
      assertStringIncludes(error.message, `${hook} failed on purpose`);
    }
    for (const hook of ["stop", "shutdown"]) {
      await plugins.load(remoteManifest(`throws-${hook}`, "phases.ts", isolation));
      const report = await plugins.unload(`throws-${hook}`);
      assertEquals([report.graceful, report.killed, report.state], [false, true, "failed"]);
      assertStringIncludes(report.error!.message, `${hook} failed on purpose`);
    }
    const load = await assertRejects(
      () => plugins.load(remoteManifest("throws-load", "throws_on_import.ts", isolation)),
      PluginError,
    );
    assertEquals(load.phase, "load");
    assertStringIncludes(load.message, "cannot import me");
    assertEquals(plugins.list(), []);
  } finally {
    await settle();
  }
}

/** The same plugin module runs unchanged inline, in a worker and in a process. */
export async function sameModuleCase(): Promise<void> {
  const { p, plugins, settle } = setUp();
  try {
    const seen: string[] = [];
    for (const isolation of ["inline", "worker", "process"] as const) {
      const name = `echo-${isolation}`;
      await plugins.load(remoteManifest(name, "echo.ts", isolation, {
        capabilities: [...ECHO.capabilities],
      }));
      const out = nextEvent<{ isolation: string }>(p.bus, "echo.out");
      p.bus.topic<number>("echo.in").publish(1);
      seen.push((await out).isolation);
      await plugins.unload(name);
    }
    assertEquals(seen, ["inline", "worker", "process"]);
  } finally {
    await settle();
  }
}
