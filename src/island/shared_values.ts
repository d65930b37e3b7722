import { ChronetixError } from "../errors.ts";
import { CONSOLE_LOGGER, type Logger } from "../logger.ts";
import { requireLogger, requireName, requireOptions, show } from "../internal/validate.ts";

// The layout of a block of latest values (all offsets in bytes):
//
//   0    control line: magic, layout version, field count, byte length of the names
//   64   the sequence word (Int32), on a line of its own
//   128  copy 0: the version (writes so far), then one Float64 per field
//   ...  copy 1: the same, padded to 64 bytes each
//   ...  the field names, as UTF-8 JSON, so that attaching can name a mismatch
//
// It is a seqlock in its "latch" form: two copies of the record, and a
// sequence word whose parity says which copy the writer may be touching.
// A write moves the sequence to odd (readers now read copy 1), writes copy 0,
// moves it to even (readers now read copy 0), writes copy 1. A reader loads
// the sequence, copies the copy its parity points at, and loads the
// sequence again: unchanged means the copy was not touched meanwhile.
//
// The latch, rather than a plain seqlock, because a reader then never waits
// for a writer: a writer preempted mid-write (a GC pause on the main thread,
// the OS scheduler) or dead mid-write (a Worker that crashed) leaves one
// whole copy, and readers keep getting the last complete record from it. A
// real-time island reading the main thread's values is not held up by the
// main thread. A read only retries when the writer finished a half-write
// during it, so retries stop as soon as the writer pauses.
//
// Memory model. Every access to the sequence and to the data goes through
// `Atomics` (the Float64 values as two Int32 halves), so all of them are
// sequentially consistent and sit in one total order. That is what makes
// the re-check sound: if any data load of a read returned a half stored
// after the writer moved the sequence on from `s`, that load comes after
// the move in the total order, so the re-check (later in the reader's
// program order, hence later in the total order) sees the new sequence and
// the attempt is thrown away. Plain Float64 stores between two
// `Atomics.store`s on the sequence are not enough: in the ECMAScript memory
// model a plain (Unordered) read that sees a racing write does not
// synchronise with it, so nothing forbids the re-check from returning the
// old sequence; and V8 on arm64 compiles `Atomics.load`/`store` to
// `ldar`/`stlr`, which let an earlier plain load complete after the `ldar`
// and a later plain store become visible before the `stlr`: exactly the
// torn read a seqlock must rule out. On x86-64 an atomic load is a plain
// `mov`, so readers pay nothing for it; the writer pays an `xchg` per half.

const MAGIC = 0; // Int32 indexes of the control line
const LAYOUT = 1;
const FIELD_COUNT = 2;
const NAMES_BYTES = 3;
const SEQ = 16; // the sequence word: byte 64
const HEADER_BYTES = 128;
const SHARED_VALUES_MAGIC = 0x43535631; // "CSV1"
const LAYOUT_VERSION = 1;
/** The most fields a block holds. */
const MAX_FIELDS = 65_536;
/** Read attempts before a read gives up on a writer that never lets it finish. */
const MAX_READ_ATTEMPTS = 1000;
/** Attempts retried at once, before the reader backs off. */
const FAST_ATTEMPTS = 16;
/** The longest back-off between attempts, in loads of the sequence word. */
const MAX_BACKOFF_SPINS = 1024;

/** Where the parts of a block live, in Int32 indexes from the start of the buffer. */
interface ValuesLayout {
  /** Int32 index of copy 0's version (copy 1 follows at `copy1`). */
  copy0: number;
  copy1: number;
  namesOffset: number;
  byteLength: number;
}

function valuesLayout(fieldCount: number, namesBytes: number): ValuesLayout {
  const copyBytes = Math.ceil(((fieldCount + 1) * 8) / 64) * 64;
  const namesOffset = HEADER_BYTES + 2 * copyBytes;
  return {
    copy0: HEADER_BYTES / 4,
    copy1: (HEADER_BYTES + copyBytes) / 4,
    namesOffset,
    byteLength: namesOffset + namesBytes,
  };
}

