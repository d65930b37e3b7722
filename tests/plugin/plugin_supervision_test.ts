// The manager with its supervisor on a VirtualClock: restart types, escalate,
// reset window, isolation between plugins, state hand-over, close order.
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { PluginError } from "../../src/plugin/plugin_error.ts";
import type { PluginEscalation } from "../../src/plugin/plugin_manager.ts";
import { current } from "./_fixtures/counter.ts";
import { advance, fixture, manager, manifest, parts } from "./_setup.ts";

const FAST = { backoffInitialMs: 10, backoffJitterRatio: 0, backoffMultiplier: 1 };

Deno.test("restart types: a clean exit restarts a permanent plugin, not a transient one", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(
    manifest("perm", "exiter.ts", { restart: { ...FAST, restartType: "permanent" } }),
  );
  await plugins.load(
    manifest("trans", "exiter.ts", { restart: { ...FAST, restartType: "transient" } }),
  );
  await advance(p, plugins, 10); // both exit cleanly at 10
  assertEquals(plugins.get("perm")!.state, "shutdown");
  assertEquals(plugins.get("perm")!.restartAtMs, 20);
  assertEquals(plugins.get("trans")!.state, "shutdown");
  assertEquals(plugins.get("trans")!.restartAtMs, undefined);
  assertEquals(plugins.get("trans")!.lifecycle.failures, 0);
  await advance(p, plugins, 10);
  assertEquals(plugins.get("perm")!.state, "started");
  await plugins.close();
});

Deno.test("restart types: a crash restarts a transient plugin, never a temporary one", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(
    manifest("trans", "crasher.ts", { restart: { ...FAST, restartType: "transient" } }),
  );
  await plugins.load(
    manifest("temp", "crasher.ts", { restart: { ...FAST, restartType: "temporary" } }),
  );
  await advance(p, plugins, 10);
  assertEquals(plugins.get("trans")!.restartAtMs, 20);
  assertEquals([plugins.get("temp")!.state, plugins.get("temp")!.restartAtMs], [
    "failed",
    undefined,
  ]);
  assertEquals(plugins.get("temp")!.lifecycle.phases.run.failures, 1);
  await plugins.close();
});

Deno.test("give-up escalates to the kernel and keeps the plugin as failed", async () => {
  using p = parts();
  const escalations: PluginEscalation[] = [];
  const plugins = manager(p, { onEscalate: (e) => void escalations.push(e) });
  await plugins.load(
    manifest("crasher", "crasher.ts", { restart: { ...FAST, maxRetries: 0, escalate: true } }),
  );
  await advance(p, plugins, 10);
  assertEquals(plugins.get("crasher")!.state, "failed");
  assertEquals(escalations.length, 1);
  assertEquals(escalations[0]!.plugin, "crasher");
  assertStringIncludes(escalations[0]!.error!.message, "boom");
  assertEquals(plugins.stats().escalations, 1);
  assertStringIncludes(p.logger.lines.join("\n"), 'Plugin "crasher" escalated to the kernel');
  await plugins.close();
});

Deno.test("a clean run of resetAfterMs starts the backoff over", async () => {
  using p = parts();
  const plugins = manager(p);
  // Runs 10 ms before each crash; the backoff doubles unless 10 ms counts as clean.
  await plugins.load(manifest("reset", "crasher.ts", {
    restart: {
      backoffInitialMs: 10,
      backoffMultiplier: 2,
      backoffJitterRatio: 0,
      resetAfterMs: 10,
      maxRetries: 2,
    },
  }));
  await plugins.load(manifest("noreset", "crasher.ts", {
    restart: {
      backoffInitialMs: 10,
      backoffMultiplier: 2,
      backoffJitterRatio: 0,
      resetAfterMs: 11,
      maxRetries: 9,
    },
  }));
  await advance(p, plugins, 10); // both crash at 10
  assertEquals(plugins.get("reset")!.restartAtMs, 20);
  assertEquals(plugins.get("noreset")!.restartAtMs, 20);
  await advance(p, plugins, 10); // restarted at 20
  await advance(p, plugins, 10); // crash at 30
  assertEquals(plugins.get("reset")!.restartAtMs, 40); // 10 again
  assertEquals(plugins.get("noreset")!.restartAtMs, 50); // 20
  for (let i = 0; i < 10; i++) await advance(p, plugins, 10);
  assertEquals(plugins.get("reset")!.giveUps, 0); // every crash came after a clean run
  await plugins.close();
});

Deno.test("a crash-looping plugin never stops the kernel's tasks or another plugin", async () => {
  using p = parts();
  const plugins = manager(p);
  const kernelTicks: number[] = [];
  p.executor.periodic({
    name: "control",
    periodMs: 1,
    run: (ctx) => void kernelTicks.push(ctx.release),
  });
  let ticks = 0;
  p.bus.topic<number>("ticks").subscribe(() => void ticks++);
  await plugins.load(manifest("ticker", "ticker.ts", { capabilities: ["publish"] }));
  await plugins.load(
    manifest("crasher", "crasher.ts", { restart: { ...FAST, maxRetries: 1000, retryWindowMs: 1 } }),
  );
  for (let i = 0; i < 100; i++) await advance(p, plugins, 10);
  assert(plugins.get("crasher")!.restarts >= 40);
  assertEquals(ticks, 100);
  assertEquals(kernelTicks.length, 1000);
  assertEquals(kernelTicks.every((t, i) => t === i + 1), true); // drift-free, nothing skipped
  assertEquals(p.executor.stats().perTask.find((t) => t.name === "control")!.deadlineMisses, 0);
  await plugins.close();
});

