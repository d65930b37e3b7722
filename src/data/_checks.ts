// Argument checks only the data plane needs: an array, and a
// frame's bytes read through the intrinsic typed array accessors, so a
// subclass or a detached buffer cannot lie about them. Clocks, registries and
// names use the shared checks (time/clock.ts, metrics/registry.ts,
// internal/validate.ts).

import { show } from "../internal/validate.ts";

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