/** Options of {@linkcode SharedValues}. */
export interface SharedValuesOptions<F extends string> {
  /**
   * The fields of the block, in order: at least one, each a non-empty
   * name, no two alike, at most 65,536. The order is the order of
   * {@linkcode SharedValues.readInto}'s target and of
   * {@linkcode SharedValues.writeFrom}'s source. When attaching to a
   * `buffer`, the same fields in the same order.
   */
  fields: readonly F[];
  /**
   * An existing block to attach to (another instance's
   * {@linkcode SharedValues.buffer}, usually posted to or from a Worker)
   * instead of allocating a new one.
   */
  buffer?: SharedArrayBuffer;
  /**
   * The block's name in error messages and log lines.
   *
   * @default {"default"}
   */
  name?: string;
  /**
   * Where a writer reports that it took over a block whose previous writer
   * stopped during a write.
   *
   * @default {CONSOLE_LOGGER}
   */
  logger?: Logger;
}

/**
 * A small block of latest values in a `SharedArrayBuffer`, shared between
 * threads: one thread writes named numbers, any number of threads read a
 * consistent snapshot of them. It is how the main thread and a real-time
 * island exchange set-points and measurements without a message per tick.
 *
 * A block has a **single writer**: one instance, in one thread, calls
 * {@linkcode SharedValues.write} and {@linkcode SharedValues.writeFrom}.
 * Another instance may take over once the first has stopped for good (a
 * restarted Worker writes where the crashed one left off); a writer that
 * sees that another one wrote since its own last write throws `E_SECOND_WRITER`
 * rather than interleave (a best-effort check: two writers that are truly
 * concurrent can still corrupt a record before either notices).
 *
 * Reads never return a torn record (fields from two different writes) and
 * never wait for the writer: a writer stopped or dead in the middle of a
 * write leaves the previous record readable. A read retries only while the
 * writer completes writes during it; after 1,000 attempts (with a back-off)
 * it throws a `ChronetixError` with code `E_VALUES_CONTENDED` instead of
 * spinning on. Reads and writes allocate nothing
 * ({@linkcode SharedValues.readInto}, {@linkcode SharedValues.writeFrom};
 * `write()` only reads the object it is given).
 *
 * Values are any numbers, `NaN` and infinities included; a field nobody
 * wrote yet reads as `NaN`, and {@linkcode SharedValues.version} is `0`.
 *
 * @typeParam F The field names.
 *
 * @example Latest values from a writer to a reader
 * ```ts
 * import { SharedValues } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const pose = new SharedValues({ name: "pose", fields: ["x", "y", "heading"] });
 * // Usually in a Worker, from the buffer and fields posted to it:
 * const reader = new SharedValues({ fields: ["x", "y", "heading"], buffer: pose.buffer });
 * pose.write({ x: 1.5, y: -2, heading: 0.25 });
 * pose.write({ heading: 0.5 }); // the other fields keep their values
 * assertEquals(reader.read(), { x: 1.5, y: -2, heading: 0.5 });
 * assertEquals(reader.version, 2);
 * ```
 */
export class SharedValues<F extends string = string> {
  /** The block's buffer: post it (with {@linkcode SharedValues.fields}) to the other thread. */
  readonly buffer: SharedArrayBuffer;
  /** The block's fields, in order. */
  readonly fields: readonly F[];
  /** The block's name, in error messages and log lines. */
  readonly name: string;

  readonly #logger: Logger;
  readonly #header: Int32Array;
  /** The whole buffer as Int32 words: the halves of the data. */
  readonly #words: Int32Array;
  readonly #copy0: number;
  readonly #copy1: number;
  readonly #index: Map<string, number>;
  /** A non-shared Float64 and its two halves, to split and join values. */
  readonly #float = new Float64Array(1);
  readonly #halves = new Int32Array(this.#float.buffer);
  /** A write's values, checked before any is stored: field indexes and values. */
  readonly #touched: Int32Array;
  readonly #staged: Float64Array;
  /** A read's target for `read()`. */
  readonly #scratch: Float64Array;
  /** The even sequence this writer left; -1 before its first write. */
  #seq = -1;
  /** The version this writer wrote last. */
  #version = 0;

