// IslandProvider over fake islands (no thread here; tests/island/
// island_provider_test.ts runs real ones): apps on the kernel component,
// per-task data, status and controls (restart only where the island has a
// restart()), closed islands kept as notReady, the fault detector on a
// VirtualClock, argument checks and a seeded fuzz of its inputs.

import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { IslandProvider, type IslandSource } from "../../src/sovd/island_provider.ts";
import { ProviderRegistry } from "../../src/sovd/provider.ts";
import { FaultMonitor } from "../../src/sovd/fault_monitor.ts";
import { ComponentProvider } from "../../src/sovd/component_provider.ts";
import type { IslandCloseReport, IslandState, IslandStats } from "../../src/island/island_types.ts";
import type { TaskStats } from "../../src/exec/task.ts";
import { LatencyHistogram } from "../../src/time/latency_histogram.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { recordingLogger, SILENT_LOGGER } from "../_util/logger.ts";
import { check, fc, hostile } from "../fuzz/_hostile.ts";

function task(name: string, patch: Partial<TaskStats> = {}): TaskStats {
  const h = new LatencyHistogram();
  h.record(0.25);
  return {
    name,
    kind: "periodic",
    state: "done",
    finished: false,
    tier: "monitor",
    reason: undefined,
    releases: 1,
    runs: 1,
    failures: 0,
    lastError: undefined,
    retries: 0,
    deadlineMisses: 0,
    overruns: 0,
    dropped: { "task-cap": 0, "global-cap": 0, "defer-cap": 0, stopped: 0 },
    skippedTicks: 0,
    deferred: 0,
    queued: 0,
    yields: 0,
    offloaded: 0,
    schedulingLatency: h.snapshot(),
    execution: h.snapshot(),
    lateness: h.snapshot(),
    ...patch,
  };
}

/** A fake island whose figures the test sets; it records its controls. */
class FakeIsland implements IslandSource {
  state: IslandState = "running";
  tasks: TaskStats[];
  crashes = 0;
  stuck = 0;
  restarts = 0;
  lastError: { message: string; atMs: number } | undefined;
  readonly controls: string[] = [];
  closeFails = false;
  constructor(readonly name: string, taskNames: string[] = ["loop"]) {
    this.tasks = taskNames.map((n) => task(n));
  }
  stats(): IslandStats {
    const sum = (key: "runs" | "failures" | "deadlineMisses" | "overruns") =>
      this.tasks.reduce((n, t) => n + t[key], 0);
    return {
      name: this.name,
      state: this.state,
      leadUs: 300,
      currentLeadUs: 300,
      scheduling: "normal",
      restarts: this.restarts,
      crashes: this.crashes,
      stuckThreads: this.stuck,
      lastError: this.lastError,
      lastErrorCode: this.lastError === undefined ? undefined : "E_ISLAND_CRASHED",
      runs: sum("runs"),
      failures: sum("failures"),
      deadlineMisses: sum("deadlineMisses"),
      overruns: sum("overruns"),
      perTask: this.tasks.map((t) => ({ ...t })),
    };
  }
  close(options: { graceMs?: number } = {}): Promise<IslandCloseReport> {
    this.controls.push(`close ${options.graceMs}`);
    if (this.closeFails) return Promise.reject(new Error("close broke"));
    this.state = "closed";
    return Promise.resolve({} as IslandCloseReport);
  }
}

class RestartableIsland extends FakeIsland {
  restart(options: { graceMs?: number } = {}): Promise<void> {
    this.controls.push(`restart ${options.graceMs}`);
    return Promise.resolve();
  }
}

function setup(islands: IslandSource[], graceMs?: number) {
  const clock = new VirtualClock();
  const monitor = new FaultMonitor({ clock, wallClock: () => 1000 + clock.now(), healAfterMs: 50 });
  const logger = recordingLogger();
  const source = { islands };
  const provider = new IslandProvider(source, {
    monitor,
    logger,
    clock,
    ...(graceMs === undefined ? {} : { graceMs }),
  });
  const registry = new ProviderRegistry({ logger: SILENT_LOGGER });
  registry.register(new ComponentProvider({ id: "kernel", data: () => [] }));
  registry.register(provider);
  return { clock, monitor, logger, source, provider, registry };
}

