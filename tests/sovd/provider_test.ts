import { assert, assertEquals, assertThrows } from "@std/assert";
import { type Provider, ProviderRegistry } from "../../src/sovd/provider.ts";
import type { EntityInfo } from "../../src/sovd/model.ts";
import { ExecutorProvider } from "../../src/sovd/executor_provider.ts";
import { TaskSink } from "../../src/sovd/task_sink.ts";
import { FaultMonitor } from "../../src/sovd/fault_monitor.ts";
import { kernelProvider, offloadProvider } from "../../src/sovd/part_providers.ts";
import { Kernel } from "../../src/kernel.ts";
import { Executor } from "../../src/exec/executor.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { recordingLogger, SILENT_LOGGER } from "../_util/logger.ts";

function provider(
  name: string,
  entities: () => unknown[],
  extra: Partial<Provider> = {},
): Provider {
  return {
    name,
    entities: entities as () => EntityInfo[],
    data: (id) => [{ id: "who", name: "Who", category: "identData", value: `${name}:${id}` }],
    faults: () => [],
    status: () => ({ status: "ready", controls: [] }),
    ...extra,
  };
}

Deno.test("ProviderRegistry joins providers; relations agree on both sides", () => {
  const registry = new ProviderRegistry({ logger: SILENT_LOGGER });
  registry.register(provider("plant", () => [{ id: "plant", name: "Plant", type: "area" }]));
  registry.register(provider("core", () => [
    { id: "kernel", name: "kernel", type: "component", belongsTo: "plant" },
    { id: "executor", name: "executor", type: "component", belongsTo: "plant" },
  ]));
  registry.register(provider("tasks", () => [
    { id: "a", name: "a", type: "app", locatedOn: "executor" },
    { id: "b", name: "b", type: "app", locatedOn: "executor", belongsTo: "plant" },
    { id: "kernel", name: "kernel task", type: "app", locatedOn: "kernel" }, // same id, other type: fine
  ]));
  assertEquals(registry.tree().problems, []);
  assertEquals(registry.entities("app").map((e) => e.id), ["a", "b", "kernel"]);
  const hosts = registry.relations("component", "executor")!.hosts.map((e) => e.id);
  assertEquals(hosts, ["a", "b"]);
  for (const app of registry.entities("app")) {
    const on = registry.relations("app", app.id)!.isLocatedOn;
    assertEquals(on.length, 1);
    assert(registry.relations("component", on[0]!.id)!.hosts.some((h) => h.id === app.id));
  }
  const contains = registry.relations("area", "plant")!.contains.map((e) => `${e.type}:${e.id}`);
  assertEquals(contains, ["component:kernel", "component:executor", "app:b"]);
  assertEquals(registry.relations("app", "b")!.belongsTo.map((e) => e.id), ["plant"]);
  assertEquals(registry.data("app", "kernel")?.[0]?.value, "tasks:kernel");
  assertEquals(registry.data("component", "kernel")?.[0]?.value, "core:kernel");
  assertEquals(registry.relations("app", "zzz"), undefined);
});

Deno.test("ProviderRegistry leaves out bad entities and throwing providers, and says why once", () => {
  const logger = recordingLogger();
  const registry = new ProviderRegistry({ logger });
  registry.register(provider("good", () => [{ id: "kernel", name: "kernel", type: "component" }]));
  registry.register(provider("bad", () => [
    { id: "a/b", name: "x", type: "app", locatedOn: "kernel" },
    { id: "x", name: "x", type: "host" },
    { id: "kernel", name: "again", type: "component" },
    { id: "lost", name: "lost", type: "app", locatedOn: "nowhere" },
    { id: "homeless", name: "h", type: "app" },
    null,
  ]));
  registry.register(provider("broken", () => {
    throw new Error("stats gone");
  }));
  const { entities, problems } = registry.tree();
  assertEquals(entities.map((e) => e.info.id), ["kernel", "lost"]);
  assertEquals(problems.length, 7, problems.join("\n"));
  assert(problems.some((p) => p.includes('already provided by "good"')));
  assert(problems.some((p) => p.includes('located on a missing component "nowhere"')));
  assert(problems.some((p) => p.includes("could not list its entities: stats gone")));
  registry.tree();
  assertEquals(logger.lines.length, 7, "each problem warned once");
});

Deno.test("ProviderRegistry checks providers, ids and types with Deno-style errors", () => {
  const registry = new ProviderRegistry();
  const p = provider("p", () => []);
  const handle = registry.register(p);
  assertThrows(() => registry.register(p), TypeError, 'a provider named "p" is already registered');
  assertThrows(
    () => registry.register({ ...p, name: "q", data: 1 } as never),
    TypeError,
    "'provider.data'",
  );
  assertThrows(() => registry.register(null as never), TypeError, "'provider'");
  assertThrows(() => registry.entity("app", "../x"), TypeError, "'id'");
  assertThrows(() => registry.entity("hosts" as never, "x"), TypeError, "'type'");
  assertThrows(() => registry.clearFault("app", "x", "no code"), TypeError, "'code'");
  assertEquals(registry.providerNames, ["p"]);
  handle[Symbol.dispose]();
  assertEquals(registry.providerNames, []);
});