  /**
   * Allocates a new block of `fields` (all `NaN`, version 0), or attaches
   * to an existing one given as `buffer`.
   *
   * @param options The fields, and optionally the buffer to attach to, a name and a logger.
   * @throws {TypeError} when `options` is not an object, `fields` is not an
   *   array of unique non-empty names, `name` or `logger` has the wrong
   *   type, or `buffer` is not a SharedValues block with the same fields
   *   (the message names what does not match).
   * @throws {RangeError} when `fields` is empty or holds more than 65,536 names.
   */
  constructor(options: SharedValuesOptions<F>) {
    const attach = options !== null && typeof options === "object" &&
      options.buffer !== undefined;
    const action = attach ? "attach SharedValues" : "create SharedValues";
    if (options === undefined) {
      throw new TypeError(
        `Cannot ${action} as 'options' must be an object with 'fields': current value is undefined`,
      );
    }
    requireOptions(action, "options", options);
    const fields = checkFields<F>(action, options.fields);
    this.name = requireName(action, "name", options.name ?? "default");
    this.#logger = requireLogger(action, "logger", options.logger ?? CONSOLE_LOGGER);
    const names = new TextEncoder().encode(JSON.stringify(fields));
    const layout = valuesLayout(fields.length, names.length);
    let buffer: SharedArrayBuffer;
    if (attach) {
      buffer = options.buffer as SharedArrayBuffer;
      checkBlock(buffer, fields);
    } else {
      buffer = new SharedArrayBuffer(layout.byteLength);
      const header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
      header[LAYOUT] = LAYOUT_VERSION;
      header[FIELD_COUNT] = fields.length;
      header[NAMES_BYTES] = names.length;
      new Uint8Array(buffer, layout.namesOffset).set(names);
      const data = new Float64Array(buffer, HEADER_BYTES, (layout.namesOffset - HEADER_BYTES) / 8);
      data.fill(NaN);
      data[0] = 0; // copy 0's version
      data[(layout.copy1 - layout.copy0) / 2] = 0; // copy 1's version
      // Published last: a block whose magic is set is whole.
      Atomics.store(header, MAGIC, SHARED_VALUES_MAGIC);
    }
    this.buffer = buffer;
    this.fields = fields;
    this.#header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.#words = new Int32Array(buffer, 0, layout.namesOffset / 4);
    this.#copy0 = layout.copy0;
    this.#copy1 = layout.copy1;
    this.#index = new Map(fields.map((field, i) => [field, i]));
    this.#touched = new Int32Array(fields.length);
    this.#staged = new Float64Array(fields.length);
    this.#scratch = new Float64Array(fields.length);
  }

  /**
   * The number of writes to the block so far (by every writer it had),
   * read consistently: `0` before the first.
   *
   * @throws {ChronetixError} `E_VALUES_CONTENDED` as {@linkcode SharedValues.readInto} does.
   */
  get version(): number {
    return this.#readOne(0, "read the version of");
  }

