import type { Logger } from "../logger.ts";

// Argument checks shared by the public API. Each throws a Deno-style message:
// action first, the value quoted, a colon before the current value.

/**
 * Formats a value for an error message. Never throws, whatever the value
 * (throwing getters, cycles, BigInts inside objects), escapes lone
 * surrogates and control characters, and cuts long values short.
 */
export function show(value: unknown): string {
  try {
    return clip(describeValue(value));
  } catch {
    // A revoked Proxy throws on every inspection, `instanceof` included.
    return "an object that cannot be inspected";
  }
}

function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return "a function";
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "symbol") return value.toString();
  if (value === null || typeof value !== "object") return String(value);
  if (ArrayBuffer.isView(value)) {
    return `${value.constructor.name}(${
      (value as { length?: number }).length ?? value.byteLength
    })`;
  }
  if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) {
    return `${value.constructor.name}(${value.byteLength})`;
  }
  try {
    return JSON.stringify(value) ?? Object.prototype.toString.call(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function clip(text: string): string {
  return text.length <= 80 ? text : `${text.slice(0, 77)}...`;
}

/** Throws a `TypeError` unless `value` is a finite number. */
export function requireFinite(action: string, name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    const Err = typeof value === "number" ? RangeError : TypeError;
    throw new Err(
      `Cannot ${action} as '${name}' must be a finite number: current value is ${show(value)}`,
    );
  }
  return value;
}

/** Throws unless `value` is a finite number `>= 0`. */
export function requireNonNegative(action: string, name: string, value: unknown): number {
  const v = requireFinite(action, name, value);
  if (v < 0) {
    throw new RangeError(`Cannot ${action} as '${name}' must be >= 0: current value is ${v}`);
  }
  return v;
}

/** Throws unless `value` is a finite number `> 0`. */
export function requirePositive(action: string, name: string, value: unknown): number {
  const v = requireFinite(action, name, value);
  if (v <= 0) {
    throw new RangeError(`Cannot ${action} as '${name}' must be > 0: current value is ${v}`);
  }
  return v;
}

/** Throws unless `value` is an integer within `[min, max]`. */
export function requireInteger(
  action: string,
  name: string,
  value: unknown,
  min: number,
  max: number,
): number {
  const v = requireFinite(action, name, value);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(
      `Cannot ${action} as '${name}' must be an integer in [${min}, ${max}]: current value is ${v}`,
    );
  }
  return v;
}

/** Throws a `TypeError` unless `value` is a non-empty string. */
export function requireNonEmptyString(action: string, name: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be a non-empty string: current value is ${show(value)}`,
    );
  }
  return value;
}

/** Throws a `TypeError` unless `value` is a function. */
export function requireFunction<T extends (...args: never[]) => unknown>(
  action: string,
  name: string,
  value: unknown,
): T {
  if (typeof value !== "function") {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be a function: current value is ${show(value)}`,
    );
  }
  return value as T;
}

/** Throws a `TypeError` unless `value` is one of `allowed`. */
export function requireOneOf<T extends string>(
  action: string,
  name: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be one of ${
        allowed.map((a) => `"${a}"`).join(", ")
      }: current value is ${show(value)}`,
    );
  }
  return value as T;
}

/**
 * Throws a `TypeError` unless `value` is `undefined` or a non-null object
 * (an options object): `null`, a number or a string in its place would
 * otherwise surface as an engine error naming a field the caller never passed.
 */
export function requireOptions(action: string, name: string, value: unknown): void {
  if (value !== undefined && (value === null || typeof value !== "object")) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be an object: current value is ${show(value)}`,
    );
  }
}

/** Throws a `TypeError` unless `value` is a {@linkcode Logger} (an object with `error`, `warn`, `info`). */
export function requireLogger(action: string, name: string, value: unknown): Logger {
  const v = value as Partial<Logger> | null;
  if (
    v === null || typeof v !== "object" || typeof v.error !== "function" ||
    typeof v.warn !== "function" || typeof v.info !== "function"
  ) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be a Logger with error, warn and info methods: current value is ${
        show(value)
      }`,
    );
  }
  return value as Logger;
}

/**
 * Throws a `TypeError` unless `value` is a non-empty string of well-formed
 * Unicode: a component, task or topic name, which becomes a metrics label
 * value and so cannot hold a lone surrogate.
 */
export function requireName(action: string, name: string, value: unknown): string {
  const text = requireNonEmptyString(action, name, value);
  if (!text.isWellFormed()) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be well-formed Unicode (no lone surrogate): current value is ${
        show(text)
      }`,
    );
  }
  return text;
}

/**
 * Throws a `TypeError` unless `value` is `undefined` or an instance of
 * `type`: an object of the right shape from elsewhere would fail later,
 * far from the mistake.
 */
export function requireInstance<T>(
  action: string,
  name: string,
  value: unknown,
  // deno-lint-ignore no-explicit-any
  type: abstract new (...args: any[]) => T,
): T | undefined {
  if (value === undefined || value instanceof type) return value;
  throw new TypeError(
    `Cannot ${action} as '${name}' must be a ${type.name}: current value is ${show(value)}`,
  );
}

/** Throws a `TypeError` unless `value` is a boolean. */
export function requireBoolean(action: string, name: string, value: unknown): boolean {
  if (typeof value !== "boolean") {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be a boolean: current value is ${show(value)}`,
    );
  }
  return value;
}
