// Seeded fuzz of PluginManager.reload() arguments and of ResourceRegistry
// inputs on a VirtualClock: every call resolves with a report or fails with a
// clean Deno-style error, and the plugin keeps running (started, routed).

import { assertCleanError, check, fc, hostile, maybe } from "./_hostile.ts";
import { SILENT_LOGGER } from "../_util/logger.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { Driver } from "../../src/time/driver.ts";
import { EventBus } from "../../src/bus/event_bus.ts";
import { Executor } from "../../src/exec/executor.ts";
import { PluginManager } from "../../src/plugin/plugin_manager.ts";
import { ResourceRegistry } from "../../src/plugin/resource_registry.ts";
import { validateManifest } from "../../src/plugin/manifest.ts";
import { assert, assertEquals } from "@std/assert";

const ENTRIES = ["consumer_v1.ts", "consumer_v2.ts", "consumer_refuse.ts", "consumer_bad_init.ts"];

function entry(file: string): string {
  return new URL(`../plugin/_fixtures/reload/${file}`, import.meta.url).href;
}

Deno.test("fuzz: reload() arguments are checked cleanly and the plugin keeps running", async () => {
  await check(
    fc.asyncProperty(
      fc.array(
        fc.tuple(
          fc.oneof(fc.constant("fz"), hostile()),
          fc.oneof(
            hostile(),
            fc.record({
              entry: fc.oneof(fc.constantFrom(...ENTRIES).map(entry), maybe()),
              version: fc.oneof(fc.constantFrom("1.0.0", "2.0.0-rc.1", "x"), maybe()),
              drainPollMs: maybe(),
              quiescentTimeoutMs: fc.oneof(fc.constant(0), maybe()),
              maxBuffered: fc.oneof(fc.integer({ min: 0, max: 5 }), maybe()),
              probationMs: maybe(),
            }, { requiredKeys: [] }),
          ),
        ),
        { maxLength: 4 },
      ),
      async (calls) => {
        const clock = new VirtualClock();
        const driver = new Driver({ clock, logger: SILENT_LOGGER });
        const bus = new EventBus({ clock, logger: SILENT_LOGGER });
        const executor = new Executor({ driver, bus, logger: SILENT_LOGGER });
        const manager = new PluginManager({ driver, executor, bus, logger: SILENT_LOGGER });
        await manager.load(validateManifest({
          name: "fz",
          version: "1.0.0",
          entry: entry("consumer_v1.ts"),
          isolation: "inline",
          capabilities: ["subscribe"],
        }));
        for (const [name, options] of calls) {
          const pending = (async () => await manager.reload(name as string, options as never))();
          // A quiescence check may poll on the clock: keep it moving.
          let done = false;
          pending.then(() => void (done = true), () => void (done = true));
          for (let i = 0; i < 50 && !done; i++) {
            await new Promise<void>((resolve) => setTimeout(resolve, 0));
            clock.advance(10);
          }
          try {
            const report = await pending;
            assertEquals(typeof report.ok, "boolean");
            assert(report.ok || report.failedPhase !== undefined);
          } catch (error) {
            assertCleanError(error);
          }
          assertEquals(manager.get("fz")?.state, "started");
          assertEquals(bus.topic("seq").subscribers, 1);
        }
        await manager.close({ graceMs: 0 });
        executor.close();
        bus.close();
        driver.close();
      },
    ),
    40,
  );
});

Deno.test("fuzz: ResourceRegistry refuses bad entries cleanly and keeps its counts", () => {
  check(
    fc.property(
      fc.array(
        fc.oneof(
          hostile(),
          fc.record({
            owner: fc.oneof(fc.constantFrom("a#1", "b#2"), hostile()),
            kind: fc.oneof(fc.constantFrom("subscription", "task", "dataport"), hostile()),
            id: fc.oneof(fc.constantFrom("x", "y"), hostile()),
          }, { requiredKeys: [] }),
        ),
        { maxLength: 20 },
      ),
      (entries) => {
        const registry = new ResourceRegistry();
        let added = 0;
        for (const e of entries) {
          try {
            if (registry.upsert(e as never)) added++;
          } catch (error) {
            assertCleanError(error);
          }
        }
        const stats = registry.stats();
        assertEquals(stats.added, added);
        assertEquals(stats.entries, registry.count());
        assertEquals(
          registry.owners().reduce((n, o) => n + registry.list(o).length, 0),
          stats.entries,
        );
      },
    ),
  );
});
