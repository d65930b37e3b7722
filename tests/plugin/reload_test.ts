// Hot reload on the inline host and a VirtualClock: every phase in order,
// exactly-once delivery through the switch (events held while gated go to the
// new version, in order), state hand-over with migration and refusal,
// quiescence timeouts, force-separate success and failure, verification
// leaks, the buffer bound, rollback on probation, the metrics and the ring.
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { DataPort } from "../../src/data/data_port.ts";
import { PluginError } from "../../src/plugin/plugin_error.ts";
import type { PluginManager } from "../../src/plugin/plugin_manager.ts";
import type { ReloadReport } from "../../src/plugin/hot_reload_types.ts";
import { advance, fixture, manager, manifest, type Parts, parts } from "./_setup.ts";
import { reloadLog } from "./_fixtures/reload/_lib.ts";

const V1 = "reload/consumer_v1.ts";

function consumerManifest(name: string, file = V1) {
  return manifest(name, file, { capabilities: ["subscribe", "publish", "dataport"] });
}

/** Advances the virtual clock 1 ms at a time until `promise` settles. */
async function settle<T>(p: Parts, promise: Promise<T>, maxMs = 10_000): Promise<T> {
  let done = false;
  const watched = promise.finally(() => void (done = true));
  for (let ms = 0; ms < maxMs && !done; ms++) {
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    if (!done) p.clock.advance(1);
  }
  return await watched;
}

function publish(p: Parts, from: number, to: number): void {
  for (let i = from; i < to; i++) p.bus.topic<number>("seq").publish(i);
}

function phaseNames(report: ReloadReport): string[] {
  return report.phases.map((ph) => ph.phase);
}

/** Instances shut down so far, from the telemetry ring. */
function shutdownCount(plugins: PluginManager): number {
  return plugins.telemetry.snapshot().filter((e) => e.kind === "transition" && e.to === "shutdown")
    .length;
}

/**
 * Loads consumer `name`, publishes events `0` to `sent - 1`, then reloads it
 * to `entry` (version 2.0.0) with `probationMs`: the reload succeeds and
 * keeps the old instance.
 */
async function reloadOnProbation(
  p: Parts,
  plugins: PluginManager,
  name: string,
  entry: string,
  sent: number,
  probationMs: number,
): Promise<ReloadReport> {
  await plugins.load(consumerManifest(name));
  publish(p, 0, sent);
  const report = await plugins.reload(name, {
    entry: fixture(entry).href,
    version: "2.0.0",
    probationMs,
  });
  assert(report.ok, report.reason);
  assertEquals(report.oldKept, true); // stopped, not shut down, for probation
  return report;
}

function events(name: string): number[] {
  return reloadLog(name).deliveries.map((d) => d.event);
}

Deno.test("PluginManager.reload() runs every phase in order and hands the counter over", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(consumerManifest("r-phases"));
  publish(p, 0, 5);
  const report = await plugins.reload("r-phases", {
    entry: fixture("reload/consumer_v2.ts").href,
    version: "2.0.0",
  });
  assert(report.ok, report.reason);
  assertEquals(phaseNames(report), [
    "prepare",
    "drain",
    "handover",
    "start",
    "switch",
    "quiesce",
    "shutdown",
    "verify",
    "kill",
  ]);
  assertEquals([report.fromVersion, report.toVersion, report.activeVersion], [
    "1.0.0",
    "2.0.0",
    "2.0.0",
  ]);
  assertEquals(report.stateVersion, 1); // v1's state, migrated by v2
  assertEquals(report.leaked, []);
  publish(p, 5, 8);
  const log = reloadLog("r-phases");
  assertEquals(events("r-phases"), [0, 1, 2, 3, 4, 5, 6, 7]);
  assertEquals(log.deliveries.map((d) => d.version), [
    ...Array(5).fill("1.0.0"),
    ...Array(3).fill("2.0.0"),
  ]);
  const info = plugins.get("r-phases")!;
  assertEquals([info.version, info.state], ["2.0.0", "started"]);
  // One live subscription: the new version's; the old one holds nothing.
  assertEquals(plugins.resources.list("r-phases#1"), []);
  assertEquals(plugins.resources.list("r-phases#2").map((e) => e.kind), ["subscription"]);
  assertEquals(p.bus.topic("seq").subscribers, 1);
  await plugins.unload("r-phases");
  assertEquals(log.exported, [5]);
  assertEquals(plugins.stats().hotReload.success, 1);
  assertEquals(plugins.resources.count(), 0);
  await plugins.close();
});

