import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { TelemetryRing } from "../../src/plugin/telemetry_ring.ts";

/** Lets the readers' promise continuations run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

Deno.test("TelemetryRing: include and exclude filters by kind and plugin, drops by reason", () => {
  const clock = new VirtualClock(5);
  const ring = new TelemetryRing({
    clock,
    capacity: 3,
    include: { plugins: ["a", "b"] },
    exclude: { kinds: ["transition"] },
  });
  assertEquals(ring.record({ kind: "load", plugin: "a" }), true);
  assertEquals(ring.record({ kind: "load", plugin: "c" }), false); // not included
  assertEquals(ring.record({ kind: "transition", plugin: "a" }), false); // excluded
  ring.record({ kind: "kill", plugin: "b", atMs: 9 });
  ring.record({ kind: "restart_scheduled", plugin: "a", delayMs: 100, attempt: 0 });
  ring.record({ kind: "restart_give_up", plugin: "a" }); // pushes "load" out
  const events = ring.snapshot();
  assertEquals(events.map((e) => [e.seq, e.kind, e.atMs]), [
    [1, "kill", 9],
    [2, "restart_scheduled", 5],
    [3, "restart_give_up", 5],
  ]);
  assertEquals(Object.isFrozen(events[0]), true);
  const stats = ring.stats();
  assertEquals([stats.offered, stats.accepted, stats.size], [6, 4, 3]);
  assertEquals(stats.dropped, { capacity: 1, filter: 2 });
  ring.setFilters({ include: { kinds: ["auto_unload"] } });
  assertEquals(ring.record({ kind: "kill", plugin: "z" }), false);
  assertEquals(ring.record({ kind: "auto_unload", plugin: "z" }), true);
  ring.close();
  assertEquals(ring.record({ kind: "auto_unload", plugin: "z" }), false);
});

Deno.test("TelemetryRing: the async iterator reads live and ends on close", async () => {
  const ring = new TelemetryRing({ capacity: 4 });
  ring.record({ kind: "load", plugin: "a" });
  const fromOldest: string[] = [];
  const onlyNew: string[] = [];
  const a = (async () => {
    for await (const e of ring.events()) fromOldest.push(e.kind);
  })();
  const b = (async () => {
    for await (const e of ring.events({ from: "next" })) onlyNew.push(e.kind);
  })();
  await Promise.resolve();
  assertEquals(ring.stats().readers, 2);
  ring.record({ kind: "kill", plugin: "a" });
  await flush();
  ring.record({ kind: "unload", plugin: "a" });
  ring.close();
  await Promise.all([a, b]);
  assertEquals(fromOldest, ["load", "kill", "unload"]);
  assertEquals(onlyNew, ["kill", "unload"]);
  assertEquals(ring.stats().readers, 0);
});

Deno.test("TelemetryRing: a slow reader skips what was pushed out, and counts it", async () => {
  const ring = new TelemetryRing({ capacity: 2 });
  const it = ring.events();
  for (let i = 0; i < 5; i++) ring.record({ kind: "load", plugin: `p${i}` });
  const first = await it.next();
  assertEquals(first.value?.plugin, "p3");
  assertEquals(ring.stats().readerLag, 3);
  await it.return!();
  assertEquals(ring.stats().readers, 0);
  ring.close();
});

Deno.test("TelemetryRing: an aborted signal ends the iterator", async () => {
  const ring = new TelemetryRing();
  const controller = new AbortController();
  const seen: string[] = [];
  const reading = (async () => {
    for await (const e of ring.events({ signal: controller.signal })) seen.push(e.plugin);
  })();
  ring.record({ kind: "load", plugin: "x" });
  await flush();
  controller.abort();
  await reading;
  assertEquals(seen, ["x"]);
  ring.close();
});

Deno.test("TelemetryRing exports its counters and checks its arguments", () => {
  const metrics = new MetricsRegistry();
  const ring = new TelemetryRing({
    metrics,
    name: "main",
    capacity: 1,
    exclude: { plugins: ["noisy"] },
  });
  ring.record({ kind: "load", plugin: "noisy" });
  ring.record({ kind: "load", plugin: "a" });
  ring.record({ kind: "load", plugin: "b" });
  const text = metrics.exposeText();
  assertStringIncludes(text, 'chronetix_plugin_telemetry_accepted_total{ring="main"} 2\n');
  assertStringIncludes(
    text,
    'chronetix_plugin_telemetry_dropped_total{ring="main",reason="capacity"} 1\n',
  );
  assertStringIncludes(
    text,
    'chronetix_plugin_telemetry_dropped_total{ring="main",reason="filter"} 1\n',
  );
  assertStringIncludes(text, 'chronetix_plugin_telemetry_buffered{ring="main"} 1\n');
  ring.close();
  assertThrows(() => new TelemetryRing({ capacity: 0 }), RangeError, "'capacity'");
  assertThrows(
    () => new TelemetryRing({ include: { kinds: ["nope" as never] } }),
    TypeError,
    "'include.kinds[0]'",
  );
  assertThrows(
    () => new TelemetryRing({ exclude: { plugins: [1 as never] } }),
    TypeError,
    "'exclude.plugins[0]'",
  );
  assertThrows(() => ring.record({ kind: "bad" as never, plugin: "a" }), TypeError, "'input.kind'");
  assertThrows(() => ring.events({ from: "middle" as never }), TypeError, "'from'");
});
