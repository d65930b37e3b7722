// Seeded fuzz of SharedValues. First the constructor gets random and hostile
// options (fields, buffer, name, logger), some of them attaching to a live
// block: each call works or throws a clean error naming an option, a block
// it attaches to keeps its values and version, and what it builds reads as
// it should. Then random sequences of write / writeFrom / readInto / get /
// read calls with hostile arguments mixed in run against a reference model
// (a map of the latest values and a write count): a call throws exactly when
// the model says it should, with a clean error naming its parameter, a
// rejected call stores nothing, a read after any single store of a write
// sees the record before it or after it (never a mix), and after every call
// both the writer and an attached reader read the model's values and version.
import { assert, assertEquals } from "@std/assert";
import { assertCleanError, check, fc, hostile, maybe } from "./_hostile.ts";
import { SharedValues } from "../../src/island/shared_values.ts";
import type { Logger } from "../../src/logger.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

const SILENT: Logger = { error() {}, warn() {}, info() {} };
const CONSTRUCTOR_PARAMETER = /'(options|fields(\[\d+\])?|name|logger|buffer)'/;
const CALL_PARAMETER = /'(values([.[][^']*)?|source(\[\d+\])?|target|field)'/;

/** Runs `fn`; a throw must be a clean error whose message names a parameter matching `names`. */
function clean<R>(fn: () => R, names: RegExp): { ok: true; value: R } | { ok: false } {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    assertCleanError(error);
    const message = (error as Error).message;
    assert(names.test(message), `Expected the message to name a parameter, got: ${message}`);
    return { ok: false };
  }
}

/** Field names: plain, awkward (spaces, quotes, prototype members) and random. */
const fieldName: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("x", "y", "speed", "a b", "it's", "__proto__", "constructor", "0", "é"),
  fc.string({ minLength: 1, maxLength: 6 }).filter((s) => s.isWellFormed()),
);
const fieldList: fc.Arbitrary<string[]> = fc.uniqueArray(fieldName, {
  minLength: 1,
  maxLength: 6,
});

/** Reads every field of `values` as a plain array, in field order. */
function snapshot(values: SharedValues): number[] {
  const target = new Float64Array(values.fields.length);
  values.readInto(target);
  return [...target];
}

function sameNumbers(actual: readonly number[], expected: readonly number[], what: string): void {
  assertEquals(actual.length, expected.length, what);
  for (let i = 0; i < actual.length; i++) {
    assert(
      Object.is(actual[i], expected[i]),
      `${what}: field ${i} is ${actual[i]}, expected ${expected[i]}`,
    );
  }
}

Deno.test("fuzz: SharedValues constructor under hostile options never harms a live block", () => {
  const live = new SharedValues({ fields: ["x", "y", "a b"], logger: SILENT });
  live.write({ x: 1, y: -2, "a b": NaN });
  const liveValues = snapshot(live);
  const otherBlock = new SharedValues({ fields: ["x", "y"] }).buffer;
  const fieldsArb = fc.oneof(
    { weight: 4, arbitrary: fieldList },
    { weight: 2, arbitrary: fc.constant(["x", "y", "a b"]) },
    { weight: 1, arbitrary: fc.constant(["x", "a b", "y"]) },
    {
      weight: 2,
      arbitrary: fc.array(fc.oneof(fieldName, hostile()), { minLength: 0, maxLength: 5 }),
    },
    { weight: 1, arbitrary: hostile() },
  );
  const bufferArb = fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 3, arbitrary: fc.constant("live") },
    { weight: 1, arbitrary: fc.constant("other") },
    { weight: 1, arbitrary: fc.constant("garbage") },
    { weight: 1, arbitrary: hostile() },
  );
  const options = fc.oneof(
    { weight: 1, arbitrary: hostile() },
    {
      weight: 6,
      arbitrary: fc.record({
        fields: fieldsArb,
        buffer: bufferArb,
        name: maybe(fc.oneof(hostile(), fc.constantFrom("pose", "é"))),
        logger: maybe(fc.oneof(hostile(), fc.constant(SILENT))),
      }),
    },
  );
  check(
    fc.property(options, fc.integer(), (raw, salt) => {
      let opts = raw;
      if (raw !== null && typeof raw === "object" && "buffer" in raw) {
        const choice = (raw as { buffer: unknown }).buffer;
        let buffer = choice;
        if (choice === "live") buffer = live.buffer;
        else if (choice === "other") buffer = otherBlock;
        else if (choice === "garbage") {
          buffer = new SharedArrayBuffer(256);
          new Int32Array(buffer as SharedArrayBuffer).fill(salt);
        }
        opts = { ...(raw as object), buffer };
      }
      const made = clean(() => new SharedValues(opts as Loose), CONSTRUCTOR_PARAMETER);
      // Whatever happened, the live block is as it was.
      sameNumbers(snapshot(live), liveValues, "live block");
      assertEquals(live.version, 1);
      if (!made.ok) return;
      const values = made.value;
      const given = (opts as { fields: string[] }).fields;
      assertEquals(values.fields, given);
      assert(values.fields !== given, "the fields are copied");
      if (values.buffer === live.buffer) {
        sameNumbers(snapshot(values), liveValues, "attached reader");
        assertEquals(values.version, 1);
      } else {
        sameNumbers(snapshot(values), given.map(() => NaN), "new block");
        assertEquals(values.version, 0);
        // A new block works.
        values.writeFrom(given.map((_, i) => i + 0.25));
        sameNumbers(snapshot(values), given.map((_, i) => i + 0.25), "new block after a write");
      }
    }),
  );
});

