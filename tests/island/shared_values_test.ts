// SharedValues in one thread: the block's layout (a cross-thread contract),
// the checks on attaching, reads and writes, a writer that stopped in the
// middle of a write (simulated by writing the block's words by hand, the
// way a Worker that died there leaves them), a writer that never lets a
// read finish (simulated by a sequence word that moves on every load), a
// second writer, and bad input.
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertStrictEquals,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { SharedValues } from "../../src/island/shared_values.ts";
import { ChronetixError } from "../../src/errors.ts";
import { recordingLogger, SILENT_LOGGER } from "../_util/logger.ts";

// The layout, as documented at the top of src/island/shared_values.ts.
const MAGIC = 0x43535631;
const SEQ = 16; // Int32 index
const HEADER_BYTES = 128;

function copyBytes(fields: number): number {
  return Math.ceil(((fields + 1) * 8) / 64) * 64;
}

/** Float64 views of both copies of a block: [version, ...fields]. */
function copies(values: SharedValues): [Float64Array, Float64Array] {
  const n = values.fields.length + 1;
  const size = copyBytes(values.fields.length);
  return [
    new Float64Array(values.buffer, HEADER_BYTES, n),
    new Float64Array(values.buffer, HEADER_BYTES + size, n),
  ];
}

function header(values: SharedValues): Int32Array {
  return new Int32Array(values.buffer, 0, HEADER_BYTES / 4);
}

Deno.test("SharedValues lays out a header, two copies of the record and the field names", () => {
  const fields = ["x", "y", "z", "w", "v", "u", "t", "s"]; // 9 Float64 per copy: two lines
  const values = new SharedValues({ fields, logger: SILENT_LOGGER });
  const names = new TextEncoder().encode(JSON.stringify(fields));
  const size = copyBytes(fields.length);
  assertEquals(size, 128);
  assertEquals(values.buffer.byteLength, HEADER_BYTES + 2 * size + names.length);
  const words = header(values);
  assertEquals([...words.subarray(0, 4)], [MAGIC, 1, fields.length, names.length]);
  assertEquals(words[SEQ], 0);
  const [copy0, copy1] = copies(values);
  assertEquals([...copy0], [0, ...fields.map(() => NaN)]);
  assertEquals([...copy1], [0, ...fields.map(() => NaN)]);
  assertEquals(
    new TextDecoder().decode(new Uint8Array(values.buffer, HEADER_BYTES + 2 * size).slice()),
    JSON.stringify(fields),
  );
  values.write({ y: 2 });
  values.write({ x: 1 });
  // Two sequence steps per write, both copies hold the whole record after it.
  assertEquals(words[SEQ], 4);
  assertEquals([...copy0.subarray(0, 3)], [2, 1, 2]);
  assertEquals([...copy1.subarray(0, 3)], [2, 1, 2]);
});

Deno.test("SharedValues reads and writes values, partial writes keep the other fields", async (t) => {
  const values = new SharedValues({ name: "pose", fields: ["x", "y", "heading"] });
  assertEquals(values.name, "pose");
  assertEquals(values.fields, ["x", "y", "heading"]);
  assert(Object.isFrozen(values.fields));

  await t.step("before the first write every field is NaN and the version 0", () => {
    assertEquals(values.version, 0);
    assertEquals(values.read(), { x: NaN, y: NaN, heading: NaN });
    assertEquals(values.get("x"), NaN);
  });

  await t.step("write() updates the fields given, each write counts once", () => {
    values.write({ x: 1, y: 2 });
    values.write({ heading: 0.5 });
    values.write({ x: 3, y: undefined });
    values.write({});
    assertEquals(values.version, 4);
    assertEquals(values.read(), { x: 3, y: 2, heading: 0.5 });
    assertEquals([values.get("x"), values.get("y"), values.get("heading")], [3, 2, 0.5]);
  });

  await t.step("any number goes through unchanged: NaN, infinities, -0, extremes", () => {
    values.write({ x: -0, y: Infinity, heading: -Infinity });
    assert(Object.is(values.get("x"), -0));
    assertEquals(values.read(), { x: -0, y: Infinity, heading: -Infinity });
    values.write({ x: Number.MIN_VALUE, y: -Number.MAX_VALUE, heading: NaN });
    assertEquals(values.read(), { x: Number.MIN_VALUE, y: -Number.MAX_VALUE, heading: NaN });
  });

  await t.step("readInto() fills the target in field order and returns the version", () => {
    const target = new Float64Array(5).fill(7);
    assertEquals(values.readInto(target), 6);
    assertEquals([...target], [Number.MIN_VALUE, -Number.MAX_VALUE, NaN, 7, 7]);
  });

  await t.step("writeFrom() writes every field from an array or a Float64Array", () => {
    values.writeFrom([1, 2, 3]);
    assertEquals(values.read(), { x: 1, y: 2, heading: 3 });
    values.writeFrom(Float64Array.of(4, 5, 6));
    assertEquals(values.read(), { x: 4, y: 5, heading: 6 });
    assertEquals(values.version, 8);
  });

  await t.step("an attached instance reads what the writer wrote, and the other way round", () => {
    const other = new SharedValues({ fields: ["x", "y", "heading"], buffer: values.buffer });
    assertEquals(other.read(), { x: 4, y: 5, heading: 6 });
    assertEquals(other.version, 8);
    assertStrictEquals(other.buffer, values.buffer);
  });
});