Deno.test("PluginManager.reload() holds events back while gated and hands them to the new version in order", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(consumerManifest("r-gate"));
  const log = reloadLog("r-gate");
  publish(p, 0, 3);
  const { promise: hold, resolve: release } = Promise.withResolvers<void>();
  log.holdExport = hold;
  const reloading = plugins.reload("r-gate");
  // The old instance's export is pending: the gate is up, events are held.
  for (let i = 0; i < 20; i++) {
    publish(p, 3 + i, 4 + i);
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    if (i === 9) {
      log.holdExport = undefined;
      release();
    }
  }
  const report = await reloading;
  assert(report.ok, report.reason);
  publish(p, 23, 25);
  assertEquals(events("r-gate"), Array.from({ length: 25 }, (_, i) => i)); // once each, in order
  // The old version got a prefix of the events; its export counted exactly those.
  const instances = log.deliveries.map((d) => d.instance);
  const toOld = instances.lastIndexOf(instances[0]!) + 1;
  assertEquals(new Set(instances.slice(toOld)).size, 1); // the rest: all to the new one
  assertEquals(log.exported[0], toOld);
  assert(toOld >= 3 && toOld < 13, `${toOld} events went to the old version`);
  assert(report.buffered >= 10, `buffered ${report.buffered}`);
  // The new instance's counter went on from the old one's: reload again and read its export.
  assert((await plugins.reload("r-gate")).ok);
  assertEquals(log.exported.at(-1), 25);
  await plugins.close();
});

Deno.test("PluginManager.reload() leaves the old version running when the new init fails", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(consumerManifest("r-init"));
  publish(p, 0, 2);
  const report = await plugins.reload("r-init", {
    entry: fixture("reload/consumer_bad_init.ts").href,
  });
  assertEquals([report.ok, report.failedPhase], [false, "prepare"]);
  assertStringIncludes(report.reason ?? "", "no configuration");
  publish(p, 2, 4);
  assertEquals(events("r-init"), [0, 1, 2, 3]);
  assertEquals(reloadLog("r-init").deliveries.every((d) => d.version === "1.0.0"), true);
  const info = plugins.get("r-init")!;
  assertEquals([info.state, info.version], ["started", "1.0.0"]);
  assertEquals(plugins.stats().hotReload.failed, 1);
  assertEquals(plugins.resources.owners(), ["r-init#1"]);
  assertEquals(
    plugins.telemetry.snapshot().filter((e) => e.kind === "reload").map((e) =>
      e.reason?.slice(0, 17)
    ),
    ["failed in prepare"],
  );
  await plugins.close();
});

Deno.test("PluginManager.reload() refuses a state the new version cannot migrate", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(consumerManifest("r-refuse"));
  publish(p, 0, 3);
  const report = await plugins.reload("r-refuse", {
    entry: fixture("reload/consumer_refuse.ts").href,
    version: "3.0.0",
  });
  assertEquals([report.ok, report.failedPhase, report.activeVersion], [false, "handover", "1.0.0"]);
  assertStringIncludes(report.reason ?? "", "cannot be migrated");
  assertStringIncludes(report.error?.message ?? "", "importState refused it");
  publish(p, 3, 5);
  assertEquals(events("r-refuse"), [0, 1, 2, 3, 4]);
  assertEquals(plugins.get("r-refuse")?.version, "1.0.0");
  // The old instance keeps the counter: a later good reload carries it on.
  const good = await plugins.reload("r-refuse", { entry: fixture("reload/consumer_v2.ts").href });
  assert(good.ok, good.reason);
  assertEquals(reloadLog("r-refuse").exported, [3, 5]);
  await plugins.close();
});