  /**
   * Writes some or all fields as one update: a reader sees all of them or
   * none. Fields left out (or given as `undefined`) keep their values.
   * Every value is checked before any is stored, so a rejected write
   * changes nothing. Only the block's single writer may call this.
   *
   * @param values The new values by field name: any numbers, `NaN` included.
   * @throws {TypeError} when `values` is not an object, names a field the
   *   block does not have, or holds something other than a number.
   * @throws {ChronetixError} `E_SECOND_WRITER` when another instance wrote
   *   to the block since this one's last write.
   *
   * @example Partial updates
   * ```ts
   * import { SharedValues } from "@chronetix/core";
   * import { assertEquals, assertThrows } from "@std/assert";
   *
   * const setpoints = new SharedValues({ fields: ["speed", "angle"] });
   * setpoints.write({ speed: 2 });
   * assertEquals(setpoints.get("speed"), 2);
   * assertEquals(setpoints.get("angle"), NaN); // not written yet
   * const input: Record<string, number> = JSON.parse('{ "sped": 3 }'); // misspelt
   * assertThrows(() => setpoints.write(input), TypeError, 'current value has "sped"');
   * assertEquals(setpoints.version, 1); // the rejected write changed nothing
   * ```
   */
  write(values: Partial<Readonly<Record<F, number>>>): void {
    if (values === null || typeof values !== "object") {
      throw new TypeError(
        `Cannot write to SharedValues "${this.name}" as 'values' must be an object: current value is ${
          show(values)
        }`,
      );
    }
    const touched = this.#touched;
    const staged = this.#staged;
    let count = 0;
    // Each value is read once, checked and staged: a getter that answers
    // differently the second time cannot slip a non-number into the block.
    for (const key in values) {
      if (!Object.hasOwn(values, key)) continue;
      const i = this.#index.get(key);
      if (i === undefined) {
        throw new TypeError(
          `Cannot write to SharedValues "${this.name}" as 'values' must only hold its fields (${this.#fieldList()}): current value has ${
            show(key)
          }`,
        );
      }
      const value: unknown = (values as Record<string, unknown>)[key];
      if (value === undefined) continue;
      if (typeof value !== "number") {
        throw new TypeError(
          `Cannot write to SharedValues "${this.name}" as '${
            valuesPath(key)
          }' must be a number: current value is ${show(value)}`,
        );
      }
      touched[count++] = i;
      staged[i] = value;
    }
    this.#publish(count);
  }

  /**
   * Writes every field as one update, from an array in the order of
   * {@linkcode SharedValues.fields}: the allocation-free way to write.
   *
   * @param source One number per field.
   * @throws {TypeError} when `source` is not a `Float64Array` or an array of numbers.
   * @throws {RangeError} when its length is not the number of fields.
   * @throws {ChronetixError} `E_SECOND_WRITER` as {@linkcode SharedValues.write} does.
   *
   * @example Writing from a Float64Array
   * ```ts
   * import { SharedValues } from "@chronetix/core";
   * import { assertEquals } from "@std/assert";
   *
   * const imu = new SharedValues({ fields: ["ax", "ay", "az"] });
   * const sample = new Float64Array(3);
   * sample.set([0.1, 0.2, 9.81]);
   * imu.writeFrom(sample);
   * assertEquals(imu.read(), { ax: 0.1, ay: 0.2, az: 9.81 });
   * ```
   */
  writeFrom(source: Float64Array | readonly number[]): void {
    const n = this.fields.length;
    const array = Array.isArray(source);
    if (!(source instanceof Float64Array) && !array) {
      throw new TypeError(
        `Cannot write to SharedValues "${this.name}" as 'source' must be a Float64Array or an array of numbers: current value is ${
          show(source)
        }`,
      );
    }
    if (source.length !== n) {
      throw new RangeError(
        `Cannot write to SharedValues "${this.name}" as 'source' must hold ${n} values, one per field: current length is ${source.length}`,
      );
    }
    const touched = this.#touched;
    const staged = this.#staged;
    for (let i = 0; i < n; i++) {
      const value: unknown = source[i];
      if (typeof value !== "number") {
        throw new TypeError(
          `Cannot write to SharedValues "${this.name}" as 'source[${i}]' must be a number: current value is ${
            show(value)
          }`,
        );
      }
      staged[i] = value;
    }
    for (let i = 0; i < n; i++) touched[i] = i;
    this.#publish(n);
  }

  /**
   * A consistent snapshot of every field, as an object. Its keys follow
   * JavaScript's own order (integer-like names such as `"0"` first);
   * {@linkcode SharedValues.readInto} gives the fields' order.
   *
   * @returns The values by field name.
   * @throws {ChronetixError} `E_VALUES_CONTENDED` as {@linkcode SharedValues.readInto} does.
   */
  read(): Record<F, number> {
    const scratch = this.#scratch;
    this.readInto(scratch);
    // `Object.fromEntries` defines own properties: a field named "__proto__" stays a field.
    return Object.fromEntries(this.fields.map((field, i) => [field, scratch[i]!])) as Record<
      F,
      number
    >;
  }