Deno.test("SharedValues keeps a field named like an Object.prototype member as a plain field", () => {
  const values = new SharedValues({ fields: ["__proto__", "constructor", "toString"] });
  values.write(JSON.parse('{"__proto__": 1, "constructor": 2, "toString": 3}'));
  const read = values.read();
  assertEquals(Object.getPrototypeOf(read), Object.prototype);
  assertEquals(Object.keys(read), ["__proto__", "constructor", "toString"]);
  assertEquals(Object.values(read), [1, 2, 3]);
  assertEquals(values.get("constructor"), 2);
});

Deno.test("SharedValues attaching checks the buffer and names what does not match", async (t) => {
  const block = new SharedValues({ fields: ["a", "b", "c"] });
  const attach = (fields: readonly string[], buffer: unknown) => () =>
    new SharedValues({ fields, buffer: buffer as SharedArrayBuffer });

  await t.step("not a SharedArrayBuffer", () => {
    assertThrows(
      attach(["a"], new ArrayBuffer(256)),
      TypeError,
      "Cannot attach SharedValues as 'buffer' must be the SharedArrayBuffer of a SharedValues block: current value is ArrayBuffer(256)",
    );
    assertThrows(attach(["a"], null), TypeError, "current value is null");
  });

  await t.step("not a block: too small, or no magic word", () => {
    for (const buffer of [new SharedArrayBuffer(8), new SharedArrayBuffer(4096)]) {
      assertThrows(
        attach(["a"], buffer),
        TypeError,
        "Cannot attach SharedValues as 'buffer' is not a SharedValues block",
      );
    }
  });

  await t.step("another layout version", () => {
    const copy = new SharedArrayBuffer(block.buffer.byteLength);
    new Uint8Array(copy).set(new Uint8Array(block.buffer));
    new Int32Array(copy, 0, 4)[1] = 2;
    assertThrows(
      attach(["a", "b", "c"], copy),
      TypeError,
      "Cannot attach SharedValues as 'buffer' has layout version 2: this version of Chronetix reads layout version 1",
    );
  });

  await t.step("another number of fields", () => {
    assertThrows(
      attach(["a", "b"], block.buffer),
      TypeError,
      `Cannot attach SharedValues as 'fields' must be the block's 3 fields ("a", "b", "c"): current value has 2`,
    );
    assertThrows(attach(["a", "b", "c", "d"], block.buffer), TypeError, "current value has 4");
  });

  await t.step("another field, or the same fields in another order", () => {
    assertThrows(
      attach(["a", "x", "c"], block.buffer),
      TypeError,
      `Cannot attach SharedValues as 'fields[1]' must be the block's field "b": current value is "x"`,
    );
    assertThrows(
      attach(["a", "c", "b"], block.buffer),
      TypeError,
      `'fields[1]' must be the block's field "b": current value is "c"`,
    );
  });

  await t.step("a corrupt header: a count the buffer cannot hold, names that do not parse", () => {
    const grown = new SharedArrayBuffer(block.buffer.byteLength);
    new Uint8Array(grown).set(new Uint8Array(block.buffer));
    new Int32Array(grown, 0, 4)[2] = 1000;
    assertThrows(attach(["a"], grown), TypeError, "'buffer' has a corrupt SharedValues header");
    const garbled = new SharedArrayBuffer(block.buffer.byteLength);
    new Uint8Array(garbled).set(new Uint8Array(block.buffer));
    new Uint8Array(garbled)[block.buffer.byteLength - 1] = 0xff; // invalid UTF-8
    assertThrows(
      attach(["a", "b", "c"], garbled),
      TypeError,
      "'buffer' has a corrupt SharedValues header",
    );
    const truncated = new SharedArrayBuffer(block.buffer.byteLength - 1);
    new Uint8Array(truncated).set(new Uint8Array(block.buffer, 0, truncated.byteLength));
    assertThrows(
      attach(["a", "b", "c"], truncated),
      TypeError,
      "'buffer' has a corrupt SharedValues header",
    );
  });

  await t.step("a failed attach leaves the block as it was", () => {
    block.write({ a: 1 });
    assertThrows(attach(["a", "b", "x"], block.buffer), TypeError);
    assertEquals(block.read(), { a: 1, b: NaN, c: NaN });
    assertEquals(block.version, 1);
  });
});

