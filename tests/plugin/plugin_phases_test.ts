// A plugin that throws (or rejects, or hangs) in every phase: each failure is
// contained, timed, counted by phase, and never reaches the kernel or
// another plugin.
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { PluginError } from "../../src/plugin/plugin_error.ts";
import { CALLS } from "./_fixtures/phases.ts";
import { advance, manager, manifest, parts, until } from "./_setup.ts";

const NO_RESTART = { restart: { restartEnabled: false } };

for (const mode of ["throw", "reject"] as const) {
  for (const hook of ["init", "start"] as const) {
    Deno.test(`a plugin that ${mode}s in ${hook} fails its first load, contained`, async () => {
      using p = parts();
      const plugins = manager(p);
      let ticks = 0;
      p.executor.periodic({ name: "kernel-task", periodMs: 1, run: () => void ticks++ });
      const error = await assertRejects(
        () => plugins.load(manifest(`${mode}-${hook}`, "phases.ts", NO_RESTART)),
        PluginError,
      );
      assertEquals([error.code, error.phase], ["E_PLUGIN_PHASE_FAILED", hook]);
      assertStringIncludes(error.message, `Cannot ${hook} plugin "${mode}-${hook}" as it threw`);
      assertEquals(plugins.get(`${mode}-${hook}`), undefined);
      assertStringIncludes(
        p.metrics.exposeText(),
        `chronetix_plugin_failures_total{manager="plugins",plugin="${mode}-${hook}",phase="${hook}"} 1\n`,
      );
      await advance(p, plugins, 10);
      assertEquals(ticks, 10); // the kernel's task kept its timing
      await plugins.close();
    });
  }
  for (const hook of ["stop", "shutdown"] as const) {
    Deno.test(`a plugin that ${mode}s in ${hook} is killed on unload, contained`, async () => {
      using p = parts();
      const plugins = manager(p);
      await plugins.load(manifest(`${mode}-${hook}`, "phases.ts"));
      const report = await plugins.unload(`${mode}-${hook}`);
      assertEquals([report.graceful, report.killed, report.state], [false, true, "failed"]);
      assertStringIncludes(
        report.error!.message,
        `Cannot ${hook} plugin "${mode}-${hook}" as it threw`,
      );
      assertEquals(plugins.list(), []);
      assertEquals(plugins.stats().kills, 1);
      await plugins.close();
    });
  }
}

Deno.test("a plugin whose module throws, or is not a plugin, fails in load", async () => {
  using p = parts();
  const plugins = manager(p);
  const thrown = await assertRejects(
    () => plugins.load(manifest("bad-import", "throws_on_import.ts")),
    PluginError,
  );
  assertEquals([thrown.code, thrown.phase], ["E_PLUGIN_PHASE_FAILED", "load"]);
  assertStringIncludes(thrown.message, "broken at import");
  const invalid = await assertRejects(
    () => plugins.load(manifest("not-plugin", "not_a_plugin.ts")),
    PluginError,
  );
  assertEquals(invalid.code, "E_PLUGIN_INVALID_MODULE");
  assertStringIncludes(invalid.message, "is not a definePlugin() result");
  await plugins.close();
});

Deno.test("a plugin whose importState throws refuses the state handed over", async () => {
  using p = parts();
  const plugins = manager(p);
  const error = await assertRejects(
    () =>
      plugins.load(manifest("throw-importstate", "phases.ts"), { state: { version: 1, value: 1 } }),
    PluginError,
  );
  assertEquals([error.code, error.phase], ["E_PLUGIN_STATE_REFUSED", "ready"]);
  await plugins.close();
});

Deno.test("a plugin whose exportState throws keeps running when a restart cannot take its state", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(manifest("throw-exportstate", "phases.ts"));
  const error = await assertRejects(
    () => plugins.restart("throw-exportstate", { keepState: true }),
    PluginError,
  );
  assertEquals(error.phase, "stop");
  assertEquals(plugins.get("throw-exportstate")!.state, "started");
  await plugins.close();
});

Deno.test("a hook that hangs runs into its budget on the kernel's clock", async () => {
  using p = parts();
  const plugins = manager(p);
  const loading = plugins.load(
    manifest("hang-init", "phases.ts", { budgets: { initTimeoutMs: 50 } }),
  );
  await until(() => CALLS.includes("hang-init:init"));
  p.clock.advance(49);
  let settled = false;
  loading.then(() => {}, () => {}).finally(() => settled = true);
  await Promise.resolve();
  assertEquals(settled, false);
  p.clock.advance(1);
  const error = await assertRejects(() => loading, PluginError);
  assertEquals([error.code, error.phase], ["E_PLUGIN_TIMEOUT", "init"]);
  assertStringIncludes(error.message, "ran over its 50 ms budget");
  // Its hook never settles: the kill reports a zombie.
  const stats = plugins.stats();
  assertEquals([stats.kills, stats.zombies], [1, 1]);
  await plugins.close();
});

Deno.test("a stop that hangs is killed at the end of the grace period, as a zombie", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(manifest("hang-stop", "phases.ts"));
  const unloading = plugins.unload("hang-stop", { graceMs: 20 });
  await until(() => CALLS.includes("hang-stop:stop"));
  p.clock.advance(20);
  const report = await unloading;
  assertEquals([report.graceful, report.killed, report.zombie], [false, true, true]);
  assert(report.error!.message.includes("ran over its 20 ms budget"));
  await plugins.close();
});

Deno.test("a restart reports a shutdown that threw, and starts the new instance", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(manifest("throw-shutdown", "phases.ts"));
  const info = await plugins.restart("throw-shutdown");
  assertEquals(info.state, "started");
  assertEquals(info.kills, 1);
  assertEquals(info.lifecycle.phases.shutdown.failures, 1);
  await plugins.close({ graceMs: 10 });
});

Deno.test("a restart by hand whose new instance fails goes to the supervisor", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(manifest("flaky", "flaky_start.ts", {
    restart: { backoffInitialMs: 10, backoffJitterRatio: 0, maxRetries: 1 },
  }));
  const error = await assertRejects(() => plugins.restart("flaky"), PluginError);
  assertEquals([error.code, error.phase], ["E_PLUGIN_PHASE_FAILED", "start"]);
  assertEquals(plugins.get("flaky")!.restartAtMs, 10);
  await advance(p, plugins, 10); // fails again: intensity spent, kept as failed
  assertEquals(plugins.get("flaky")!.state, "failed");
  assertEquals(plugins.get("flaky")!.giveUps, 1);
  await plugins.close();
});
