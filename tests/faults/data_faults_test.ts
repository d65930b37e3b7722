// Data-plane faults that could hang the process, each in its own process with
// real Workers on the real clock: one end of a shared ring dies (its Worker
// terminated) or hangs inside a callback; the other end finds out within the
// ring's liveness timeout, counts exactly, keeps the rest of the program
// running, and the process exits by itself.
import { runFixture as run } from "./_run_fixture.ts";
import { assert, assertEquals } from "@std/assert";

const FIXTURE = new URL("./_fixtures/data_ring_faults.ts", import.meta.url);
const runFixture = (...args: string[]) => run(FIXTURE, ...args);

Deno.test("RingWriter.whenWritable() ends with closed when the reader's Worker is terminated; the process exits", async () => {
  const { code, report, stderr } = await runFixture("dead-reader");
  assertEquals(code, 0, stderr);
  assertEquals(report.result, "closed");
  assertEquals(report.bad, null);
  assertEquals(report.progress, 3000);
  const sent = report.sent as number;
  assertEquals(report.report, { consumed: 3000, unconsumed: sent - 3000 });
  assertEquals(report.discarded, sent - 3000);
  assertEquals(report.readerState, "dead");
  assertEquals(report.readerDeaths, 1);
  assertEquals(report.metrics, [
    'chronetix_ring_dead_ends_total{ring="faults",end="reader"} 1',
    'chronetix_ring_dead_ends_total{ring="faults",end="writer"} 0',
  ]);
  const log = report.log as string[];
  assertEquals(log.length, 1, log.join("\n"));
  assert(
    log[0]!.startsWith('Reader of ring "faults" (epoch 1) showed no sign of life for '),
    log[0],
  );
  assert((report.otherWork as number) > 0, "the event loop kept running while the writer waited");
});

Deno.test("RingWriter.waitWritable() in a Worker returns closed when the reader's Worker is terminated", async () => {
  const { code, report, stderr } = await runFixture("blocked-producer");
  assertEquals(code, 0, stderr);
  assertEquals(report.result, "closed");
  assertEquals(report.progress, 3000);
  const sent = report.sent as number;
  assertEquals(report.report, { consumed: 3000, unconsumed: sent - 3000 });
  assertEquals(report.readerState, "dead");
  assertEquals(report.readerDeaths, 1);
  assert((report.otherWork as number) > 0);
});

Deno.test("RingWriter.close() counts exactly what a reader hung inside its callback had finished", async () => {
  const { code, report, stderr } = await runFixture("hung-consumer");
  assertEquals(code, 0, stderr);
  assertEquals(report.result, "closed", "the hung reader was presumed dead");
  assertEquals(report.bad, null);
  const sent = report.sent as number;
  // Frames 0..2499 returned from the callback; 2500 was inside it. Before, the
  // count lagged by up to 63 frames (released in batches of 64).
  assertEquals(report.report, { consumed: 2500, unconsumed: sent - 2500 });
  assertEquals(report.readerState, "dead");
  const reader = report.reader as Record<string, unknown>;
  assertEquals(
    reader.result,
    "closed",
    "released, the reader saw it had lost the ring and stopped",
  );
  assertEquals(reader.closed, true);
  assertEquals(reader.progress, 2501, "it finished the frame it was in, and no other");
  assert((report.otherWork as number) > 0);
});

Deno.test("RingReader.takeover() after the reader's Worker was terminated mid-stream: 1,000,000 frames, none lost, duplicated, reordered or corrupt", async () => {
  for (const seed of [1, 2]) {
    const { code, report, stderr } = await runFixture("takeover", String(seed));
    assertEquals(code, 0, stderr);
    assertEquals(report.result, "sent");
    assertEquals(report.bad, null, `seed ${seed}`);
    assertEquals(report.badCount, 0);
    assertEquals(report.sent, 1_000_000);
    assertEquals(report.progress, 1_000_000, "every frame arrived once, in order");
    assertEquals(report.report, { consumed: 1_000_000, unconsumed: 0 });
    assertEquals(report.readerDeaths, 1);
    assertEquals(report.readerTakeovers, 1);
    const second = report.secondReport as { report: unknown };
    assertEquals(second.report, { consumed: 1_000_000, unconsumed: 0 });
  }
});

Deno.test("RingReader.takeover() stops a reader Worker blocked in wait(), which terminate() cannot", async () => {
  const { code, report, stderr } = await runFixture("evict-sync-reader");
  assertEquals(code, 0, stderr);
  assertEquals(report.sent, 1000);
  assertEquals(report.quick, true, "the old reader acknowledged; no liveness timeout was needed");
  assertEquals(report.oldEnded, 1, "its wait() returned closed and its report was exact");
  assertEquals(report.readerTakeovers, 1);
  assertEquals(report.readerDeaths, 0);
});

Deno.test("RingReader.whenReadable() ends with closed when the writer's Worker is terminated; the process exits", async () => {
  const { code, report, stderr } = await runFixture("dead-writer");
  assertEquals(code, 0, stderr);
  assertEquals(report.result, "closed");
  assertEquals(report.bad, null);
  assertEquals(report.received, 4000);
  assertEquals(report.report, { consumed: 4000, unconsumed: 0 });
  assertEquals(report.writerState, "dead");
  assertEquals(report.writerDeaths, 1);
  const log = report.log as string[];
  assertEquals(log.length, 1, log.join("\n"));
  assert(log[0]!.includes('RingReader "faults" (epoch 1) showed no sign of life'), log[0]);
  assert((report.otherWork as number) > 0);
});