  /**
   * Copies a consistent snapshot of every field into `target`, in the
   * order of {@linkcode SharedValues.fields}, without allocating.
   *
   * @param target At least one slot per field; slots past the fields are left alone.
   * @returns The version of the snapshot: how many writes it reflects.
   * @throws {TypeError} when `target` is not a `Float64Array`.
   * @throws {RangeError} when `target` is shorter than the number of fields.
   * @throws {ChronetixError} `E_VALUES_CONTENDED` when the writer completed a
   *   write during each of 1,000 attempts (it never pauses); `target` then
   *   holds no particular snapshot.
   *
   * @example Reading into a preallocated array
   * ```ts
   * import { SharedValues } from "@chronetix/core";
   * import { assertEquals } from "@std/assert";
   *
   * const values = new SharedValues({ fields: ["a", "b"] });
   * values.write({ a: 1, b: 2 });
   * const target = new Float64Array(values.fields.length);
   * assertEquals(values.readInto(target), 1);
   * assertEquals([...target], [1, 2]);
   * ```
   */
  readInto(target: Float64Array): number {
    const n = this.fields.length;
    if (!(target instanceof Float64Array)) {
      throw new TypeError(
        `Cannot read SharedValues "${this.name}" as 'target' must be a Float64Array: current value is ${
          show(target)
        }`,
      );
    }
    if (target.length < n) {
      throw new RangeError(
        `Cannot read SharedValues "${this.name}" as 'target' must have at least ${n} slots, one per field: current length is ${target.length}`,
      );
    }
    const header = this.#header;
    for (let attempt = 0;; attempt++) {
      const s = Atomics.load(header, SEQ);
      const base = (s & 1) === 0 ? this.#copy0 : this.#copy1;
      const version = this.#load(base);
      for (let i = 0; i < n; i++) target[i] = this.#load(base + 2 + 2 * i);
      if (Atomics.load(header, SEQ) === s) return version;
      this.#backOff(attempt, "read");
    }
  }

  /**
   * The latest value of one field, read consistently.
   *
   * @param field A field of the block.
   * @returns Its value (`NaN` before it was first written).
   * @throws {TypeError} when `field` is not one of the block's fields.
   * @throws {ChronetixError} `E_VALUES_CONTENDED` as {@linkcode SharedValues.readInto} does.
   *
   * @example Reading one field
   * ```ts
   * import { SharedValues } from "@chronetix/core";
   * import { assertEquals } from "@std/assert";
   *
   * const values = new SharedValues({ fields: ["temperature"] });
   * values.write({ temperature: 21.5 });
   * assertEquals(values.get("temperature"), 21.5);
   * ```
   */
  get(field: F): number {
    const i = this.#index.get(field);
    if (i === undefined) {
      throw new TypeError(
        `Cannot get a value of SharedValues "${this.name}" as 'field' must be one of its fields (${this.#fieldList()}): current value is ${
          show(field)
        }`,
      );
    }
    return this.#readOne(2 + 2 * i, "read");
  }

