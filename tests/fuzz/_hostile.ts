// The shared harness of the fuzz suite: hostile values, the seed and case
// count every fuzz test uses, and the check that a call either works or fails
// with a clear error. `deno task fuzz --cases N --seed S` runs more cases;
// a failure prints the seed and the path that replays it.

import fc from "fast-check";
import { ChronetixError } from "../../src/errors.ts";

/** Cases per property: `CHRONETIX_FUZZ_CASES`, or a bounded number for CI. */
export const FUZZ_CASES: number = Number(Deno.env.get("CHRONETIX_FUZZ_CASES") ?? "200");

/** The seed: `CHRONETIX_SEED` replays a failure; otherwise fixed, so CI is deterministic. */
export const FUZZ_SEED: number = Number(Deno.env.get("CHRONETIX_SEED") ?? "20261202");

/** Runs a property with the suite's seed and case count; a failure names the seed to replay. */
export function check<T>(property: fc.IProperty<T> | fc.IAsyncProperty<T>, cases = FUZZ_CASES) {
  return fc.assert(property as fc.IAsyncProperty<T>, {
    seed: FUZZ_SEED,
    numRuns: cases,
    verbose: 1,
  });
}

/** Values a careless or hostile caller passes where anything else was expected. */
export function hostile(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(
      undefined,
      null,
      0,
      -0,
      -1,
      1,
      NaN,
      Infinity,
      -Infinity,
      1e-300,
      1e-15,
      -1e308,
      1e308,
      2 ** 31,
      2 ** 53,
      "",
      "5",
      "abc",
      "\uD800",
      true,
      false,
      {},
      [],
      [5],
      () => {},
      Symbol("x"),
      10n,
      new Uint8Array(0),
      new ArrayBuffer(8),
      Object.create(null),
      { valueOf: () => 3 },
    ),
    fc.integer(),
    fc.double(),
    fc.string(),
    fc.object(),
  );
}

/** A hostile value, or with some probability `undefined` (the option left out). */
export function maybe(arb: fc.Arbitrary<unknown> = hostile()): fc.Arbitrary<unknown> {
  return fc.option(arb, { nil: undefined, freq: 3 });
}

/**
 * The contract of every public call under hostile input: it returns, or it
 * throws a `TypeError`, `RangeError` or `ChronetixError` with a Deno-style
 * message (`Cannot ...`), never an engine error such as
 * "Cannot read properties of null". When `names` is given, the message must
 * name one of them in quotes, the way the API names a parameter.
 *
 * @returns The call's result, or `undefined` when it threw a clean error.
 */
export function cleanCall<R>(fn: () => R, names?: readonly string[]): R | undefined {
  try {
    return fn();
  } catch (error) {
    assertCleanError(error, names);
    return undefined;
  }
}

/** Like {@linkcode cleanCall}, for a call that returns a promise. */
export async function cleanCallAsync<R>(
  fn: () => Promise<R>,
  names?: readonly string[],
): Promise<R | undefined> {
  try {
    return await fn();
  } catch (error) {
    assertCleanError(error, names);
    return undefined;
  }
}

/** Throws unless `error` is a clean, Deno-style error that names one of `names`. */
export function assertCleanError(error: unknown, names?: readonly string[]): void {
  const clean = error instanceof TypeError || error instanceof RangeError ||
    error instanceof ChronetixError;
  if (!clean) {
    throw new Error(`Expected a TypeError, RangeError or ChronetixError, got: ${describe(error)}`);
  }
  const message = (error as Error).message;
  if (!message.startsWith("Cannot ")) {
    throw new Error(`Expected a Deno-style message ("Cannot ..."), got: ${describe(error)}`);
  }
  if (names !== undefined && !names.some((n) => message.includes(`'${n}'`))) {
    throw new Error(
      `Expected the message to name one of ${names.map((n) => `'${n}'`).join(", ")}, got: ${
        describe(error)
      }`,
    );
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export { fc };