/**
 * Runs `fn` with a read by `reader` (another instance on the block) after
 * every atomic store to the block: the records another thread could read
 * at any point of the call, each as [version, ...fields].
 */
function readsDuring<R>(reader: SharedValues, fn: () => R): { result: R; seen: number[][] } {
  const store = Atomics.store;
  const exchange = Atomics.compareExchange;
  const seen: number[][] = [];
  const look = () => {
    const target = new Float64Array(reader.fields.length);
    const version = reader.readInto(target);
    seen.push([version, ...target]);
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
    return { result: fn(), seen };
  } finally {
    Atomics.store = store;
    Atomics.compareExchange = exchange;
  }
}

/** Checks the records read during a write: each is the record before it or after it. */
function checkSeen(seen: number[][], before: number[], after: number[], accepted: boolean): void {
  if (!accepted) {
    assertEquals(seen, [], "a rejected call stores nothing");
    return;
  }
  assert(seen.length > 0, "an accepted call stores");
  const same = (a: number[], b: number[]) => a.every((v, i) => Object.is(v, b[i]));
  for (const record of seen) {
    assert(same(record, before) || same(record, after), `torn record ${record}`);
  }
}

type Op =
  | { op: "write"; values: unknown }
  | { op: "writeFrom"; source: unknown }
  | { op: "readInto"; target: unknown }
  | { op: "get"; field: unknown }
  | { op: "read" };

/** The fields of the block under test in one case, and operations on it. */
function caseArb(): fc.Arbitrary<{ fields: string[]; ops: Op[] }> {
  return fieldList.chain((fields) => {
    const number = fc.oneof(
      { weight: 6, arbitrary: fc.double() },
      { weight: 1, arbitrary: fc.constantFrom(NaN, -0, Infinity, -Infinity) },
    );
    const valueOrHostile = fc.oneof(
      { weight: 8, arbitrary: number },
      { weight: 1, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: hostile() },
    );
    const key = fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...fields) },
      { weight: 1, arbitrary: fieldName },
    );
    const values = fc.oneof(
      {
        weight: 8,
        arbitrary: fc.array(fc.tuple(key, valueOrHostile), { maxLength: fields.length + 1 })
          .map((entries) => Object.fromEntries(entries)),
      },
      { weight: 1, arbitrary: hostile() },
    );
    const source = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.array(number, { minLength: fields.length, maxLength: fields.length }),
      },
      {
        weight: 2,
        arbitrary: fc.array(number, { minLength: fields.length, maxLength: fields.length })
          .map((a) => Float64Array.from(a)),
      },
      {
        weight: 2,
        arbitrary: fc.array(valueOrHostile, { minLength: 0, maxLength: fields.length + 1 }),
      },
      { weight: 1, arbitrary: hostile() },
    );
    const target = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.integer({ min: 0, max: fields.length + 2 }).map((n) => new Float64Array(n)),
      },
      { weight: 1, arbitrary: hostile() },
    );
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: values.map((v) => ({ op: "write" as const, values: v })) },
      { weight: 2, arbitrary: source.map((s) => ({ op: "writeFrom" as const, source: s })) },
      { weight: 2, arbitrary: target.map((t) => ({ op: "readInto" as const, target: t })) },
      {
        weight: 2,
        arbitrary: fc.oneof(key, hostile()).map((f) => ({ op: "get" as const, field: f })),
      },
      { weight: 1, arbitrary: fc.constant({ op: "read" as const }) },
    );
    return fc.record({ fields: fc.constant(fields), ops: fc.array(op, { maxLength: 30 }) });
  });
}