Deno.test("SharedValues readers get the last whole record from a writer that died in its first half", () => {
  const writer = new SharedValues({ fields: ["p", "q", "r"], logger: SILENT_LOGGER });
  writer.write({ p: 1, q: 2, r: 3 });
  // The dead writer moved the sequence to odd and wrote part of copy 0.
  const words = header(writer);
  const [copy0] = copies(writer);
  Atomics.add(words, SEQ, 1);
  copy0[0] = 2;
  copy0[1] = 100;
  copy0[2] = 200;
  const reader = new SharedValues({ fields: ["p", "q", "r"], buffer: writer.buffer });
  assertEquals(reader.read(), { p: 1, q: 2, r: 3 });
  assertEquals(reader.version, 1);
  assertEquals(reader.get("q"), 2);
  const target = new Float64Array(3);
  assertEquals(reader.readInto(target), 1);
  assertEquals([...target], [1, 2, 3]);

  // A new writer (a restarted Worker) takes over from the whole record.
  const logger = recordingLogger();
  const next = new SharedValues({
    name: "gains",
    fields: ["p", "q", "r"],
    buffer: writer.buffer,
    logger,
  });
  next.write({ r: 30 });
  assertEquals(reader.read(), { p: 1, q: 2, r: 30 });
  assertEquals(reader.version, 2);
  assertEquals(Atomics.load(words, SEQ) & 1, 0);
  const [c0, c1] = copies(writer);
  assertEquals([...c0], [2, 1, 2, 30]);
  assertEquals([...c1], [2, 1, 2, 30]);
  assertEquals(logger.lines, [
    'warn: SharedValues "gains": took over a block whose previous writer stopped during a write; that write was dropped',
  ]);
  next.write({ p: 10 });
  assertEquals(reader.read(), { p: 10, q: 2, r: 30 });
});

Deno.test("SharedValues readers get the new record from a writer that died in its second half", () => {
  const writer = new SharedValues({ fields: ["p", "q"], logger: SILENT_LOGGER });
  writer.write({ p: 1, q: 2 });
  // The dead writer wrote copy 0 whole, moved the sequence to even, and wrote part of copy 1.
  const words = header(writer);
  const [copy0, copy1] = copies(writer);
  Atomics.add(words, SEQ, 1);
  copy0.set([2, 5, 6]);
  Atomics.add(words, SEQ, 1);
  copy1[0] = 2;
  copy1[1] = 5; // q not yet
  const reader = new SharedValues({ fields: ["p", "q"], buffer: writer.buffer });
  assertEquals(reader.read(), { p: 5, q: 6 });
  assertEquals(reader.version, 2);

  const logger = recordingLogger();
  const next = new SharedValues({ fields: ["p", "q"], buffer: writer.buffer, logger });
  next.write({ p: 7 });
  assertEquals(reader.read(), { p: 7, q: 6 });
  assertEquals(reader.version, 3);
  assertEquals([...copy1], [3, 7, 6]);
  assertEquals(logger.lines, []); // an even sequence: nothing was dropped
});

/**
 * Runs `write` with a read by `reader` after every single atomic store the
 * writer makes to the block: the reads a thread could make at any point of
 * the write. Returns the records read.
 */
