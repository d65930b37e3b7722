// SOVD ids: what an entity id, a data id or a fault code may hold on the
// wire, the check for it and the mapping of arbitrary names onto it.

import { show } from "../internal/validate.ts";

/**
 * What an SOVD id (an entity id, a data item id, a fault code, an operation
 * id) must match: 1 to 256 characters of `A-Z a-z 0-9 _ -`. They appear in
 * URL paths unescaped, so no `/`, `.`, `:` or `%` (no path traversal).
 */
export const SOVD_ID_PATTERN: RegExp = /^[A-Za-z0-9_-]{1,256}$/;

/** The longest SOVD id, in characters. */
export const SOVD_ID_MAX_LENGTH = 256;

/**
 * Whether `value` is a valid SOVD id (see {@linkcode SOVD_ID_PATTERN}).
 *
 * @example Checking ids from a request path
 * ```ts
 * import { isSovdId } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(isSovdId("sensor_loop"), true);
 * assertEquals(isSovdId("../etc"), false);
 * assertEquals(isSovdId(""), false);
 * ```
 *
 * @param value Anything.
 * @returns `true` for a string that matches the pattern.
 */
export function isSovdId(value: unknown): value is string {
  return typeof value === "string" && SOVD_ID_PATTERN.test(value);
}

/**
 * Throws unless `value` is a valid SOVD id: a `TypeError` in Deno style
 * naming the parameter (`Cannot <action> as '<name>' must be ...`).
 *
 * @example Rejecting a bad id with a clear message
 * ```ts
 * import { requireSovdId } from "@chronetix/core/sovd";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * assertEquals(requireSovdId("read an entity", "id", "kernel"), "kernel");
 * assertThrows(
 *   () => requireSovdId("read an entity", "id", "a/b"),
 *   TypeError,
 *   "Cannot read an entity as 'id' must match ^[A-Za-z0-9_-]{1,256}$",
 * );
 * ```
 *
 * @param action What the caller tried to do, e.g. `"read an entity"`.
 * @param name The parameter's name.
 * @param value The value to check.
 * @returns The id.
 * @throws {TypeError} when `value` is not a string matching {@linkcode SOVD_ID_PATTERN}.
 */
export function requireSovdId(action: string, name: string, value: unknown): string {
  if (isSovdId(value)) return value;
  throw new TypeError(
    `Cannot ${action} as '${name}' must match ^[A-Za-z0-9_-]{1,256}$: current value is ${
      show(value)
    }`,
  );
}

/**
 * Maps any name (a task, plugin, port or topic name) onto a valid SOVD id:
 * every character outside `A-Z a-z 0-9 _ -` becomes `_` (one `_` per UTF-16
 * code unit), the result is cut to 256 characters, and an empty name becomes
 * `_`. A name that is already a valid id is returned unchanged. Two names
 * may map to one id; the {@linkcode ProviderRegistry} reports such clashes.
 * Keep the original in the entity's `name` and `seamId`.
 *
 * @example Mapping a task name
 * ```ts
 * import { toSovdId } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(toSovdId("sensor"), "sensor");
 * assertEquals(toSovdId("task:motor/left"), "task_motor_left");
 * assertEquals(toSovdId(""), "_");
 * ```
 *
 * @param name Any string.
 * @returns A valid SOVD id.
 * @throws {TypeError} when `name` is not a string.
 */
export function toSovdId(name: string): string {
  if (typeof name !== "string") {
    throw new TypeError(
      `Cannot map a name to an SOVD id as 'name' must be a string: current value is ${show(name)}`,
    );
  }
  if (SOVD_ID_PATTERN.test(name)) return name;
  const mapped = name.slice(0, SOVD_ID_MAX_LENGTH).replace(/[^A-Za-z0-9_-]/g, "_");
  return mapped.length === 0 ? "_" : mapped;
}
