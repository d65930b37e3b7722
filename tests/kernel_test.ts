import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { ClosedError } from "../src/errors.ts";
import { Kernel } from "../src/kernel.ts";
import { VirtualClock } from "../src/time/virtual_clock.ts";
import { MetricsRegistry } from "../src/metrics/registry.ts";
import { recordingLogger, SILENT_LOGGER } from "./_util/logger.ts";

Deno.test("Kernel wires clock, bus, executor and metrics, and drains queued events on its tick", async () => {
  const clock = new VirtualClock();
  await using kernel = await Kernel.start({ clock, logger: SILENT_LOGGER });
  const seen: string[] = [];
  kernel.periodic({
    name: "sampler",
    periodMs: 10,
    run: () => void seen.push(`sample@${clock.now()}`),
  });
  kernel.onEvent<string>({
    name: "logger",
    topic: "log",
    run: (ctx) => void seen.push(`log:${ctx.event}`),
  });
  kernel.bus.topic<string>("log").enqueue("low");
  kernel.bus.topic<string>("log").enqueue("high", { priority: 1 });
  clock.advance(10);
  assertEquals(seen, ["log:high", "log:low", "sample@10"]);
  const stats = kernel.stats();
  assertEquals(stats.state, "running");
  assertEquals(stats.uptimeMs, 10);
  assertEquals(stats.executor.runs, 3);
  const text = kernel.metrics.exposeText();
  for (
    const family of [
      "chronetix_exec_runs_total",
      "chronetix_bus_published_total",
      "chronetix_timer_fires_total",
    ]
  ) {
    assert(text.includes(family), `${family} missing`);
  }
});

Deno.test("Kernel.shutdown() stops releasing, lets running work finish, flushes events, and reports", async () => {
  const clock = new VirtualClock();
  const kernel = await Kernel.start({ clock, logger: SILENT_LOGGER });
  let finish!: () => void;
  const gate = new Promise<void>((resolve) => finish = resolve);
  const periodic = kernel.periodic({ name: "slow", periodMs: 10, run: () => gate });
  const delivered: number[] = [];
  kernel.bus.topic<number>("audit").subscribe((n) => void delivered.push(n));
  clock.advance(10); // "slow" is running
  kernel.bus.topic<number>("audit").enqueue(1);
  const shutdown = kernel.shutdown({ graceMs: 1000 });
  assertEquals(kernel.state, "draining");
  assertThrows(() => kernel.periodic({ name: "late", periodMs: 1, run: () => {} }), ClosedError);
  finish();
  const report = await shutdown;
  assertEquals(report.graceful, true);
  assertEquals(report.runsCutOff, 0);
  assertEquals(report.eventsFlushed, 1);
  assertEquals(delivered, [1]);
  assertEquals(periodic.stats().runs, 1);
  assertEquals(kernel.state, "stopped");
  assertEquals(await kernel.shutdown(), report, "a second call returns the same report");
});

Deno.test("Kernel.shutdown() cuts off what outlasts the grace period and aborts its signal", async () => {
  const clock = new VirtualClock();
  const kernel = await Kernel.start({ clock, logger: SILENT_LOGGER });
  let signal: AbortSignal | undefined;
  kernel.periodic({
    name: "stuck",
    periodMs: 5,
    queueCap: 3,
    run: (ctx) => {
      signal = ctx.signal;
      return new Promise(() => {});
    },
  });
  clock.advance(15); // first run hangs; releases at 10 and 15 wait
  const shutdown = kernel.shutdown({ graceMs: 100 });
  clock.advance(100);
  const report = await shutdown;
  assertEquals(report.graceful, false);
  assertEquals(report.runsCutOff, 1);
  assertEquals(report.releasesDropped, 2);
  assertEquals(signal?.aborted, true);
});

Deno.test("Kernel.emergencyStop() drops queued events and waiting releases at once", async () => {
  const clock = new VirtualClock();
  const kernel = await Kernel.start({ clock, logger: SILENT_LOGGER });
  kernel.periodic({ name: "hang", periodMs: 5, run: () => new Promise(() => {}) });
  clock.advance(10);
  kernel.bus.topic("x").enqueue(1);
  kernel.bus.topic("x").enqueue(2);
  const report = kernel.emergencyStop();
  assertEquals(report.graceful, false);
  assertEquals(report.eventsDropped, 2);
  assertEquals(report.runsCutOff, 1);
  assertEquals(report.releasesDropped, 1);
  assertEquals(kernel.state, "stopped");
  await kernel.shutdown();
});