/** What the model says a write of `values` stores, or undefined when it must be rejected. */
function modelWrite(fields: readonly string[], values: unknown): Map<string, number> | undefined {
  if (values === null || typeof values !== "object") return undefined;
  const stored = new Map<string, number>();
  for (const key in values) {
    if (!Object.hasOwn(values, key)) continue;
    if (!fields.includes(key)) return undefined;
    const value = (values as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (typeof value !== "number") return undefined;
    stored.set(key, value);
  }
  return stored;
}

/** What the model says a writeFrom of `source` stores, or undefined when it must be rejected. */
function modelWriteFrom(fields: readonly string[], source: unknown): number[] | undefined {
  if (!(source instanceof Float64Array) && !Array.isArray(source)) return undefined;
  if (source.length !== fields.length) return undefined;
  const all = [...source] as unknown[];
  return all.every((v) => typeof v === "number") ? all as number[] : undefined;
}

Deno.test("fuzz: SharedValues calls under hostile arguments match a model of latest values", () => {
  check(
    fc.property(caseArb(), ({ fields, ops }) => {
      const writer = new SharedValues({ fields, logger: SILENT });
      const reader = new SharedValues({ fields, buffer: writer.buffer });
      const model = new Map(fields.map((f) => [f, NaN]));
      let version = 0;
      const expected = () => fields.map((f) => model.get(f)!);
      for (const step of ops) {
        const loose = writer as Loose;
        switch (step.op) {
          case "write": {
            const stores = modelWrite(fields, step.values);
            const before = [version, ...expected()];
            const { result, seen } = readsDuring(
              reader,
              () => clean(() => loose.write(step.values), CALL_PARAMETER),
            );
            assertEquals(result.ok, stores !== undefined, `write(${Deno.inspect(step.values)})`);
            if (stores !== undefined) {
              for (const [f, v] of stores) model.set(f, v);
              version++;
            }
            checkSeen(seen, before, [version, ...expected()], result.ok);
            break;
          }
          case "writeFrom": {
            const stores = modelWriteFrom(fields, step.source);
            const before = [version, ...expected()];
            const { result, seen } = readsDuring(
              reader,
              () => clean(() => loose.writeFrom(step.source), CALL_PARAMETER),
            );
            assertEquals(
              result.ok,
              stores !== undefined,
              `writeFrom(${Deno.inspect(step.source)})`,
            );
            if (stores !== undefined) {
              fields.forEach((f, i) => model.set(f, stores[i]!));
              version++;
            }
            checkSeen(seen, before, [version, ...expected()], result.ok);
            break;
          }
          case "readInto": {
            const t = step.target;
            const fits = t instanceof Float64Array && t.length >= fields.length;
            const result = clean(() => (reader as Loose).readInto(t), CALL_PARAMETER);
            assertEquals(result.ok, fits, `readInto(${Deno.inspect(t)})`);
            if (result.ok) {
              assertEquals(result.value, version);
              sameNumbers(
                [...(t as Float64Array).subarray(0, fields.length)],
                expected(),
                "target",
              );
            }
            break;
          }
          case "get": {
            const known = typeof step.field === "string" && fields.includes(step.field);
            const result = clean(() => (reader as Loose).get(step.field), CALL_PARAMETER);
            assertEquals(result.ok, known, `get(${Deno.inspect(step.field)})`);
            if (result.ok) assert(Object.is(result.value, model.get(step.field as string)));
            break;
          }
          case "read": {
            const read = reader.read();
            // By name: an integer-like field name ("0") comes first among an object's keys.
            assertEquals(Object.keys(read).sort(), [...fields].sort());
            sameNumbers(fields.map((f) => read[f]!), expected(), "read()");
            break;
          }
        }
        sameNumbers(snapshot(writer), expected(), "writer");
        sameNumbers(snapshot(reader), expected(), "reader");
        assertEquals(reader.version, version);
        assertEquals(writer.version, version);
      }
    }),
  );
});