Deno.test("PluginManager.reload() force-separates an old instance that does not quiesce in time", async (t) => {
  await t.step("force-separate succeeds: its data port is dropped, the checks pass", async () => {
    using p = parts();
    using port = new DataPort({ credit: 4 });
    const plugins = manager(p, {
      dataPorts: (_plugin, name) => name === "frames" ? port : undefined,
    });
    await plugins.load(consumerManifest("r-force", "reload/consumer_port.ts"));
    assertEquals(plugins.resources.list("r-force#1").map((e) => e.kind).sort(), [
      "dataport",
      "subscription",
    ]);
    const portsLeft = (owner: string) =>
      plugins.resources.list(owner).every((e) => e.kind !== "dataport");
    const report = await settle(
      p,
      plugins.reload("r-force", { quiescentTimeoutMs: 20, drainPollMs: 5, checks: [portsLeft] }),
    );
    assert(report.ok, report.reason);
    assertEquals([report.quiescentTimeout, report.forceSeparated], [true, true]);
    assertEquals(phaseNames(report).includes("force_separate"), true);
    assertEquals(report.phases.find((ph) => ph.phase === "force_separate")?.ok, true);
    const quiesce = report.phases.find((ph) => ph.phase === "quiesce")!;
    assert(quiesce.durationMs >= 20, `quiesce took ${quiesce.durationMs} ms`);
    const hot = plugins.stats().hotReload;
    assertEquals(
      [hot.quiescentTimeouts, hot.forceSeparateInvoked, hot.forceSeparateFailed],
      [1, 1, 0],
    );
    assert(hot.resourceCheckFailed >= 4, `${hot.resourceCheckFailed} failed rounds`);
    await plugins.close();
  });

  await t.step(
    "force-separate fails: the checks still fail; the new version runs anyway",
    async () => {
      using p = parts();
      const plugins = manager(p);
      await plugins.load(consumerManifest("r-stuck"));
      const report = await settle(
        p,
        plugins.reload("r-stuck", { quiescentTimeoutMs: 10, checks: [() => false] }),
      );
      assert(report.ok);
      assertEquals(report.phases.find((ph) => ph.phase === "force_separate")?.ok, false);
      assertStringIncludes(report.reason ?? "", "still fail after it was force-separated");
      const hot = plugins.stats().hotReload;
      assertEquals([hot.forceSeparateInvoked, hot.forceSeparateFailed, hot.success], [1, 1, 1]);
      publish(p, 0, 2);
      assertEquals(reloadLog("r-stuck").deliveries.map((d) => d.event), [0, 1]);
      await plugins.close();
    },
  );

  await t.step("a check that throws counts as not passing", async () => {
    using p = parts();
    const plugins = manager(p);
    await plugins.load(consumerManifest("r-throw"));
    let calls = 0;
    const report = await settle(
      p,
      plugins.reload("r-throw", {
        quiescentTimeoutMs: 10,
        checks: [() => {
          if (++calls < 3) throw new Error("not yet");
          return true;
        }],
      }),
    );
    assertEquals([report.ok, report.quiescentTimeout], [true, false]);
    assertEquals(calls, 3);
    await plugins.close();
  });
});

Deno.test("PluginManager.reload() verifies with the registry and counts what the old instance left", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(consumerManifest("r-leak"));
  // Something registered for the old instance that nothing releases.
  plugins.resources.upsert({ owner: "r-leak#1", kind: "timer", id: "forgotten" });
  const report = await plugins.reload("r-leak");
  assert(report.ok);
  assertEquals(report.leaked.map((e) => `${e.kind}:${e.id}`), ["timer:forgotten"]);
  const hot = plugins.stats().hotReload;
  assertEquals([hot.verifyFailed, hot.deactivateLeaks], [1, 1]);
  assertEquals(plugins.resources.list("r-leak#1"), []); // counted, then forgotten
  const text = p.metrics.exposeText();
  assertStringIncludes(text, 'chronetix_hotreload_verify_failed_total{manager="plugins"} 1');
  assertStringIncludes(text, 'chronetix_hotreload_deactivate_leaks_total{manager="plugins"} 1');
  await plugins.close();
});

Deno.test("PluginManager.reload() gives the switch up past maxBuffered, losing nothing", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(consumerManifest("r-bound"));
  const log = reloadLog("r-bound");
  const { promise: hold, resolve: release } = Promise.withResolvers<void>();
  log.holdExport = hold;
  const reloading = plugins.reload("r-bound", { maxBuffered: 3 });
  for (let i = 0; i < 5 && log.deliveries.length === 0; i++) {
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }
  publish(p, 0, 3); // held
  assertEquals(log.deliveries.length, 0);
  publish(p, 3, 4); // past the bound: the gate opens to the old instance, in order
  assertEquals(events("r-bound"), [0, 1, 2, 3]);
  log.holdExport = undefined;
  release();
  const report = await reloading;
  assertEquals([report.ok, report.failedPhase], [false, "handover"]);
  assertStringIncludes(report.reason ?? "", "more than 3 events");
  publish(p, 4, 6);
  assertEquals(events("r-bound"), [0, 1, 2, 3, 4, 5]);
  assertEquals(log.deliveries.every((d) => d.version === "1.0.0"), true);
  assertEquals(plugins.stats().hotReload.bufferOverflows, 1);
  await plugins.close();
});