Deno.test("Kernel with an offload pool drains it on shutdown (real clock, real workers)", async () => {
  const kernel = await Kernel.start({
    profile: "efficient",
    logger: SILENT_LOGGER,
    offload: {
      jobs: { square: new URL("./exec/_fixtures/jobs/square.ts", import.meta.url) },
      workers: 1,
    },
  });
  const results = Array.from({ length: 20 }, (_, i) => kernel.offload.submit<number>("square", i));
  // The grace period is a safety net far beyond any machine's speed, not a bound under test.
  const report = await kernel.shutdown({ graceMs: 600_000 });
  assertEquals(report.offloadDrained, 20);
  assertEquals(report.offloadCutOff, 0);
  assertEquals((await Promise.all(results))[19], 361);
  await assertRejects(() => kernel.offload.submit("square", 1), ClosedError);
});

Deno.test("Kernel hands its logger to every part: failed tasks and bus handlers log through it", async () => {
  const clock = new VirtualClock();
  const logger = recordingLogger();
  await using kernel = await Kernel.start({ clock, logger });
  kernel.periodic({
    name: "faulty",
    periodMs: 10,
    run: () => {
      throw new Error("sensor unplugged");
    },
  });
  kernel.bus.topic<number>("t").subscribe(() => {
    throw new Error("handler broke");
  });
  kernel.bus.topic<number>("t").publish(1);
  clock.advance(10);
  assert(logger.lines.some((l) => l.startsWith("error: ") && l.includes("sensor unplugged")));
  assert(logger.lines.some((l) => l.startsWith("error: ") && l.includes("handler broke")));
  assertEquals(kernel.executor.task("faulty")?.stats().lastError?.message, "sensor unplugged");
});

Deno.test("Kernel puts its name on its metrics, so two kernels share one registry", async () => {
  const clock = new VirtualClock();
  const metrics = new MetricsRegistry();
  await using a = await Kernel.start({ clock, metrics, name: "left", logger: SILENT_LOGGER });
  await using b = await Kernel.start({ clock, metrics, name: "right", logger: SILENT_LOGGER });
  a.periodic({ name: "tick", periodMs: 10, run: () => {} });
  b.periodic({ name: "tick", periodMs: 5, run: () => {} });
  clock.advance(20);
  const text = metrics.exposeText();
  assert(text.includes('chronetix_exec_runs_total{executor="left",task="tick"} 2'), text);
  assert(text.includes('chronetix_exec_runs_total{executor="right",task="tick"} 4'), text);
});

Deno.test("Kernel.start() and shutdown() reject bad options with errors that name them", async () => {
  await assertRejects(
    () => Kernel.start(null as never),
    TypeError,
    "Cannot start a Kernel as 'options' must be an object: current value is null",
  );
  await assertRejects(() => Kernel.start({ name: "" }), TypeError, "'name'");
  const kernel = await Kernel.start({ clock: new VirtualClock(), logger: SILENT_LOGGER });
  assertThrows(() => kernel.shutdown({ graceMs: -1 }), RangeError, "'graceMs' must be >= 0");
  await kernel.shutdown();
});

Deno.test("Kernel.shutdown() completes when a handler re-queues forever, and counts what it dropped", async () => {
  const clock = new VirtualClock();
  const kernel = await Kernel.start({ clock, logger: SILENT_LOGGER });
  const echo = kernel.bus.topic<number>("echo");
  let delivered = 0;
  echo.subscribe((n) => {
    delivered++;
    echo.enqueue(n + 1);
  });
  echo.enqueue(0);
  const report = await kernel.shutdown({ graceMs: 10 });
  assert(delivered > 0);
  assertEquals(report.eventsDropped, 1, "the one event re-queued by the last drain round");
  assertEquals(report.graceful, false);
  assertEquals(kernel.state, "stopped");
});

Deno.test("Kernel.start({ defaultMetrics }) exports process and runtime metrics and stops them on shutdown", async () => {
  const kernel = await Kernel.start({ defaultMetrics: true, logger: SILENT_LOGGER });
  const text = new TextDecoder().decode(kernel.metrics.expose());
  for (
    const name of [
      "process_cpu_seconds_total",
      "process_resident_memory_bytes",
      "nodejs_heap_size_used_bytes",
    ]
  ) {
    assert(text.includes(`\n${name}`) || text.startsWith(name), `${name} is missing`);
  }
  await kernel.shutdown();
  // The sanitizers fail this test if the event-loop probe's timer outlived the kernel.
});

Deno.test("Kernel.start() rejects a defaultMetrics option that is neither a boolean nor options", async () => {
  await assertRejects(
    () => Kernel.start({ defaultMetrics: 5 as unknown as boolean }),
    TypeError,
    "'defaultMetrics' must be a boolean or options: current value is 5",
  );
});
