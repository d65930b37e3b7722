// Goes through the public entry points only, the way a user's program does:
// a kernel with periodic, one-shot and event tasks, the bus, an offload pool,
// a DataPort and the shared ring, and a metrics scrape.
import {
  ClosedError,
  DataPort,
  Kernel,
  type Logger,
  MetricsRegistry,
  negotiateExpositionFormat,
  RingReader,
  RingWriter,
  WOULD_BLOCK,
} from "@chronetix/core";
import { VirtualClock } from "@chronetix/core/testing";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";

const quiet: Logger = { error() {}, warn() {}, info() {} };

Deno.test("Kernel runs periodic, one-shot and event tasks on a virtual clock, and a scrape shows them", async () => {
  const clock = new VirtualClock();
  const metrics = new MetricsRegistry();
  const kernel = await Kernel.start({ clock, metrics, logger: quiet });
  const samples = kernel.bus.topic<number>("samples");
  const filtered: number[] = [];
  kernel.periodic({ name: "sampler", periodMs: 10, run: (ctx) => samples.publish(ctx.release) });
  kernel.onEvent<number>({
    name: "filter",
    topic: "samples",
    run: (ctx) => void filtered.push(ctx.event),
  });
  let fired = 0;
  kernel.once({ name: "alarm", delayMs: 25, run: () => void fired++ });
  clock.advance(50);
  assertEquals(filtered, [10, 20, 30, 40, 50]);
  assertEquals(fired, 1);
  const stats = kernel.stats();
  assertEquals(stats.executor.runs, 11);
  assertEquals(stats.executor.deadlineMisses, 0);

  const format = negotiateExpositionFormat("application/openmetrics-text; version=1.0.0");
  const text = metrics.exposeText(format);
  assertStringIncludes(text, 'chronetix_exec_runs_total{executor="kernel",task="sampler"} 5');
  assertStringIncludes(text, "chronetix_exec_execution_seconds_bucket");
  assert(!text.includes('task="*"'), "no totals series inside a per-task family");
  assert(text.endsWith("# EOF\n"));

  const report = await kernel.shutdown({ graceMs: 100 });
  assertEquals(report.graceful, true);
  assertEquals(kernel.state, "stopped");
  assertEquals(await kernel.shutdown(), report);
});

Deno.test("Kernel offloads jobs to real Workers and drains them on shutdown", async () => {
  const kernel = await Kernel.start({
    profile: "efficient",
    logger: quiet,
    offload: {
      jobs: { square: new URL("../exec/_fixtures/jobs/square.ts", import.meta.url) },
      workers: 1,
    },
  });
  // Typed as present: no non-null assertion needed when started with `offload`.
  const results = Array.from({ length: 10 }, (_, i) => kernel.offload.submit<number>("square", i));
  const report = await kernel.shutdown({ graceMs: 600_000 });
  assertEquals(report.offloadDrained, 10);
  assertEquals(await Promise.all(results), [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
  await assertRejects(() => kernel.offload.submit("square", 1), ClosedError);
});

Deno.test("DataPort and the shared ring move frames with backpressure and lose none", async () => {
  using port = new DataPort({ credit: 4 });
  const received: number[] = [];
  let sent = 0;
  for (let i = 0; i < 4; i++) assert(port.send(Uint8Array.of(i)) !== WOULD_BLOCK);
  assertEquals(port.send(Uint8Array.of(9)), WOULD_BLOCK);
  port.onFrame((meta, view) => {
    received.push(view[0]!);
    port.recycle(meta);
  });
  await port.whenIdle();
  for (sent = 4; sent < 20; sent++) {
    while (port.send(Uint8Array.of(sent)) === WOULD_BLOCK) await port.whenWritable();
  }
  await port.whenIdle();
  assertEquals(received, Array.from({ length: 20 }, (_, i) => i));

  const writer = RingWriter.create({ slots: 8, slotSize: 16 });
  const reader = new RingReader(writer.buffer);
  const got: number[] = [];
  for (let i = 0; i < 20; i++) {
    while (writer.send(Uint8Array.of(i)) === WOULD_BLOCK) {
      reader.poll((slot) => void got.push(slot[0]!));
    }
  }
  writer.close();
  reader.poll((slot) => void got.push(slot[0]!));
  assertEquals(got, Array.from({ length: 20 }, (_, i) => i));
  reader.close();
});