Deno.test("IslandProvider lists an app per island on the kernel component, with island, task and identity data", () => {
  const control = new FakeIsland("control/main", ["loop", "filter"]);
  const { registry, clock } = setup([control]);
  assertEquals(registry.entities("app"), [{
    id: "control_main",
    name: "control/main",
    type: "app",
    locatedOn: "kernel",
    description: "A real-time island: periodic tasks on their own thread",
    seamId: "control/main",
  }]);
  assertEquals(registry.relations("component", "kernel")?.hosts.map((e) => e.id), ["control_main"]);
  const data = registry.data("app", "control_main")!;
  assertEquals(data.map((d) => d.id), ["island", "task-loop", "task-filter", "identity"]);
  const island = data[0]!.value as Record<string, unknown>;
  assertEquals(
    [island.state, island.lead_us, island.current_lead_us, island.scheduling],
    ["running", 300, 300, "normal"],
  );
  const loop = data[1]!.value as Record<string, unknown>;
  assertEquals([loop.name, loop.liveness, loop.executions, loop.last_us], [
    "loop",
    "running",
    1,
    250,
  ]);
  assert(Number.isNaN(loop.rate_hz), "no rate before a second read");
  control.tasks[0] = task("loop", { runs: 11, execution: control.tasks[0]!.execution });
  clock.advance(100);
  const again = registry.data("app", "control_main")![1]!.value as Record<string, unknown>;
  assertEquals([again.period_us, again.rate_hz], [10000, 100]); // 10 runs in 100 ms
  assertEquals(data[3]!.value, {
    name: "control/main",
    component: "kernel",
    tasks: ["loop", "filter"],
  });
  assertEquals(registry.data("component", "control_main"), undefined);
});

Deno.test("IslandProvider offers shutdown and force-shutdown, and restart only for an island with restart()", async () => {
  const plain = new FakeIsland("plain");
  const restartable = new RestartableIsland("restartable");
  const { registry, logger } = setup([plain, restartable], 250);
  assertEquals(registry.status("app", "plain"), {
    status: "ready",
    controls: ["shutdown", "force-shutdown"],
  });
  assertEquals(registry.status("app", "restartable")?.controls, [
    "restart",
    "shutdown",
    "force-shutdown",
  ]);
  assertEquals(registry.control("app", "plain", "restart"), "unsupported");
  assertEquals(registry.control("app", "restartable", "restart"), "accepted");
  assertEquals(registry.control("app", "restartable", "force-shutdown"), "accepted");
  assertEquals(restartable.controls, ["restart 250", "close 0"]);
  plain.closeFails = true;
  assertEquals(registry.control("app", "plain", "shutdown"), "accepted");
  await Promise.resolve();
  await Promise.resolve();
  assertEquals(plain.controls, ["close 250"]);
  assertEquals(logger.lines, ['error: Cannot shutdown island "plain": close broke']);
});

Deno.test("IslandProvider keeps a closed island as notReady, without controls, until one of its name starts", () => {
  const first = new FakeIsland("control");
  const { registry, source } = setup([first]);
  first.state = "restarting";
  first.lastError = { message: "thread ended with code 3", atMs: 0 };
  assertEquals(registry.status("app", "control"), {
    status: "notReady",
    controls: ["shutdown", "force-shutdown"],
    reason: "the island is restarting: thread ended with code 3",
  });
  first.state = "closed";
  source.islands = []; // the kernel forgets a closed island
  assertEquals(registry.entities("app").map((e) => e.id), ["control"]);
  assertEquals(registry.status("app", "control"), {
    status: "notReady",
    controls: [],
    reason: "the island is closed",
  });
  assertEquals(registry.control("app", "control", "shutdown"), "unsupported");
  const second = new FakeIsland("control");
  source.islands = [second];
  assertEquals(registry.status("app", "control")?.status, "ready");
  assertEquals(registry.entities("app").length, 1);
});