Deno.test("ProviderRegistry.clearFault() asks the provider, or answers from its faults", () => {
  const registry = new ProviderRegistry();
  const fault = { code: "F" } as never;
  registry.register(provider("a", () => [{ id: "a", name: "a", type: "component" }], {
    faults: () => [fault],
  }));
  registry.register(provider("b", () => [{ id: "b", name: "b", type: "component" }], {
    clearFault: () => "cleared",
  }));
  assertEquals(registry.clearFault("component", "a", "F"), "active");
  assertEquals(registry.clearFault("component", "a", "G"), "unknown");
  assertEquals(registry.clearFault("component", "b", "G"), "cleared");
  assertEquals(registry.clearFault("component", "zz", "G"), "unknown");
  assertEquals(registry.allFaults(), [fault]);
});

Deno.test("A kernel, its executor and its pool register without the registry knowing their kinds", async () => {
  const clock = new VirtualClock();
  await using kernel = await Kernel.start({ clock, logger: SILENT_LOGGER });
  const monitor = new FaultMonitor({ clock, wallClock: () => 0, logger: SILENT_LOGGER });
  const sink = new TaskSink();
  const registry = new ProviderRegistry();
  registry.register(kernelProvider(kernel, { monitor }));
  using executorProvider = new ExecutorProvider(kernel.executor, { monitor, sink });
  registry.register(executorProvider);
  registry.register(offloadProvider({
    stats: () => ({ workersAlive: 0, workersReplaced: 0, stuckWorkers: 0, oomKills: 0 }) as never,
  }));
  kernel.periodic({ name: "sampler", periodMs: 10, run: () => {} });
  sink.attach("gone", 0); // a task the sink saw that has since left
  clock.advance(30);
  assertEquals(
    registry.entities().map((e) => `${e.type}:${e.id}`),
    ["component:kernel", "component:executor", "app:sampler", "app:gone", "component:offload"],
  );
  assertEquals(registry.status("component", "offload")?.status, "notReady");
  assertEquals(
    registry.data("app", "sampler")!.map((d) => d.id),
    ["liveness", "timing", "scheduling", "identity"],
  );
  assertEquals(registry.data("app", "gone")!.map((d) => d.id), ["liveness", "timing", "identity"]);
  assertEquals(
    registry.data("component", "executor")!.map((d) => `${d.id}/${d.category}`),
    ["summary/currentData", "binding/sysInfo"],
  );
  await kernel.shutdown();
  assertEquals(registry.status("component", "kernel")?.status, "notReady");
});

Deno.test("ExecutorProvider raises a task's faults through its monitor and clears them", () => {
  const clock = new VirtualClock();
  using executor = new Executor({ clock, logger: SILENT_LOGGER });
  const monitor = new FaultMonitor({ clock, wallClock: () => 0, healAfterMs: 10 });
  const registry = new ProviderRegistry();
  using p = new ExecutorProvider(executor, { monitor });
  registry.register(p);
  executor.periodic({
    name: "fails",
    periodMs: 10,
    onError: "stop",
    run: () => {
      throw new Error("broken sensor");
    },
  });
  clock.advance(10);
  monitor.evaluate();
  assertEquals(
    registry.faults("app", "fails")!.map((f) => `${f.code}/${f.severity}/${f.status}`),
    ["TASK_FAILED/2/active"],
  );
  assertEquals(registry.status("app", "fails")?.status, "notReady");
  assertEquals(registry.clearFault("app", "fails", "TASK_FAILED"), "active");
  p[Symbol.dispose](); // the detector goes: the fault turns passive, then heals
  monitor.evaluate();
  assertEquals(registry.faults("app", "fails")!.map((f) => f.status), ["passive"]);
  assertEquals(registry.clearFault("app", "fails", "TASK_FAILED"), "cleared");
  assertEquals(registry.allFaults(), []);
});

Deno.test("ExecutorProvider reads one task without a whole-executor snapshot when its hooks cover every task", () => {
  const clock = new VirtualClock();
  const sink = new TaskSink({ capacity: 8 });
  using executor = new Executor({ clock, hooks: sink, logger: SILENT_LOGGER });
  for (const name of ["a", "b", "c"]) executor.periodic({ name, periodMs: 10, run: () => {} });
  clock.advance(30);
  let snapshots = 0;
  const counted = {
    stats: () => {
      snapshots++;
      return executor.stats();
    },
    taskNames: executor.taskNames,
    task: (name: string) => executor.task(name),
  };
  const provider = new ExecutorProvider(counted, { sink });
  const registry = new ProviderRegistry({ logger: SILENT_LOGGER });
  registry.register(provider);
  assertEquals(registry.entities("app").map((e) => e.id), ["a", "b", "c"]);
  assertEquals(registry.status("app", "b")?.status, "ready");
  const timing = registry.data("app", "b")?.find((d) => d.id === "timing");
  assertEquals((timing?.value as { executions: number }).executions, 3);
  assertEquals(snapshots, 0);
  // The component's summary is a snapshot, by nature.
  registry.data("component", "executor");
  assertEquals(snapshots, 1);
  // A source without taskNames and task() still works, from snapshots.
  const bare = new ExecutorProvider({ stats: () => executor.stats() }, { name: "bare", sink });
  assertEquals(bare.entities().map((e) => e.id), ["executor", "a", "b", "c"]);
});
