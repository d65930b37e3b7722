// SharedValues between real threads: 100,000 records, every field derived
// from one counter, written on one thread while the other reads all along.
// No read may be torn (fields from two writes), the version may never go
// backwards, and the reader must see the last record. The writer waits
// after each batch of 1,000 until the reader saw one of them (a condition
// on shared memory, not a time), so the two overlap for the whole run.
import { assert, assertEquals, assertGreaterOrEqual } from "@std/assert";
import { SharedValues } from "../../src/island/shared_values.ts";
import {
  ACK,
  BATCH,
  CONTROL_WORDS,
  FIELDS,
  fillRecord,
  RecordChecker,
  STOP,
} from "./_values_records.ts";
import type { ValuesWorkerReport, ValuesWorkerTask } from "./_values_worker.ts";

const RECORDS = 100_000;

interface Started {
  report: Promise<ValuesWorkerReport>;
  /** Set when the Worker failed: the main thread's loop stops on it. */
  failed: { error?: Error };
  worker: Worker;
}

function start(task: ValuesWorkerTask): Started {
  const worker = new Worker(new URL("./_values_worker.ts", import.meta.url), { type: "module" });
  const failed: { error?: Error } = {};
  const { promise, resolve, reject } = Promise.withResolvers<ValuesWorkerReport>();
  worker.onmessage = ({ data }) => resolve(data);
  worker.onerror = (event) => {
    event.preventDefault();
    failed.error = new Error(`SharedValues test worker failed: ${event.message}`);
    reject(failed.error);
  };
  worker.postMessage(task);
  return { report: promise, failed, worker };
}

/** Lets the event loop run (the Worker's messages and errors); not a wait for anything. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function stop(control: Int32Array): void {
  Atomics.store(control, STOP, 1);
  Atomics.notify(control, ACK);
}

Deno.test("SharedValues: a Worker writes 100,000 records while the main thread reads, never a torn read", async () => {
  const values = new SharedValues({ name: "to-main", fields: FIELDS });
  const control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  const writer = start({
    mode: "write",
    buffer: values.buffer,
    control: control.buffer as SharedArrayBuffer,
    records: RECORDS,
  });
  const checker = new RecordChecker();
  const snapshot = new Float64Array(FIELDS.length);
  try {
    while (checker.last < RECORDS && writer.failed.error === undefined) {
      for (let i = 0; i < 4096 && checker.last < RECORDS; i++) {
        if (checker.check(snapshot, values.readInto(snapshot))) {
          Atomics.store(control, ACK, checker.last);
          Atomics.notify(control, ACK);
        }
        if ((i & 15) === 0) checker.checkField(values.get("k"));
      }
      await yieldToEventLoop();
    }
    const report = await writer.report;
    assertEquals(checker.problems, []);
    assertEquals(report, { mode: "write", written: RECORDS, version: RECORDS });
    assertEquals(checker.last, RECORDS, "the reader saw the last record");
    assertGreaterOrEqual(checker.distinct, RECORDS / BATCH, "reads overlapped every batch");
    assertEquals(values.version, RECORDS);
    fillRecord(snapshot, RECORDS);
    assertEquals(Object.values(values.read()), [...snapshot]);
  } finally {
    stop(control);
    await writer.report.catch(() => {});
    writer.worker.terminate();
  }
});

Deno.test("SharedValues: the main thread writes 100,000 records while a Worker reads, never a torn read", async () => {
  const values = new SharedValues({ name: "to-worker", fields: FIELDS });
  const control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  const reader = start({
    mode: "read",
    buffer: values.buffer,
    control: control.buffer as SharedArrayBuffer,
    records: RECORDS,
  });
  const record = new Float64Array(FIELDS.length);
  try {
    for (let k = 1; k <= RECORDS; k++) {
      fillRecord(record, k);
      if (k % 2 === 0) values.writeFrom(record);
      else values.write({ k, twice: 2 * k, half: k + 0.5, neg: -k, thrice: 3 * k, prev: k - 1 });
      if (k % BATCH !== 0) continue;
      // Wait (on the reader's acknowledgement, not a time) until the reader saw this batch.
      for (;;) {
        const acked = Atomics.load(control, ACK);
        if (acked > k - BATCH) break;
        if (reader.failed.error !== undefined) throw reader.failed.error;
        const wait = Atomics.waitAsync(control, ACK, acked);
        if (wait.async) {
          // The Worker's error also ends the wait: it wakes the word.
          reader.report.catch(() => Atomics.notify(control, ACK));
          await wait.value;
        }
      }
    }
    const report = await reader.report;
    assert(report.mode === "read");
    assertEquals(report.problems, []);
    assertEquals(report.last, RECORDS, "the reader saw the last record");
    assertGreaterOrEqual(report.distinct, RECORDS / BATCH, "reads overlapped every batch");
    assertGreaterOrEqual(report.reads, report.distinct);
  } finally {
    stop(control);
    await reader.report.catch(() => {});
    reader.worker.terminate();
  }
});