Deno.test("PluginManager.reload() rolls back to the old version when the new one fails on probation", async () => {
  using p = parts();
  const plugins = manager(p);
  const report = await reloadOnProbation(p, plugins, "r-roll", "reload/consumer_crash.ts", 4, 1000);
  assertEquals(phaseNames(report), ["prepare", "drain", "handover", "start", "switch", "quiesce"]);
  publish(p, 4, 6); // to 2.0.0, which crashes 50 ms after its start
  await advance(p, plugins, 60);
  await plugins.whenIdle();
  const info = plugins.get("r-roll")!;
  assertEquals([info.version, info.state], ["1.0.0", "started"]);
  assertEquals(plugins.stats().hotReload.rollbacks, 1);
  const ring = plugins.telemetry.snapshot();
  const kinds = ring.map((e) => e.kind).filter((k) => k === "reload" || k === "rollback");
  assertEquals(kinds, ["reload", "rollback"]);
  assertStringIncludes(ring.find((e) => e.kind === "rollback")?.reason ?? "", "its kept instance");
  publish(p, 6, 7);
  await advance(p, plugins, 5);
  // The kept 1.0.0 instance took over again, with its own count (4): what
  // the failed 2.0.0 counted is lost with it.
  const log = reloadLog("r-roll");
  const first = log.deliveries[0]!.instance;
  assertEquals(log.deliveries.at(-1), { version: "1.0.0", instance: first, event: 6 });
  assert((await plugins.reload("r-roll")).ok);
  assertEquals(log.exported, [4, 5]);
  assertEquals(events("r-roll"), [0, 1, 2, 3, 4, 5, 6]);
  await plugins.close();
});

Deno.test("PluginManager.reload() ends a kept old instance when probation ends, and verifies it", async () => {
  using p = parts();
  const plugins = manager(p);
  await reloadOnProbation(p, plugins, "r-kept", "reload/consumer_v2.ts", 2, 100);
  const oldOwner = plugins.resources.owners().find((o) =>
    o.startsWith("r-kept#") && o !== "r-kept#2"
  );
  const shutdowns = () => shutdownCount(plugins);
  assertEquals(shutdowns(), 0);
  await advance(p, plugins, 50);
  assertEquals(shutdowns(), 0); // still on probation
  await advance(p, plugins, 60);
  await plugins.whenIdle();
  assertEquals(shutdowns(), 1); // the kept 1.0.0, at the end of probation
  assertEquals(oldOwner === undefined ? [] : plugins.resources.list(oldOwner), []);
  publish(p, 2, 3);
  await advance(p, plugins, 5);
  assertEquals(reloadLog("r-kept").deliveries.at(-1)?.version, "2.0.0");
  await plugins.close();
});

Deno.test("PluginManager.reload() and unload() during probation end the kept instance first", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(consumerManifest("r-again"));
  const first = await plugins.reload("r-again", { probationMs: 10_000 });
  assertEquals(first.oldKept, true);
  const second = await plugins.reload("r-again", { probationMs: 10_000 });
  assert(second.ok, second.reason);
  const shutdowns = () => shutdownCount(plugins);
  assertEquals(shutdowns(), 1); // the first kept instance
  await plugins.unload("r-again");
  assertEquals(shutdowns(), 3); // the second kept instance, then the running one
  assertEquals(plugins.resources.owners().filter((o) => o.startsWith("r-again")), []);
  await plugins.close();
});

Deno.test("PluginManager.close() during probation ends the kept instance too", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(consumerManifest("r-close"));
  const report = await plugins.reload("r-close", { probationMs: 60_000 });
  assertEquals(report.oldKept, true);
  assertEquals(plugins.resources.owners().filter((o) => o.startsWith("r-close")).length > 0, true);
  await plugins.close();
  const kills = plugins.telemetry.snapshot().filter((e) =>
    e.kind === "kill" && e.reason === "the manager closed"
  );
  assertEquals(kills.length, 1);
  assertEquals(plugins.resources.owners().filter((o) => o.startsWith("r-close")), []);
});

Deno.test("PluginManager.reload() after probation: a failure goes to the supervisor", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(consumerManifest("r-late"));
  const report = await plugins.reload("r-late", {
    entry: fixture("reload/consumer_crash.ts").href,
    probationMs: 10,
  });
  assert(report.ok);
  await advance(p, plugins, 60);
  assertEquals(plugins.stats().hotReload.rollbacks, 0);
  assertEquals(plugins.get("r-late")?.restarts, 1);
  await plugins.close();
});

