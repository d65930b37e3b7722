// Argument checks of the data plane that src/internal/validate.ts does not
// have yet (candidates to move there): a clock, a metrics registry, a
// boolean, an array, and a frame's bytes read through the intrinsic typed
// array accessors, so a subclass or a detached buffer cannot lie about them.

import type { Clock } from "../time/clock.ts";
import { MetricsRegistry } from "../metrics/registry.ts";
import { show } from "../internal/validate.ts";

/**
 * Throws a `TypeError` unless `value` is a {@linkcode Clock}: an object whose
 * `now()` returns a finite number (called once to check).
 */
export function requireClock(action: string, name: string, value: unknown): Clock {
  const clock = value as Partial<Clock> | null;
  let now: unknown;
  if (clock !== null && typeof clock === "object" && typeof clock.now === "function") {
    try {
      now = clock.now();
    } catch (error) {
      throw new TypeError(
        `Cannot ${action} as '${name}' must be a Clock whose now() returns a number: it threw ${
          show(error instanceof Error ? error.message : error)
        }`,
      );
    }
    if (typeof now === "number" && Number.isFinite(now)) return clock as Clock;
  }
  throw new TypeError(
    `Cannot ${action} as '${name}' must be a Clock whose now() returns a finite number: current value is ${
      show(value)
    }${now === undefined ? "" : `, now() returned ${show(now)}`}`,
  );
}

/** Throws a `TypeError` unless `value` is a {@linkcode MetricsRegistry}. */
export function requireMetrics(action: string, name: string, value: unknown): MetricsRegistry {
  if (!(value instanceof MetricsRegistry)) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be a MetricsRegistry: current value is ${show(value)}`,
    );
  }
  return value;
}

/**
 * Throws a `TypeError` unless `value` is a non-empty, well-formed string (a
 * component's name: it becomes a metrics label, which must be valid Unicode).
 */
export function requireName(action: string, name: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0 || !value.isWellFormed()) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be a non-empty string of well-formed Unicode: current value is ${
        show(value)
      }`,
    );
  }
  return value;
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

/** Throws a `TypeError` unless `value` is an array; returns a copy of its first `max` + 1 items at most. */
export function requireArray(
  action: string,
  name: string,
  value: unknown,
  max: number,
): unknown[] {
  if (!Array.isArray(value)) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be an array: current value is ${show(value)}`,
    );
  }
  if (value.length > max) {
    throw new RangeError(
      `Cannot ${action} as '${name}' must hold at most ${max} items: current length is ${value.length}`,
    );
  }
  return Array.from({ length: value.length }, (_, i) => value[i]);
}

const TYPED_ARRAY = Object.getPrototypeOf(Uint8Array.prototype) as object;
const TYPED_LENGTH = Object.getOwnPropertyDescriptor(TYPED_ARRAY, "length")!.get!;
const TYPED_BUFFER = Object.getOwnPropertyDescriptor(TYPED_ARRAY, "buffer")!.get!;
const DETACHED = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "detached")?.get;

/**
 * The length of a frame's bytes, read through the intrinsic accessor (a
 * subclass may override `length`; `set()` copies the real one). Throws a
 * `TypeError` unless `value` is a `Uint8Array` over a buffer that is not
 * detached.
 */
export function requireBytes(action: string, name: string, value: unknown): number {
  if (!ArrayBuffer.isView(value) || !(value instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be a Uint8Array: current value is ${show(value)}`,
    );
  }
  const buffer = TYPED_BUFFER.call(value) as ArrayBufferLike;
  if (buffer instanceof ArrayBuffer && DETACHED?.call(buffer) === true) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must not be detached: its buffer was transferred`,
    );
  }
  return TYPED_LENGTH.call(value) as number;
}
