import { assertEquals, assertThrows } from "@std/assert";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { PluginLifecycle, type PluginTransition } from "../../src/plugin/lifecycle.ts";
import { PluginError } from "../../src/plugin/plugin_error.ts";

function lifecycle() {
  const clock = new VirtualClock();
  const seen: PluginTransition[] = [];
  const lc = new PluginLifecycle({ plugin: "p", clock, onTransition: (t) => void seen.push(t) });
  const step = (phase: Parameters<PluginLifecycle["begin"]>[0], ms: number) => {
    lc.begin(phase);
    clock.advance(ms);
    return lc.complete();
  };
  return { clock, lc, seen, step };
}

Deno.test("PluginLifecycle walks the whole path, timing every phase", () => {
  const { lc, seen, step } = lifecycle();
  step("load", 1);
  step("init", 2);
  step("ready", 3);
  step("start", 4);
  step("stop", 5);
  step("shutdown", 6);
  assertEquals(seen.map((t) => `${t.from}>${t.to}`), [
    "unloaded>loaded",
    "loaded>initialized",
    "initialized>ready",
    "ready>started",
    "started>stopped",
    "stopped>shutdown",
  ]);
  assertEquals(seen.map((t) => t.durationMs), [1, 2, 3, 4, 5, 6]);
  const stats = lc.stats();
  assertEquals(stats.transitions, 6);
  assertEquals(stats.phases.stop, { count: 1, failures: 0, totalMs: 5, averageMs: 5, maxMs: 5 });
  assertEquals(stats.phases.run.count, 0);
  assertEquals(Number.isNaN(stats.phases.run.averageMs), true);
  // A restart: load again from shutdown.
  step("load", 3);
  assertEquals(lc.stats().phases.load, {
    count: 2,
    failures: 0,
    totalMs: 4,
    averageMs: 2,
    maxMs: 3,
  });
});

Deno.test("PluginLifecycle fails from every phase and from a running state", () => {
  for (const phase of ["load", "init", "ready", "start", "stop", "shutdown"] as const) {
    const { lc, step, clock } = lifecycle();
    const path = ["load", "init", "ready", "start", "stop", "shutdown"] as const;
    for (const before of path.slice(0, path.indexOf(phase))) step(before, 1);
    lc.begin(phase);
    clock.advance(7);
    const t = lc.fail(phase, new Error(`${phase} broke`));
    assertEquals([t.to, t.phase, t.durationMs, t.error?.message], [
      "failed",
      phase,
      7,
      `${phase} broke`,
    ]);
    assertEquals(lc.stats().phases[phase].failures, 1);
    assertEquals(lc.stats().failures, 1);
    // From failed: only load (restart) or shutdown.
    assertEquals(lc.canBegin("load"), true);
    assertEquals(lc.canBegin("shutdown"), true);
    assertEquals(lc.canBegin("start"), false);
  }
  for (const live of ["loaded", "initialized", "ready", "started", "stopped"]) {
    const { lc, step, clock } = lifecycle();
    for (const phase of ["load", "init", "ready", "start", "stop"] as const) {
      step(phase, 1);
      if (lc.state === live) break;
    }
    clock.advance(10);
    const t = lc.fail("run", "crashed");
    assertEquals([t.from, t.to, t.durationMs, t.error?.message], [live, "failed", 10, "crashed"]);
  }
});

Deno.test("PluginLifecycle refuses illegal transitions with clear errors", () => {
  const { lc, step } = lifecycle();
  const e = assertThrows(() => lc.begin("start"), PluginError);
  assertEquals(e.code, "E_PLUGIN_ILLEGAL_TRANSITION");
  assertEquals(
    e.message,
    'Cannot begin phase "start" of plugin "p" as it is unloaded: "start" may begin only when it is ready or stopped',
  );
  assertThrows(() => lc.complete(), PluginError, "as none is in progress");
  assertThrows(
    () => lc.fail("run", "x"),
    PluginError,
    'Cannot fail plugin "p" in phase "run" as it is unloaded',
  );
  lc.begin("load");
  assertThrows(() => lc.begin("init"), PluginError, 'its phase "load" is still in progress');
  assertThrows(
    () => lc.fail("init", "x"),
    PluginError,
    'in phase "init" as it is unloaded in phase "load"',
  );
  lc.complete();
  step("init", 0);
  step("ready", 0);
  step("start", 0);
  assertThrows(
    () => lc.begin("shutdown"),
    PluginError,
    "only when it is loaded or initialized or ready or stopped or failed",
  );
  step("stop", 0);
  // A stopped instance may start again (a rollback to a kept instance).
  step("start", 0);
  step("stop", 0);
  step("shutdown", 0);
  assertThrows(() => lc.begin("start"), PluginError, "may begin only when it is ready or stopped");
  assertThrows(() => lc.fail("run", "x"), PluginError);
  assertThrows(() => lc.begin("bogus" as never), TypeError, "'phase' must be one of");
});

Deno.test("PluginLifecycle contains a throwing observer and counts it", () => {
  const lc = new PluginLifecycle({
    plugin: "p",
    clock: new VirtualClock(),
    onTransition: () => {
      throw new Error("observer");
    },
  });
  lc.begin("load");
  assertEquals(lc.complete().to, "loaded");
  assertEquals(lc.stats().observerErrors, 1);
  assertThrows(() => new PluginLifecycle({ plugin: "" }), TypeError, "'plugin'");
  assertThrows(() => new PluginLifecycle(undefined as never), TypeError, "'options'");
});
