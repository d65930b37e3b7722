/**
 * Typed re-export of `@std/assert`.
 *
 * The standard library is published on JSR only, which these machines cannot
 * reach; the npm package `deno-std` ships the same modules as plain JavaScript
 * without types. This module gives each function we use an explicit type, so
 * assertion functions narrow (`asserts expr`) and typos fail type checking.
 *
 * @module
 */
// deno-lint-ignore-file no-explicit-any
import * as std from "@std/assert/untyped";

const s: any = std;

/** Error thrown by a failed assertion. */
export const AssertionError: new (message: string) => Error = s.AssertionError;

/** Asserts that `expr` is truthy. */
export const assert: (expr: unknown, msg?: string) => asserts expr = s.assert;
/** Asserts that `actual` deeply equals `expected`. */
export const assertEquals: <T>(actual: T, expected: T, msg?: string) => void = s.assertEquals;
/** Asserts that `actual` does not deeply equal `expected`. */
export const assertNotEquals: <T>(actual: T, expected: T, msg?: string) => void = s.assertNotEquals;
/** Asserts that `actual` and `expected` are the same value (`Object.is`). */
export const assertStrictEquals: <T>(
  actual: unknown,
  expected: T,
  msg?: string,
) => asserts actual is T = s.assertStrictEquals;
/** Asserts that two numbers are within `tolerance` of each other. */
export const assertAlmostEquals: (
  actual: number,
  expected: number,
  tolerance?: number,
  msg?: string,
) => void = s.assertAlmostEquals;
/** Asserts that `actual > expected`. */
export const assertGreater: <T>(actual: T, expected: T, msg?: string) => void = s.assertGreater;
/** Asserts that `actual >= expected`. */
export const assertGreaterOrEqual: <T>(actual: T, expected: T, msg?: string) => void =
  s.assertGreaterOrEqual;
/** Asserts that `actual < expected`. */
export const assertLess: <T>(actual: T, expected: T, msg?: string) => void = s.assertLess;
/** Asserts that `actual <= expected`. */
export const assertLessOrEqual: <T>(actual: T, expected: T, msg?: string) => void =
  s.assertLessOrEqual;
/** Asserts that `actual` is neither `null` nor `undefined`. */
export const assertExists: <T>(actual: T, msg?: string) => asserts actual is NonNullable<T> =
  s.assertExists;
/** Asserts that `actual` is an instance of `expectedType`. */
export const assertInstanceOf: <T extends abstract new (...args: any[]) => any>(
  actual: unknown,
  expectedType: T,
  msg?: string,
) => asserts actual is InstanceType<T> = s.assertInstanceOf;
/** Asserts that `actual` contains `expected`. */
export const assertStringIncludes: (actual: string, expected: string, msg?: string) => void =
  s.assertStringIncludes;
/** Asserts that `actual` matches `expected`. */
export const assertMatch: (actual: string, expected: RegExp, msg?: string) => void = s.assertMatch;
/** Asserts that `fn` throws an error of `ErrorClass` whose message includes `msgIncludes`. */
export const assertThrows: <E extends Error = Error>(
  fn: () => unknown,
  ErrorClass?: abstract new (...args: any[]) => E,
  msgIncludes?: string,
  msg?: string,
) => E = s.assertThrows;
/** Asserts that the promise returned by `fn` rejects with `ErrorClass`. */
export const assertRejects: <E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  ErrorClass?: abstract new (...args: any[]) => E,
  msgIncludes?: string,
  msg?: string,
) => Promise<E> = s.assertRejects;
/** Fails the test with `msg`. */
export const fail: (msg?: string) => never = s.fail;