Deno.test("restart with keepState hands the state over; a load can hand one in", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(manifest("counter", "counter.ts"));
  await advance(p, plugins, 30);
  assertEquals(current(), 3);
  await plugins.restart("counter", { keepState: true });
  assertEquals(current(), 3);
  await advance(p, plugins, 20);
  assertEquals(current(), 5);
  await plugins.restart("counter"); // without: starts over
  assertEquals(current(), 0);
  await plugins.unload("counter");
  await plugins.load(manifest("counter", "counter.ts"), { state: { version: 1, value: { n: 7 } } });
  assertEquals(current(), 7);
  await plugins.unload("counter");
  await assertRejects(
    () => plugins.load(manifest("counter", "counter.ts"), { state: { version: 0, value: {} } }),
    PluginError,
    "state version 0 is too old",
  );
  await plugins.close();
});

Deno.test("close stops plugins in reverse load order and reports each", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(manifest("first", "probe.ts"));
  await plugins.load(manifest("throw-stop", "phases.ts"));
  await plugins.load(manifest("third", "probe.ts"));
  await plugins.load(manifest("crasher", "crasher.ts", { restart: FAST }));
  await advance(p, plugins, 10); // crasher crashed, a restart is pending
  const report = await plugins.close({ graceMs: 1000 });
  assertEquals(report.plugins.map((r) => [r.name, r.graceful, r.killed]), [
    ["crasher", true, false],
    ["third", true, false],
    ["throw-stop", false, true],
    ["first", true, false],
  ]);
  assertEquals(report.graceful, false);
  assertEquals(plugins.list(), []);
  await advance(p, plugins, 100);
  assertEquals(plugins.list(), []); // the pending restart was cancelled
  assertEquals(await plugins.close(), report);
  await assertRejects(
    () => plugins.load(manifest("late", "probe.ts")),
    Error,
    "PluginManager is closed",
  );
});

Deno.test("load takes a manifest file; names are unique; unknown names are clear errors", async () => {
  using p = parts();
  const plugins = manager(p);
  const info = await plugins.load(fixture("ticker.json").pathname);
  assertEquals([info.name, info.version, info.state], ["ticker-file", "2.0.0", "started"]);
  const dup = await assertRejects(() => plugins.load(fixture("ticker.json")), PluginError);
  assertEquals(dup.code, "E_PLUGIN_EXISTS");
  const missing = await assertRejects(() => plugins.unload("nope"), PluginError);
  assertEquals(missing.code, "E_PLUGIN_NOT_FOUND");
  await assertRejects(() => plugins.restart("nope"), PluginError, 'Cannot restart plugin "nope"');
  await assertRejects(() => plugins.load({ name: "Bad Name" } as never), Error, "name");
  await plugins.close();
});

Deno.test("fresh restarts count against maxInlineReloads, and the cap is enforced", async () => {
  using p = parts();
  const plugins = manager(p, { freshRestarts: true, maxInlineReloads: 1 });
  await plugins.load(manifest("crasher", "crasher.ts", { restart: { ...FAST, maxRetries: 2 } }));
  await advance(p, plugins, 10); // crash: restart at 20 from a fresh import
  await advance(p, plugins, 10);
  assertEquals(plugins.stats().inlineReloads.total, 1);
  await advance(p, plugins, 10); // crash: the next fresh import is refused
  await advance(p, plugins, 10);
  const info = plugins.get("crasher")!;
  assertEquals(info.state, "failed");
  assertEquals(info.lastError?.message.includes("maxInlineReloads (1)"), true);
  assertEquals(plugins.stats().inlineReloads.refused >= 1, true);
  await plugins.close();
});

Deno.test("the manager exports chronetix_plugin_* metrics", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(manifest("ticker", "ticker.ts", { capabilities: ["publish"] }));
  await plugins.load(manifest("crasher", "crasher.ts", { restart: FAST }));
  await advance(p, plugins, 10);
  const text = p.metrics.exposeText();
  for (
    const line of [
      'chronetix_plugin_states{manager="plugins",state="started"} 1\n',
      'chronetix_plugin_states{manager="plugins",state="failed"} 1\n',
      'chronetix_plugin_up{manager="plugins",plugin="ticker"} 1\n',
      'chronetix_plugin_up{manager="plugins",plugin="crasher"} 0\n',
      'chronetix_plugin_failures_total{manager="plugins",plugin="crasher",phase="run"} 1\n',
      'chronetix_plugin_restarts_total{manager="plugins",plugin="crasher"} 1\n',
      'chronetix_plugin_kills_total{manager="plugins",plugin="crasher"} 1\n',
      'chronetix_plugin_transitions_total{manager="plugins",plugin="ticker"} 4\n',
      'chronetix_plugin_phase_duration_seconds_count{manager="plugins",plugin="ticker",phase="init"} 1\n',
      'chronetix_plugin_telemetry_accepted_total{ring="plugins"}',
    ]
  ) assertStringIncludes(text, line);
  await plugins.close();
});