Deno.test("IslandProvider raises crash, stuck-thread, failed and task faults, and heals them with hysteresis", () => {
  const island = new FakeIsland("control", ["loop", "filter"]);
  const { monitor, clock } = setup([island]);
  const codes = () =>
    monitor.faults("app", "control").map((f) => `${f.code}:${f.status}:${f.occurrenceCount}`);
  monitor.evaluate();
  assertEquals(codes(), []);
  island.crashes = 2;
  island.restarts = 2;
  island.lastError = { message: "out of heap", atMs: 0 };
  island.tasks[0] = task("loop", { deadlineMisses: 3, failures: 1, state: "quarantined" });
  monitor.evaluate();
  assertEquals(codes(), [
    "ISLAND_CRASH:active:2",
    "DEADLINE_MISS:active:3",
    "TASK_RUN_FAILURES:active:1",
    "TASK_QUARANTINED:active:1",
  ]);
  const crash = monitor.faults("app", "control")[0]!;
  assertStringIncludes(crash.description, 'Island "control" crashed 2 times: out of heap');
  assertEquals(crash.environmentData.last_error, "out of heap");
  island.crashes = 3;
  island.stuck = 1; // a hang: counted in crashes and in stuck threads
  island.state = "failed";
  island.tasks[0] = task("loop", { deadlineMisses: 3, failures: 1, state: "failed" });
  monitor.evaluate();
  assertEquals(codes(), [
    "ISLAND_CRASH:passive:2",
    "DEADLINE_MISS:passive:3",
    "TASK_RUN_FAILURES:passive:1",
    "TASK_QUARANTINED:passive:1",
    "ISLAND_THREAD_STUCK:active:1",
    "ISLAND_FAILED:active:1",
    "TASK_FAILED:active:1",
  ]);
  clock.advance(100);
  island.state = "closed"; // task-level levels of a closed island are not faults
  monitor.evaluate();
  assertEquals(codes(), [
    "ISLAND_THREAD_STUCK:passive:1",
    "ISLAND_FAILED:passive:1",
    "TASK_FAILED:passive:1",
  ]);
  clock.advance(100);
  monitor.evaluate();
  assertEquals(codes(), ["ISLAND_THREAD_STUCK:passive:1"]); // a stuck thread stays until cleared
  assertEquals(monitor.clear("app", "control", "ISLAND_THREAD_STUCK"), "cleared");
});

Deno.test("IslandProvider checks its arguments with Deno-style errors", () => {
  assertThrows(
    () => new IslandProvider(null as never),
    TypeError,
    "Cannot create an IslandProvider as 'source' must have an 'islands' array (a Kernel): current value is null",
  );
  assertThrows(() => new IslandProvider({ islands: new Set() } as never), TypeError, "'source'");
  assertThrows(
    () => new IslandProvider({ islands: [] }, { graceMs: -1 }),
    RangeError,
    "'graceMs'",
  );
  assertThrows(() => new IslandProvider({ islands: [] }, { name: "" }), TypeError, "'name'");
  assertThrows(
    () => new IslandProvider({ islands: [] }, { clock: {} as never }),
    TypeError,
    "'clock'",
  );
  assertThrows(() => new IslandProvider({ islands: [] }, 5 as never), TypeError, "'options'");
});

Deno.test("fuzz: IslandProvider options, ids and controls either work or throw clean errors", () => {
  const island = new RestartableIsland("fuzzed");
  check(
    fc.property(
      fc.record({
        name: hostile(),
        componentId: hostile(),
        graceMs: hostile(),
        belongsTo: hostile(),
      }, {
        requiredKeys: [],
      }),
      hostile(),
      fc.constantFrom("restart", "shutdown", "force-shutdown"),
      (options, id, control) => {
        let provider: IslandProvider;
        try {
          provider = new IslandProvider({ islands: [island] }, {
            ...(options as Record<string, never>),
            logger: SILENT_LOGGER,
          });
        } catch (error) {
          assert(error instanceof TypeError || error instanceof RangeError, String(error));
          assert(/^Cannot create an IslandProvider as '/.test((error as Error).message));
          return;
        }
        island.state = "running";
        for (const type of ["app", "component", id] as never[]) {
          provider.data(id as string, type);
          provider.faults(id as string, type);
          const result = provider.control(id as string, type, control);
          assert(result === "accepted" || result === "unsupported");
          assertEquals(result === "accepted", id === "fuzzed" && type === "app");
        }
      },
    ),
  );
});