function readsDuringWrite(reader: SharedValues, write: () => void): number[][] {
  const store = Atomics.store;
  const exchange = Atomics.compareExchange;
  const seen: number[][] = [];
  const target = new Float64Array(reader.fields.length + 1);
  const look = () => {
    const version = reader.readInto(target);
    seen.push([version, ...target.subarray(0, reader.fields.length)]);
  };
  Atomics.store = ((array: Int32Array, index: number, value: number) => {
    const result = store(array, index, value);
    if (array.buffer === reader.buffer) look();
    return result;
  }) as typeof Atomics.store;
  Atomics.compareExchange =
    ((array: Int32Array, index: number, expected: number, value: number) => {
      const result = exchange(array, index, expected, value);
      if (array.buffer === reader.buffer) look();
      return result;
    }) as typeof Atomics.compareExchange;
  try {
    write();
  } finally {
    Atomics.store = store;
    Atomics.compareExchange = exchange;
  }
  return seen;
}

/** Another instance on the same block: the reader of another thread (never the writer itself). */
function readerOf(values: SharedValues): SharedValues {
  return new SharedValues({ fields: values.fields, buffer: values.buffer });
}

/** Asserts that every record read is `before` or `after` (by Object.is), and both occur. */
function assertWholeRecords(seen: number[][], before: number[], after: number[]): void {
  const same = (a: number[], b: number[]) => a.every((v, i) => Object.is(v, b[i]));
  assert(seen.length > 4, "reads were made during the write");
  for (const record of seen) {
    assert(same(record, before) || same(record, after), `torn record: ${record}`);
  }
  assert(same(seen[0]!, before), `the first read is the old record: ${seen[0]}`);
  assert(same(seen.at(-1)!, after), `the last read is the new record: ${seen.at(-1)}`);
}

Deno.test("SharedValues a read at any point of a write sees the old record or the new one", async (t) => {
  await t.step("writes of one writer", () => {
    const writer = new SharedValues({ fields: ["a", "b", "c"] });
    const reader = new SharedValues({ fields: ["a", "b", "c"], buffer: writer.buffer });
    assertWholeRecords(
      readsDuringWrite(reader, () => writer.write({ a: 1, b: 2, c: 3 })),
      [0, NaN, NaN, NaN],
      [1, 1, 2, 3],
    );
    assertWholeRecords(
      readsDuringWrite(reader, () => writer.write({ b: 20 })),
      [1, 1, 2, 3],
      [2, 1, 20, 3],
    );
    assertWholeRecords(
      readsDuringWrite(reader, () => writer.writeFrom([-0, Infinity, NaN])),
      [2, 1, 20, 3],
      [3, -0, Infinity, NaN],
    );
  });

  await t.step("a new writer taking over from one that died in its first half", () => {
    const writer = new SharedValues({ fields: ["a", "b"], logger: SILENT_LOGGER });
    writer.write({ a: 1, b: 2 });
    const [copy0] = copies(writer);
    Atomics.add(header(writer), SEQ, 1);
    copy0.set([2, 100, 200]);
    const next = new SharedValues({
      fields: ["a", "b"],
      buffer: writer.buffer,
      logger: SILENT_LOGGER,
    });
    assertWholeRecords(readsDuringWrite(readerOf(writer), () => next.write({ b: 3 })), [1, 1, 2], [
      2,
      1,
      3,
    ]);
  });

  await t.step("a new writer taking over from one that died in its second half", () => {
    const writer = new SharedValues({ fields: ["a", "b"], logger: SILENT_LOGGER });
    writer.write({ a: 1, b: 2 });
    const [copy0, copy1] = copies(writer);
    Atomics.add(header(writer), SEQ, 1);
    copy0.set([2, 5, 6]);
    Atomics.add(header(writer), SEQ, 1);
    copy1.set([2, 100, 200]); // half-written garbage
    const next = new SharedValues({
      fields: ["a", "b"],
      buffer: writer.buffer,
      logger: SILENT_LOGGER,
    });
    assertWholeRecords(readsDuringWrite(readerOf(writer), () => next.write({ a: 7 })), [2, 5, 6], [
      3,
      7,
      6,
    ]);
  });
});

