// What an inline plugin's context gives and refuses: capabilities, data
// ports, its own metrics, subscriptions that crash it, its signal and log.
import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { DataPort } from "../../src/data/data_port.ts";
import { PluginError } from "../../src/plugin/plugin_error.ts";
import { PROBES } from "./_fixtures/probe.ts";
import { advance, manager, manifest, parts } from "./_setup.ts";

Deno.test("capabilities gate publish, subscribe, onEvent, dataPort and metrics", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(manifest("bare", "probe.ts"));
  const ctx = PROBES.get("bare")!;
  for (
    const [call, capability] of [
      [() => ctx.publish("t", 1), "publish"],
      [() => ctx.subscribe("t", () => {}), "subscribe"],
      [() => ctx.onEvent({ name: "e", topic: "t", run: () => {} }), "subscribe"],
      [() => ctx.dataPort("frames"), "dataport"],
      [() => ctx.metrics.counter({ name: "x_total", help: "X" }), "metrics"],
    ] as const
  ) {
    const error = assertThrows(call, PluginError);
    assertEquals(error.code, "E_PLUGIN_CAPABILITY");
    assertStringIncludes(error.message, `lacks the "${capability}" capability`);
  }
  // What every plugin has: timers, log, signal, state, checkpoint.
  const task = ctx.every({ name: "t", periodMs: 5, run: () => {} });
  assertEquals(task.active, true);
  ctx.log.warn("hello");
  assertEquals(p.logger.lines.includes("warn: [plugin bare] hello"), true);
  assertEquals([ctx.name, ctx.version, ctx.isolation, ctx.state], [
    "bare",
    "1.0.0",
    "inline",
    undefined,
  ]);
  await ctx.checkpoint();
  await plugins.unload("bare");
  assertEquals(ctx.signal.aborted, true);
  assertEquals(task.active, false);
  await plugins.close();
});

Deno.test("dataPort hands out the kernel's port, or a clear error", async () => {
  using p = parts();
  using port = new DataPort({ credit: 4 });
  const plugins = manager(p, {
    dataPorts: (_plugin, name) => (name === "frames" ? port : undefined),
  });
  await plugins.load(manifest("ported", "probe.ts", { capabilities: ["dataport"] }));
  const ctx = PROBES.get("ported")!;
  assertEquals(ctx.dataPort("frames"), port);
  const error = assertThrows(() => ctx.dataPort("other"), PluginError);
  assertEquals(error.code, "E_PLUGIN_NO_DATAPORT");
  await plugins.close();
});

Deno.test("a plugin's metrics are namespaced and cardinality-limited", async () => {
  using p = parts();
  const plugins = manager(p, { pluginMetrics: { maxFamilies: 2, hardLimit: 3 } });
  await plugins.load(manifest("my-sensor", "probe.ts", { capabilities: ["metrics"] }));
  const ctx = PROBES.get("my-sensor")!;
  assertEquals(ctx.metrics.prefix, "chronetix_plugin_my_sensor_");
  const readings = ctx.metrics.counter({
    name: "readings_total",
    help: "Readings",
    labelNames: ["ch"],
  });
  for (let i = 0; i < 10; i++) readings.labels(`c${i}`).inc();
  ctx.metrics.gauge({ name: "level", help: "Level" });
  const text = p.metrics.exposeText();
  assertStringIncludes(text, 'chronetix_plugin_my_sensor_readings_total{ch="c0"} 1\n');
  assertStringIncludes(text, 'chronetix_plugin_my_sensor_readings_total{overflow="true"} 7\n');
  const error = assertThrows(
    () => ctx.metrics.histogram({ name: "lat_seconds", help: "L" }),
    PluginError,
  );
  assertEquals(error.code, "E_PLUGIN_METRICS_LIMIT");
  // The same declaration again is the same family (a restarted instance continues).
  assertEquals(
    ctx.metrics.gauge({ name: "level", help: "Level" }).name,
    "chronetix_plugin_my_sensor_level",
  );
  await plugins.close();
});

Deno.test("a subscription handler that throws crashes the plugin; onError continue does not", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(
    manifest("sub-crash", "probe.ts", {
      capabilities: ["subscribe"],
      restart: { restartEnabled: false },
    }),
  );
  await plugins.load(manifest("sub-continue", "probe.ts", { capabilities: ["subscribe"] }));
  const thrower = () => {
    throw new Error("bad event");
  };
  PROBES.get("sub-crash")!.subscribe("events", thrower);
  PROBES.get("sub-continue")!.subscribe("events", thrower, { onError: "continue" });
  p.bus.topic<number>("events").publish(1);
  await plugins.whenIdle();
  assertEquals(plugins.get("sub-crash")!.state, "failed");
  assertStringIncludes(
    plugins.get("sub-crash")!.lastError!.message,
    'a handler of topic "events" threw: bad event',
  );
  assertEquals(plugins.get("sub-continue")!.state, "started");
  assertEquals(plugins.get("sub-continue")!.host!.errors, 1);
  // The crashed instance is cut off: no more deliveries to it.
  p.bus.topic<number>("events").publish(2);
  assertEquals(plugins.get("sub-continue")!.host!.errors, 2);
  assertEquals(p.bus.topic("events").subscribers, 1);
  await plugins.close();
});

Deno.test("tasks declared in init run from start on; onEvent tasks run per event", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(manifest("tasks", "probe.ts", { capabilities: ["subscribe"] }));
  const ctx = PROBES.get("tasks")!;
  const seen: string[] = [];
  ctx.after({ name: "once", delayMs: 5, run: () => void seen.push("once") });
  ctx.onEvent<number>({ name: "ev", topic: "nums", run: (t) => void seen.push(`ev${t.event}`) });
  assertThrows(
    () => ctx.after({ name: "once", run: () => {} }),
    TypeError,
    'already has a task named "once"',
  );
  assertThrows(
    () => ctx.every({ name: "bad", periodMs: 0, run: () => {} }),
    RangeError,
    "'periodMs'",
  );
  p.bus.topic<number>("nums").publish(1);
  await advance(p, plugins, 5);
  assertEquals(seen, ["ev1", "once"]);
  // An event task runs through the plugin's routed subscription (so a hot
  // reload switches it atomically), not as an executor task.
  assertEquals(p.executor.taskNames.filter((n) => n.startsWith("tasks/")), ["tasks/once"]);
  await plugins.unload("tasks");
  assertEquals(p.executor.taskNames.filter((n) => n.startsWith("tasks/")), []);
  assert(plugins.stats().plugins === 0);
  await plugins.close();
});

Deno.test("an inline manifest that asks for less than the kernel has is warned about", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(manifest("narrow", "probe.ts", { permissions: "none" }));
  const granted = Deno.permissions.querySync({ name: "read" }).state === "granted" ||
    Deno.permissions.querySync({ name: "env" }).state === "granted";
  if (granted) {
    assertStringIncludes(
      p.logger.lines.join("\n"),
      'Plugin "narrow" runs inline with the kernel\'s permissions',
    );
  }
  await plugins.close();
});

Deno.test("a burst task of an inline plugin runs every release a late wake-up finds due", async () => {
  using p = parts();
  const plugins = manager(p);
  await plugins.load(manifest("burst", "probe.ts"));
  const ctx = PROBES.get("burst")!;
  let runs = 0;
  ctx.every({ name: "b", periodMs: 1, missedTicks: "burst", run: () => void runs++ });
  p.clock.advance(50); // one wake-up, 50 releases due
  await plugins.whenIdle();
  for (let i = 0; i < 5 && runs < 50; i++) p.clock.advance(0);
  assertEquals(runs, 50);
  await plugins.close();
});
