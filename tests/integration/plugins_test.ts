// Plugins through the kernel, as a user wires them: `Kernel.start({ plugins })`
// loads them in order, `kernel.plugins` manages them, `shutdown()` stops them
// first and reports each. On a VirtualClock: nothing here depends on time.

import { assertEquals, assertRejects } from "@std/assert";
import { Kernel, ManifestError, type PluginManifest } from "../../mod.ts";
import { VirtualClock } from "../../testing.ts";

const ticker: PluginManifest = {
  name: "ticker",
  version: "1.0.0",
  entry: new URL("../plugin/_fixtures/ticker.ts", import.meta.url).href,
  isolation: "inline",
  capabilities: ["publish"],
};

Deno.test("Kernel.start({ plugins }) loads them; shutdown() stops them first and reports each", async () => {
  const clock = new VirtualClock();
  const kernel = await Kernel.start({ clock, plugins: [ticker] });
  const ticks: number[] = [];
  kernel.bus.topic<number>("ticks").subscribe((n) => void ticks.push(n));
  assertEquals(kernel.plugins.list().map((p) => [p.name, p.state]), [["ticker", "started"]]);
  clock.advance(30);
  assertEquals(ticks, [1, 1, 1]);
  assertEquals(kernel.stats().plugins.plugins, 1);
  const report = await kernel.shutdown();
  assertEquals(report.graceful, true);
  assertEquals(report.plugins?.plugins.map((p) => [p.name, p.graceful]), [["ticker", true]]);
  assertEquals(kernel.plugins.list(), []);
});

Deno.test("Kernel.start() with a bad plugin manifest rejects, naming the field, and leaves no kernel running", async () => {
  const clock = new VirtualClock();
  const error = await assertRejects(
    () => Kernel.start({ clock, plugins: [{ ...ticker, version: "one" }] }),
    ManifestError,
  );
  assertEquals(error.problems.some((p) => p.startsWith("version")), true);
});
