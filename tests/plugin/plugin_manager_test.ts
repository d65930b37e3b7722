import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { advance, manager, manifest, parts } from "./_setup.ts";

const NO_JITTER = { backoffJitterRatio: 0 };

function kinds(plugins: { telemetry: { snapshot(): { kind: string }[] } }): string[] {
  return plugins.telemetry.snapshot().filter((e) => e.kind !== "transition").map((e) => e.kind);
}

Deno.test("PluginManager loads a plugin through its lifecycle and runs its tasks", async () => {
  using p = parts();
  const plugins = manager(p);
  let ticks = 0;
  p.bus.topic<number>("ticks").subscribe(() => void ticks++);
  const info = await plugins.load(manifest("ticker", "ticker.ts", { capabilities: ["publish"] }));
  assertEquals(info.state, "started");
  assertEquals(info.lifecycle.transitions, 4);
  await advance(p, plugins, 30);
  assertEquals(ticks, 3);
  assertEquals(plugins.list().map((i) => i.name), ["ticker"]);
  assert(plugins.get("ticker")!.calls >= 3 + 3);
  const report = await plugins.unload("ticker");
  assertEquals([report.graceful, report.state, report.killed], [true, "shutdown", false]);
  await advance(p, plugins, 30);
  assertEquals(ticks, 3);
  assertEquals(plugins.list(), []);
  await plugins.close();
});

Deno.test("PluginManager: crash loop → backoff → give up → auto-unload", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(manifest("crasher", "crasher.ts", {
    restart: { ...NO_JITTER, maxRetries: 2, backoffInitialMs: 100, autoUnloadFailed: true },
  }));
  await advance(p, plugins, 10); // crash at 10: restart at 110
  assertEquals(plugins.get("crasher")!.state, "failed");
  assertEquals(plugins.get("crasher")!.restartAtMs, 110);
  await advance(p, plugins, 100); // restarted at 110, crashes at 120: restart at 320
  await advance(p, plugins, 10);
  assertEquals(plugins.get("crasher")!.restartAtMs, 320);
  await advance(p, plugins, 200); // restarted at 320, crashes at 330: give up
  await advance(p, plugins, 10);
  assertEquals(plugins.list(), []);
  assertEquals(kinds(plugins), [
    "load",
    "exit",
    "kill",
    "restart_scheduled",
    "restart_loaded",
    "exit",
    "kill",
    "restart_scheduled",
    "restart_loaded",
    "exit",
    "kill",
    "restart_give_up",
    "auto_unload",
  ]);
  const stats = plugins.stats();
  assertEquals([stats.restarts, stats.giveUps, stats.autoUnloads], [2, 1, 1]);
  assertStringIncludes(p.logger.lines.join("\n"), 'Plugin "crasher" is not restarted any more');
  await plugins.close();
});