Deno.test("SharedValues reads give up with E_VALUES_CONTENDED after bounded attempts against a writer that never pauses", async (t) => {
  const values = new SharedValues({ name: "busy", fields: ["a", "b"] });
  values.write({ a: 1, b: 2 });
  const words = header(values);
  const load = Atomics.load;
  let seqLoads = 0;
  // The sequence moves on between any two loads of it: every attempt sees a write.
  function contended<T>(fn: () => T): T {
    seqLoads = 0;
    Atomics.load = ((array: Int32Array, index: number) => {
      if (array.buffer === words.buffer && array.byteOffset === 0 && index === SEQ) {
        return 2 * ++seqLoads;
      }
      return load(array, index);
    }) as typeof Atomics.load;
    try {
      return fn();
    } finally {
      Atomics.load = load;
    }
  }
  for (
    const [label, fn] of [
      ["readInto()", () => values.readInto(new Float64Array(2))],
      ["read()", () => values.read()],
      ["get()", () => values.get("a")],
      ["version", () => values.version],
    ] as const
  ) {
    await t.step(label, () => {
      const error = contended(() => assertThrows(fn, ChronetixError));
      assertEquals(error.code, "E_VALUES_CONTENDED");
      assertStringIncludes(
        error.message,
        'SharedValues "busy" as its writer completed a write during each of 1000 attempts',
      );
      assertEquals(seqLoads, 2 * 1000, "two loads of the sequence per attempt, 1000 attempts");
    });
  }
  await t.step("the block is unharmed and reads again once the writer pauses", () => {
    assertEquals(values.read(), { a: 1, b: 2 });
    values.write({ a: 3 });
    assertEquals(values.read(), { a: 3, b: 2 });
  });
});

Deno.test("SharedValues a writer that sees another writer's write throws E_SECOND_WRITER", () => {
  const first = new SharedValues({ fields: ["v"], logger: SILENT_LOGGER });
  first.write({ v: 1 });
  const second = new SharedValues({ fields: ["v"], buffer: first.buffer });
  second.write({ v: 2 }); // takes over: its first write
  const error = assertThrows(() => first.write({ v: 3 }), ChronetixError);
  assertEquals(error.code, "E_SECOND_WRITER");
  assertEquals(
    error.message,
    'Cannot write to SharedValues "default" as another writer wrote to its block: a block has a single writer',
  );
  assertThrows(() => first.writeFrom([4]), ChronetixError, "another writer");
  assertEquals(first.read(), { v: 2 });
  assertEquals(first.version, 2);
  second.write({ v: 5 });
  assertEquals(first.read(), { v: 5 });
});

Deno.test("SharedValues constructor rejects bad options with Deno-style errors", () => {
  const cases: [unknown, new (message?: string) => Error, string][] = [
    [
      undefined,
      TypeError,
      "Cannot create SharedValues as 'options' must be an object with 'fields': current value is undefined",
    ],
    [null, TypeError, "Cannot create SharedValues as 'options' must be an object"],
    [5, TypeError, "'options' must be an object: current value is 5"],
    [
      {},
      TypeError,
      "Cannot create SharedValues as 'fields' must be an array of field names: current value is undefined",
    ],
    [
      { fields: "abc" },
      TypeError,
      `'fields' must be an array of field names: current value is "abc"`,
    ],
    [
      { fields: [] },
      RangeError,
      "Cannot create SharedValues as 'fields' must hold 1 to 65536 names: current length is 0",
    ],
    [
      { fields: new Array(65_537).fill("x") },
      RangeError,
      "'fields' must hold 1 to 65536 names: current length is 65537",
    ],
    [
      { fields: ["a", "b", 7] },
      TypeError,
      "Cannot create SharedValues as 'fields[2]' must be a non-empty string: current value is 7",
    ],
    [{ fields: [""] }, TypeError, `'fields[0]' must be a non-empty string: current value is ""`],
    [{ fields: ["a", "\uD800"] }, TypeError, "'fields[1]' must be well-formed Unicode"],
    [{ fields: ["a", , "c"] }, TypeError, "'fields[1]' must be a non-empty string"],
    [
      { fields: ["a", "b", "a"] },
      TypeError,
      `Cannot create SharedValues as 'fields[2]' must differ from the other fields: current value is "a", as is 'fields[0]'`,
    ],
    [{ fields: ["a"], name: "" }, TypeError, "'name' must be a non-empty string"],
    [
      { fields: ["a"], name: 3 },
      TypeError,
      "'name' must be a non-empty string: current value is 3",
    ],
    [{ fields: ["a"], logger: {} }, TypeError, "'logger' must be a Logger"],
    [
      { fields: [1], buffer: new SharedArrayBuffer(8) },
      TypeError,
      "Cannot attach SharedValues as 'fields[0]' must be a non-empty string",
    ],
  ];
  for (const [options, ErrorClass, message] of cases) {
    assertThrows(
      () => new SharedValues(options as never),
      ErrorClass,
      message,
      `options ${Deno.inspect(options).slice(0, 60)}`,
    );
  }
});

