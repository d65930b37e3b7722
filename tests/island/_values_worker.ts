// A Worker for the SharedValues tests. "write": attach to the block and
// write records 1..records (see _values_records.ts), alternating write()
// and writeFrom(); after each batch it waits until the reader has seen a
// record of that batch, so reads and writes overlap all along. "read":
// attach and read continuously, checking every snapshot, until the last
// record is seen; acknowledge each new version for the writer.
import { SharedValues } from "../../src/island/shared_values.ts";
import {
  ACK,
  BATCH,
  FIELDS,
  fillRecord,
  type ReadReport,
  RecordChecker,
  STOP,
} from "./_values_records.ts";

/** The first message of the test Worker. */
export interface ValuesWorkerTask {
  mode: "write" | "read";
  buffer: SharedArrayBuffer;
  control: SharedArrayBuffer;
  records: number;
}

/** What the test Worker reports. */
export type ValuesWorkerReport =
  | { mode: "write"; written: number; version: number }
  | ({ mode: "read" } & ReadReport);

const worker = self as unknown as {
  onmessage: ((event: MessageEvent<ValuesWorkerTask>) => void) | null;
  postMessage(report: ValuesWorkerReport): void;
};

worker.onmessage = ({ data: task }) => {
  const values = new SharedValues({ fields: FIELDS, buffer: task.buffer, name: "test" });
  const control = new Int32Array(task.control);
  worker.postMessage(
    task.mode === "write" ? write(values, control, task.records) : {
      mode: "read",
      ...read(values, control, task.records),
    },
  );
};

function write(
  values: SharedValues<(typeof FIELDS)[number]>,
  control: Int32Array,
  records: number,
): ValuesWorkerReport {
  const record = new Float64Array(FIELDS.length);
  let k = 1;
  for (; k <= records && Atomics.load(control, STOP) === 0; k++) {
    if (k % 2 === 0) {
      fillRecord(record, k);
      values.writeFrom(record);
    } else {
      values.write({ k, twice: 2 * k, half: k + 0.5, neg: -k, thrice: 3 * k, prev: k - 1 });
    }
    if (k % BATCH === 0) {
      // Wait (a condition, not a time) until the reader saw this batch.
      for (;;) {
        const acked = Atomics.load(control, ACK);
        if (acked > k - BATCH || Atomics.load(control, STOP) !== 0) break;
        Atomics.wait(control, ACK, acked);
      }
    }
  }
  return { mode: "write", written: k - 1, version: values.version };
}

function read(
  values: SharedValues<(typeof FIELDS)[number]>,
  control: Int32Array,
  records: number,
): ReadReport {
  const checker = new RecordChecker();
  const snapshot = new Float64Array(FIELDS.length);
  while (checker.last < records && Atomics.load(control, STOP) === 0) {
    if (checker.check(snapshot, values.readInto(snapshot))) {
      Atomics.store(control, ACK, checker.last);
      Atomics.notify(control, ACK);
    }
    if (checker.reads % 16 === 0) checker.checkField(values.get("k"));
  }
  return checker.report();
}