  /** Reads one Float64 of the record (`at` Int32 words into a copy) consistently. */
  #readOne(at: number, action: string): number {
    const header = this.#header;
    for (let attempt = 0;; attempt++) {
      const s = Atomics.load(header, SEQ);
      const value = this.#load(((s & 1) === 0 ? this.#copy0 : this.#copy1) + at);
      if (Atomics.load(header, SEQ) === s) return value;
      this.#backOff(attempt, action);
    }
  }

  /** Publishes the `count` staged fields (indexes in `#touched`) as one write. */
  #publish(count: number): void {
    const header = this.#header;
    const copy0 = this.#copy0;
    const copy1 = this.#copy1;
    let start: number;
    if (this.#seq === -1) {
      // This instance's first write: it adopts the block. An even sequence
      // means copy 0 is whole and copy 1 may not be (a writer died writing
      // it): copy 1 is repaired before readers are sent to it. An odd one
      // means a writer died writing copy 0, so copy 1 is the whole one, and
      // the move to the next odd sequence discards any read of copy 0 that
      // started before.
      const s = Atomics.load(header, SEQ);
      const dead = (s & 1) !== 0;
      if (!dead) this.#copy(copy0, copy1);
      start = (s + (dead ? 2 : 1)) | 0;
      if (Atomics.compareExchange(header, SEQ, s, start) !== s) this.#secondWriter();
      if (dead) {
        this.#copy(copy1, copy0);
        this.#logger.warn(
          `SharedValues "${this.name}": took over a block whose previous writer stopped during a write; that write was dropped`,
        );
      }
      // Both copies now hold the last whole record.
      this.#version = this.#load(copy0);
    } else {
      start = (this.#seq + 1) | 0;
      if (Atomics.compareExchange(header, SEQ, this.#seq, start) !== this.#seq) {
        this.#secondWriter();
      }
    }
    // Odd: readers read copy 1 while copy 0 changes.
    const version = this.#version + 1;
    this.#storeStaged(copy0, count, version);
    const mid = (start + 1) | 0;
    if (Atomics.compareExchange(header, SEQ, start, mid) !== start) this.#secondWriter();
    // Even: readers read copy 0 while copy 1 catches up.
    this.#storeStaged(copy1, count, version);
    this.#seq = mid;
    this.#version = version;
  }

  #storeStaged(base: number, count: number, version: number): void {
    const touched = this.#touched;
    const staged = this.#staged;
    for (let k = 0; k < count; k++) {
      const i = touched[k]!;
      this.#store(base + 2 + 2 * i, staged[i]!);
    }
    this.#store(base, version);
  }

  /** Copies a whole record (version and fields) from one copy to the other. */
  #copy(from: number, to: number): void {
    const words = this.#words;
    const length = 2 + 2 * this.fields.length;
    for (let i = 0; i < length; i++) Atomics.store(words, to + i, Atomics.load(words, from + i));
  }

  /** Loads the Float64 whose halves start at Int32 index `at`. */
  #load(at: number): number {
    const halves = this.#halves;
    halves[0] = Atomics.load(this.#words, at);
    halves[1] = Atomics.load(this.#words, at + 1);
    return this.#float[0]!;
  }

  /** Stores a Float64 as two halves from Int32 index `at`. */
  #store(at: number, value: number): void {
    this.#float[0] = value;
    Atomics.store(this.#words, at, this.#halves[0]!);
    Atomics.store(this.#words, at + 1, this.#halves[1]!);
  }

  /**
   * Waits a little before the next read attempt: at once for the first
   * few, then a back-off that doubles, so that a reader and a fast writer
   * do not stay in step; throws after the last attempt.
   */
  #backOff(attempt: number, action: string): void {
    if (attempt + 1 >= MAX_READ_ATTEMPTS) {
      throw new ChronetixError(
        "E_VALUES_CONTENDED",
        `Cannot ${action} SharedValues "${this.name}" as its writer completed a write during each of ${MAX_READ_ATTEMPTS} attempts: a writer must pause between writes`,
      );
    }
    if (attempt < FAST_ATTEMPTS) return;
    const spins = Math.min(MAX_BACKOFF_SPINS, 1 << Math.min(attempt - FAST_ATTEMPTS, 10));
    const header = this.#header;
    for (let i = 0; i < spins; i++) Atomics.load(header, MAGIC);
  }

  #secondWriter(): never {
    throw new ChronetixError(
      "E_SECOND_WRITER",
      `Cannot write to SharedValues "${this.name}" as another writer wrote to its block: a block has a single writer`,
    );
  }

  #fieldList(): string {
    return listNames(this.fields);
  }
}