Deno.test("SharedValues write(), writeFrom(), readInto() and get() reject bad input and change nothing", () => {
  const values = new SharedValues({ name: "io", fields: ["a", "b", "c d"] });
  values.write({ a: 1, b: 2, "c d": 3 });
  const loose = values as unknown as SharedValues<string> & {
    write(values: unknown): void;
    writeFrom(source: unknown): void;
    readInto(target: unknown): number;
    get(field: unknown): number;
  };
  const cases: [() => unknown, new (message?: string) => Error, string][] = [
    [
      () => loose.write(null),
      TypeError,
      `Cannot write to SharedValues "io" as 'values' must be an object: current value is null`,
    ],
    [() => loose.write(5), TypeError, "'values' must be an object: current value is 5"],
    [
      () => loose.write({ a: 9, z: 1 }),
      TypeError,
      `Cannot write to SharedValues "io" as 'values' must only hold its fields ("a", "b", "c d"): current value has "z"`,
    ],
    [() => loose.write([5]), TypeError, `current value has "0"`],
    [
      () => loose.write({ a: 9, b: "2" }),
      TypeError,
      `Cannot write to SharedValues "io" as 'values.b' must be a number: current value is "2"`,
    ],
    [
      () => loose.write({ a: 9, "c d": 1n }),
      TypeError,
      `'values["c d"]' must be a number: current value is 1n`,
    ],
    [
      () => loose.write({ a: null }),
      TypeError,
      "'values.a' must be a number: current value is null",
    ],
    [
      () => loose.write({ a: { valueOf: () => 3 } }),
      TypeError,
      "'values.a' must be a number",
    ],
    [
      () => loose.writeFrom(new Float32Array(3)),
      TypeError,
      `Cannot write to SharedValues "io" as 'source' must be a Float64Array or an array of numbers: current value is Float32Array(3)`,
    ],
    [
      () => loose.writeFrom([1, 2]),
      RangeError,
      `Cannot write to SharedValues "io" as 'source' must hold 3 values, one per field: current length is 2`,
    ],
    [
      () => loose.writeFrom([9, 9, "3"]),
      TypeError,
      `'source[2]' must be a number: current value is "3"`,
    ],
    [
      () => loose.readInto([0, 0, 0]),
      TypeError,
      `Cannot read SharedValues "io" as 'target' must be a Float64Array: current value is [0,0,0]`,
    ],
    [
      () => loose.readInto(new Float64Array(2)),
      RangeError,
      `Cannot read SharedValues "io" as 'target' must have at least 3 slots, one per field: current length is 2`,
    ],
    [
      () => loose.get("z"),
      TypeError,
      `Cannot get a value of SharedValues "io" as 'field' must be one of its fields ("a", "b", "c d"): current value is "z"`,
    ],
    [() => loose.get(undefined), TypeError, "'field' must be one of its fields"],
  ];
  for (const [fn, ErrorClass, message] of cases) {
    assertThrows(fn, ErrorClass, message);
    assertEquals(values.read(), { a: 1, b: 2, "c d": 3 });
    assertEquals(values.version, 1);
  }
  // A getter is read once: it cannot pass the check and then store something else.
  let reads = 0;
  values.write({
    get a() {
      return ++reads === 1 ? 5 : "five";
    },
  } as never);
  assertEquals(reads, 1);
  assertEquals(values.read(), { a: 5, b: 2, "c d": 3 });
  assertInstanceOf(values.buffer, SharedArrayBuffer);
});

Deno.test("SharedValues lists only the first fields of a large block in an error", () => {
  const fields = Array.from({ length: 20 }, (_, i) => `f${i}`);
  const values = new SharedValues({ fields });
  const error = assertThrows(() => values.get("nope"), TypeError);
  assertStringIncludes(error.message, `("f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", ...)`);
});
