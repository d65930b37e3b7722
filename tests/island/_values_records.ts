// The records of the SharedValues Worker tests: every field is derived from
// one counter k, so a reader can tell a torn record (fields from two writes)
// from a whole one, and the version of record k is k (the k-th write).

/** The fields of a test block. */
export const FIELDS = ["k", "twice", "half", "neg", "thrice", "prev"] as const;

/** Records a writer writes per batch before it waits for the reader to see one of them. */
export const BATCH = 1000;

/** Int32 indexes of the control words shared between the test and its Worker. */
export const ACK = 0; // the highest version the reader saw
export const STOP = 1; // set to end the Worker's loop early (the test failed)
export const CONTROL_WORDS = 2;

/** Fills `record` with record `k`. */
export function fillRecord(record: Float64Array, k: number): void {
  record[0] = k;
  record[1] = 2 * k;
  record[2] = k + 0.5;
  record[3] = -k;
  record[4] = 3 * k;
  record[5] = k - 1;
}

/** What the reader of a test block found. */
export interface ReadReport {
  reads: number;
  /** Distinct versions seen. */
  distinct: number;
  /** Up to 10 descriptions of torn records or of versions going backwards. */
  problems: string[];
  /** The last version seen. */
  last: number;
}

/** Follows a block's records as a reader: checks each snapshot it reads. */
export class RecordChecker {
  reads = 0;
  distinct = 0;
  last = 0;
  readonly problems: string[] = [];

  /** Checks one snapshot (from `readInto()`); returns whether its version is new. */
  check(snapshot: Float64Array, version: number): boolean {
    this.reads++;
    if (version < this.last) this.#problem(`version went back from ${this.last} to ${version}`);
    if (version === 0) {
      if (!snapshot.every(Number.isNaN)) this.#problem(`version 0 with values ${[...snapshot]}`);
      return false;
    }
    const k = snapshot[0]!;
    const whole = k === version && snapshot[1] === 2 * k && snapshot[2] === k + 0.5 &&
      snapshot[3] === -k && snapshot[4] === 3 * k && snapshot[5] === k - 1;
    if (!whole) this.#problem(`torn record at version ${version}: ${[...snapshot]}`);
    const fresh = version > this.last;
    if (fresh) {
      this.distinct++;
      this.last = version;
    }
    return fresh;
  }

  /** Checks a single field read with `get("k")`: never behind what was seen before. */
  checkField(k: number): void {
    if (k < this.last) this.#problem(`get("k") went back from ${this.last} to ${k}`);
  }

  report(): ReadReport {
    return {
      reads: this.reads,
      distinct: this.distinct,
      problems: this.problems,
      last: this.last,
    };
  }

  #problem(text: string): void {
    if (this.problems.length < 10) this.problems.push(text);
  }
}