/** Checks `fields` and returns a frozen copy of it. */
function checkFields<F extends string>(action: string, value: unknown): readonly F[] {
  if (!Array.isArray(value)) {
    throw new TypeError(
      `Cannot ${action} as 'fields' must be an array of field names: current value is ${
        show(value)
      }`,
    );
  }
  if (value.length === 0 || value.length > MAX_FIELDS) {
    throw new RangeError(
      `Cannot ${action} as 'fields' must hold 1 to ${MAX_FIELDS} names: current length is ${value.length}`,
    );
  }
  const fields: string[] = Array.from(
    value as unknown[],
    (field, i) => requireName(action, `fields[${i}]`, field),
  );
  const seen = new Map<string, number>();
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    const first = seen.get(field);
    if (first !== undefined) {
      throw new TypeError(
        `Cannot ${action} as 'fields[${i}]' must differ from the other fields: current value is ${
          show(field)
        }, as is 'fields[${first}]'`,
      );
    }
    seen.set(field, i);
  }
  return Object.freeze(fields) as readonly F[];
}

/** Checks that `buffer` is a whole block of exactly `fields`; the message names what does not match. */
function checkBlock(buffer: unknown, fields: readonly string[]): void {
  const action = "attach SharedValues";
  if (!(buffer instanceof SharedArrayBuffer)) {
    throw new TypeError(
      `Cannot ${action} as 'buffer' must be the SharedArrayBuffer of a SharedValues block: current value is ${
        show(buffer)
      }`,
    );
  }
  const header = buffer.byteLength >= HEADER_BYTES
    ? new Int32Array(buffer, 0, HEADER_BYTES / 4)
    : undefined;
  if (header === undefined || Atomics.load(header, MAGIC) !== SHARED_VALUES_MAGIC) {
    throw new TypeError(
      `Cannot ${action} as 'buffer' is not a SharedValues block: pass the 'buffer' of a SharedValues`,
    );
  }
  if (header[LAYOUT] !== LAYOUT_VERSION) {
    throw new TypeError(
      `Cannot ${action} as 'buffer' has layout version ${
        header[LAYOUT]
      }: this version of Chronetix reads layout version ${LAYOUT_VERSION}`,
    );
  }
  const count = header[FIELD_COUNT]!;
  const namesBytes = header[NAMES_BYTES]!;
  const corrupt = () =>
    new TypeError(
      `Cannot ${action} as 'buffer' has a corrupt SharedValues header: ${count} fields, ${namesBytes} bytes of names in ${buffer.byteLength} bytes`,
    );
  if (count < 1 || count > MAX_FIELDS || namesBytes < 2) throw corrupt();
  const layout = valuesLayout(count, namesBytes);
  if (layout.byteLength > buffer.byteLength) throw corrupt();
  let stored: unknown;
  try {
    // `slice()` copies into a plain buffer: TextDecoder does not read shared memory.
    stored = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(
        new Uint8Array(buffer, layout.namesOffset, namesBytes).slice(),
      ),
    );
  } catch {
    throw corrupt();
  }
  if (
    !Array.isArray(stored) || stored.length !== count ||
    !stored.every((name) => typeof name === "string")
  ) {
    throw corrupt();
  }
  if (fields.length !== count) {
    throw new TypeError(
      `Cannot ${action} as 'fields' must be the block's ${count} fields (${
        listNames(stored)
      }): current value has ${fields.length}`,
    );
  }
  for (let i = 0; i < count; i++) {
    if (fields[i] !== stored[i]) {
      throw new TypeError(
        `Cannot ${action} as 'fields[${i}]' must be the block's field ${
          show(stored[i])
        }: current value is ${show(fields[i])}`,
      );
    }
  }
}

/** Names for an error message: the first few of them. */
function listNames(names: readonly string[]): string {
  const shown = names.slice(0, 8).map((f) => show(f)).join(", ");
  return names.length > 8 ? `${shown}, ...` : shown;
}

/** How an error message names the value of field `key` in `values`. */
function valuesPath(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `values.${key}` : `values[${show(key)}]`;
}