Deno.test("PluginManager.reload() records metrics and a telemetry event with the phases", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(consumerManifest("r-metrics"));
  for (let i = 0; i < 3; i++) assert((await plugins.reload("r-metrics")).ok);
  const text = p.metrics.exposeText();
  for (
    const line of [
      'chronetix_hotreload_switches_total{manager="plugins"} 3',
      'chronetix_hotreload_switch_success_total{manager="plugins"} 3',
      'chronetix_hotreload_switch_failed_total{manager="plugins"} 0',
      'chronetix_hotreload_quiescent_timeouts_total{manager="plugins"} 0',
      'chronetix_hotreload_active_version{manager="plugins",plugin="r-metrics",version="1.0.0"} 1',
      'chronetix_hotreload_switch_duration_seconds_count{manager="plugins",plugin="r-metrics"} 3',
    ]
  ) assertStringIncludes(text, line);
  const event = plugins.telemetry.snapshot().findLast((e) => e.kind === "reload")!;
  assertEquals(Object.keys(event.phases ?? {}), [
    "prepare",
    "drain",
    "handover",
    "start",
    "switch",
    "quiesce",
    "shutdown",
    "verify",
    "kill",
  ]);
  assertEquals(event.reason, "1.0.0 -> 1.0.0");
  assertEquals(plugins.get("r-metrics")?.lifecycle.phases.start.count, 4); // history kept
  await plugins.close();
});

Deno.test("PluginManager.reload() refuses bad arguments and unknown or stopped plugins", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(consumerManifest("r-args"));
  for (
    const [options, error] of [
      [{ version: "1.0" }, TypeError],
      [{ entry: 7 }, TypeError],
      [{ entry: "" }, TypeError],
      [{ drainPollMs: 0 }, RangeError],
      [{ quiescentTimeoutMs: -1 }, RangeError],
      [{ maxBuffered: 1.5 }, RangeError],
      [{ checks: [1] }, TypeError],
      [{ nope: 1 }, TypeError],
    ] as const
  ) {
    await assertRejects(
      () => plugins.reload("r-args", options as never),
      error as ErrorConstructor,
    );
  }
  const missing = await assertRejects(() => plugins.reload("ghost"), PluginError);
  assertEquals(missing.code, "E_PLUGIN_NOT_FOUND");
  assertEquals(plugins.get("r-args")?.state, "started");
  await plugins.close();
});

Deno.test("PluginManager.resources lists what each instance holds", async () => {
  using p = parts();
  const plugins: PluginManager = manager(p);
  await plugins.load(consumerManifest("r-res"));
  const { PROBES } = await import("./_fixtures/probe.ts");
  await plugins.load(manifest("r-probe", "probe.ts", { capabilities: ["subscribe"] }));
  const ctx = PROBES.get("r-probe")!;
  ctx.every({ name: "tick", periodMs: 10, run: () => {} });
  ctx.onEvent({ name: "on-seq", topic: "seq", run: () => {} });
  const held = plugins.resources.list("r-probe#1").map((e) => `${e.kind}:${e.detail ?? e.id}`);
  assertEquals(held.sort(), ["subscription:seq", "task:event", "task:periodic"]);
  await plugins.unload("r-probe");
  assertEquals(plugins.resources.list("r-probe#1"), []);
  assertEquals(plugins.resources.owners(), ["r-res#1"]);
  await plugins.close();
});

Deno.test("PluginManager.reload() calls run one after another; a failed plugin is refused", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(consumerManifest("r-serial"));
  publish(p, 0, 2);
  const [a, b] = await Promise.all([plugins.reload("r-serial"), plugins.reload("r-serial")]);
  assert(a.ok && b.ok);
  publish(p, 2, 4);
  assertEquals(events("r-serial"), [0, 1, 2, 3]);
  assertEquals(reloadLog("r-serial").exported, [2, 2]);
  assertEquals(plugins.resources.owners(), ["r-serial#3"]);
  // A plugin that crashed (and waits for its restart) cannot be reloaded.
  await plugins.load(manifest("r-crash", "crasher.ts", { restart: { backoffInitialMs: 1000 } }));
  await advance(p, plugins, 10);
  const refused = await assertRejects(() => plugins.reload("r-crash"), PluginError);
  assertEquals(refused.code, "E_PLUGIN_ILLEGAL_TRANSITION");
  assertStringIncludes(refused.message, "only a started plugin can be reloaded");
  await plugins.close();
});
