// Seeded fuzz of the PluginManager's API arguments (constructor, load,
// unload, restart, get, close) and of random operation sequences on a
// VirtualClock: every call resolves or fails with a clean Deno-style error,
// and the manager stays consistent (names unique, closes cleanly).

import { assertCleanError, check, fc, hostile } from "./_hostile.ts";
import { SILENT_LOGGER } from "../_util/logger.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { Driver } from "../../src/time/driver.ts";
import { EventBus } from "../../src/bus/event_bus.ts";
import { Executor } from "../../src/exec/executor.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { PluginManager } from "../../src/plugin/plugin_manager.ts";
import { TelemetryRing } from "../../src/plugin/telemetry_ring.ts";
import { assertEquals } from "@std/assert";

const FIXTURES = ["ticker.ts", "crasher.ts", "exiter.ts", "probe.ts", "phases.ts"];
const NAMES = ["a", "b", "throw-stop", "throw-init", "hang-shutdown"];

function parts() {
  const clock = new VirtualClock();
  const driver = new Driver({ clock, logger: SILENT_LOGGER });
  const bus = new EventBus({ clock, logger: SILENT_LOGGER });
  const executor = new Executor({ driver, bus, logger: SILENT_LOGGER });
  return { clock, driver, bus, executor };
}

function entry(file: string): string {
  return new URL(`../plugin/_fixtures/${file}`, import.meta.url).href;
}

async function clean<R>(fn: () => Promise<R> | R): Promise<R | undefined> {
  try {
    return await fn();
  } catch (error) {
    assertCleanError(error);
    return undefined;
  }
}

Deno.test("fuzz: PluginManager options are checked cleanly", () => {
  const p = parts();
  check(
    fc.property(
      fc.record({
        name: fc.oneof(fc.constant(undefined), hostile()),
        seed: fc.oneof(fc.constant(undefined), hostile()),
        random: fc.oneof(fc.constant(undefined), hostile()),
        maxInlineReloads: fc.oneof(fc.constant(undefined), hostile()),
        freshRestarts: fc.oneof(fc.constant(undefined), hostile()),
        telemetry: fc.oneof(fc.constant(undefined), hostile(), fc.record({ capacity: hostile() })),
        pluginMetrics: fc.oneof(
          fc.constant(undefined),
          hostile(),
          fc.record({ maxFamilies: hostile() }),
        ),
        hosts: fc.oneof(fc.constant(undefined), hostile()),
        dataPorts: fc.oneof(fc.constant(undefined), hostile()),
      }, { requiredKeys: [] }),
      (extra) => {
        let manager: PluginManager | undefined;
        try {
          manager = new PluginManager({
            driver: p.driver,
            executor: p.executor,
            bus: p.bus,
            metrics: new MetricsRegistry({ logger: SILENT_LOGGER }),
            logger: SILENT_LOGGER,
            ...(extra as object),
          });
        } catch (error) {
          assertCleanError(error);
        }
        void manager?.close({ graceMs: 0 });
      },
    ),
  );
  p.executor.close();
  p.driver.close();
});

Deno.test("fuzz: hostile arguments to load, unload, restart, get and close", async () => {
  await check(
    fc.asyncProperty(
      fc.array(
        fc.tuple(
          fc.constantFrom("load", "unload", "restart", "get", "close"),
          hostile(),
          hostile(),
        ),
        {
          maxLength: 6,
        },
      ),
      async (calls) => {
        const p = parts();
        const manager = new PluginManager({ ...p, logger: SILENT_LOGGER });
        for (const [op, a, b] of calls) {
          // deno-lint-ignore no-explicit-any
          const m = manager as any;
          await clean(() => m[op](a, b));
        }
        await manager.close({ graceMs: 0 });
        p.executor.close();
        p.driver.close();
      },
    ),
    60,
  );
});

Deno.test("fuzz: random operation sequences keep the manager consistent", async () => {
  await check(
    fc.asyncProperty(
      fc.array(
        fc.oneof(
          fc.record({
            op: fc.constant("load" as const),
            name: fc.constantFrom(...NAMES),
            file: fc.constantFrom(...FIXTURES),
          }),
          fc.record({
            op: fc.constantFrom("unload" as const, "restart" as const),
            name: fc.constantFrom(...NAMES),
          }),
          fc.record({ op: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 60 }) }),
        ),
        { maxLength: 12 },
      ),
      async (ops) => {
        const p = parts();
        const manager = new PluginManager({
          ...p,
          logger: SILENT_LOGGER,
          seed: 3,
          telemetry: { capacity: 16 },
        });
        const pending: Promise<unknown>[] = [];
        for (const o of ops) {
          if (o.op === "advance") {
            await manager.whenIdle();
            p.clock.advance(o.ms);
          } else if (o.op === "load") {
            pending.push(clean(() =>
              manager.load({
                name: o.name,
                version: "1.0.0",
                entry: entry(o.file),
                isolation: "inline",
                capabilities: ["publish"],
                budgets: { initTimeoutMs: 20, stopTimeoutMs: 20 },
                restart: { backoffInitialMs: 5, maxRetries: 3 },
              })
            ));
          } else {
            pending.push(clean((): Promise<unknown> => manager[o.op](o.name)));
          }
          await manager.whenIdle();
        }
        // Budgets and restarts run on the virtual clock: let them finish.
        for (let i = 0; i < 10; i++) {
          p.clock.advance(25);
          await manager.whenIdle();
        }
        await Promise.all(pending);
        const names = manager.list().map((i) => i.name);
        assertEquals(new Set(names).size, names.length);
        const closing = manager.close({ graceMs: 100 });
        for (let i = 0; i < 10; i++) {
          await manager.whenIdle();
          p.clock.advance(25);
        }
        const report = await closing;
        assertEquals(report.plugins.length, names.length);
        assertEquals(manager.list(), []);
        assertEquals(manager.telemetry.closed, true);
        p.executor.close();
        p.bus.close();
        p.driver.close();
      },
    ),
    40,
  );
});

Deno.test("fuzz: TelemetryRing records and filters hostile input cleanly", () => {
  check(
    fc.property(
      fc.array(fc.tuple(hostile(), hostile()), { maxLength: 20 }),
      hostile(),
      (inputs, filters) => {
        const ring = new TelemetryRing({ capacity: 4 });
        void clean(() => ring.setFilters(filters as never));
        for (const [kind, plugin] of inputs) {
          void clean(() => ring.record({ kind, plugin } as never));
        }
        void clean(() => ring.record({ kind: "load", plugin: "x" }));
        const stats = ring.stats();
        assertEquals(stats.accepted + stats.dropped.filter, stats.offered);
        ring.close();
      },
    ),
  );
});
