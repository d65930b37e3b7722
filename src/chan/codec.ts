import { ChronetixError } from "../errors.ts";
import { show } from "../internal/validate.ts";

/** Every typed array kind {@linkcode AUTO_CODEC} carries. */
export type TypedArray =
  | Uint8Array
  | Int8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/** A value JSON represents: what `JSON.parse` returns. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** What {@linkcode AUTO_CODEC} carries: numbers, strings, booleans, `null`, `undefined`, typed arrays and small JSON. */
export type FrameValue = JsonValue | undefined | TypedArray;

/**
 * Turns values into the bytes of a frame and back, without structured
 * clone: the two ends of a ring channel (one per thread) each hold the same
 * codec.
 *
 * @typeParam T The values it carries.
 */
export interface FrameCodec<T> {
  /** The codec's name, for messages. */
  readonly name: string;
  /**
   * Writes `value` into `into` (a scratch buffer as large as a slot).
   *
   * @returns How many bytes it wrote: at least 1.
   * @throws {TypeError} when the codec cannot carry `value`.
   * @throws {RangeError} when the encoded value is larger than `into`.
   */
  encode(value: T, into: Uint8Array): number;
  /**
   * Reads a value from a frame. `frame` is a view of the slot, valid only
   * during the call: copy what must outlive it.
   *
   * @throws {FrameCodecError} when the frame is not one this codec wrote.
   */
  decode(frame: Uint8Array): T;
}

/**
 * A frame a codec cannot read (`code` `E_BAD_FRAME`): the frame is skipped
 * (counted as consumed), the channel stays usable.
 *
 * @example Telling a bad frame apart
 * ```ts
 * import { AUTO_CODEC, FrameCodecError } from "@chronetix/core";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const error = assertThrows(() => AUTO_CODEC.decode(Uint8Array.of(99)), FrameCodecError);
 * assertEquals(error.code, "E_BAD_FRAME");
 * ```
 */
export class FrameCodecError extends ChronetixError {
  /** The codec that refused the frame. */
  readonly codec: string;

  /**
   * Creates the error.
   *
   * @param codec The codec's name.
   * @param reason Why the frame is bad: the end of the message.
   * @param options Standard error options; `cause` is forwarded.
   */
  constructor(codec: string, reason: string, options?: ErrorOptions) {
    super("E_BAD_FRAME", `Cannot decode a frame with codec "${codec}" as ${reason}`, options);
    this.name = "FrameCodecError";
    this.codec = codec;
  }
}

const T_UNDEFINED = 0;
const T_NULL = 1;
const T_FALSE = 2;
const T_TRUE = 3;
const T_NUMBER = 4;
const T_STRING = 5;
const T_JSON = 6;
const T_TYPED = 16;

type TypedArrayConstructor =
  | Uint8ArrayConstructor
  | Int8ArrayConstructor
  | Uint8ClampedArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

const KINDS: readonly TypedArrayConstructor[] = [
  Uint8Array,
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
];

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const ENCODE = "encode a frame";

function tooLarge(codec: string, needed: string, room: number): RangeError {
  return new RangeError(
    `Cannot ${ENCODE} with codec "${codec}" as the value needs ${needed} bytes: the slot holds ${room}`,
  );
}

/** Writes `text` after a tag; throws when it does not fit. */
function writeText(codec: string, tag: number, text: string, into: Uint8Array): number {
  if (into.length < 1) throw tooLarge(codec, "at least 1", into.length);
  into[0] = tag;
  const { read, written } = encoder.encodeInto(text, into.subarray(1));
  if (read !== text.length) throw tooLarge(codec, `more than ${into.length - 1}`, into.length);
  return 1 + written;
}

function decodeText(codec: string, frame: Uint8Array): string {
  try {
    return decoder.decode(frame.subarray(1));
  } catch (error) {
    throw new FrameCodecError(codec, "its text is not valid UTF-8", { cause: error });
  }
}

/**
 * The default codec of ring channels: one tag byte, then the payload.
 * Numbers travel as 8-byte floats, strings as UTF-8, typed arrays (every
 * kind, `BigInt64Array` included) as their raw bytes, and plain objects and
 * arrays as JSON text, with `JSON.stringify`'s rules (`undefined` and
 * function members are left out, a `Date` becomes its string; a cycle or a
 * `bigint` is refused with a `TypeError`). A decoded typed array owns a
 * fresh buffer.
 *
 * @example A round trip through a scratch buffer
 * ```ts
 * import { AUTO_CODEC } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const scratch = new Uint8Array(64);
 * for (const value of [42.5, "hi", null, Float32Array.of(1, 2), { id: 7, tags: ["a"] }]) {
 *   const n = AUTO_CODEC.encode(value, scratch);
 *   assertEquals(AUTO_CODEC.decode(scratch.subarray(0, n)), value);
 * }
 * ```
 */
export const AUTO_CODEC: FrameCodec<FrameValue> = Object.freeze({
  name: "auto",
  encode(value: FrameValue, into: Uint8Array): number {
    const name = "auto";
    if (into.length < 1) throw tooLarge(name, "at least 1", into.length);
    switch (typeof value) {
      case "number": {
        if (into.length < 9) throw tooLarge(name, "9", into.length);
        into[0] = T_NUMBER;
        new DataView(into.buffer, into.byteOffset, 9).setFloat64(1, value, true);
        return 9;
      }
      case "string":
        return writeText(name, T_STRING, value, into);
      case "boolean":
        into[0] = value ? T_TRUE : T_FALSE;
        return 1;
      case "undefined":
        into[0] = T_UNDEFINED;
        return 1;
      case "object": {
        if (value === null) {
          into[0] = T_NULL;
          return 1;
        }
        if (ArrayBuffer.isView(value)) {
          const kind = KINDS.indexOf(value.constructor as TypedArrayConstructor);
          if (kind < 0) {
            throw new TypeError(
              `Cannot ${ENCODE} with codec "auto" as 'value' must be a typed array, not a ${value.constructor.name}: current value is ${
                show(value)
              }`,
            );
          }
          const bytes = value.byteLength;
          if (bytes + 1 > into.length) throw tooLarge(name, String(bytes + 1), into.length);
          into[0] = T_TYPED + kind;
          into.set(new Uint8Array(value.buffer, value.byteOffset, bytes), 1);
          return 1 + bytes;
        }
        let text: string | undefined;
        try {
          text = JSON.stringify(value);
        } catch (error) {
          throw new TypeError(
            `Cannot ${ENCODE} with codec "auto" as 'value' must be JSON-serialisable: ${
              error instanceof Error ? error.message : show(error)
            }`,
            { cause: error },
          );
        }
        if (typeof text !== "string") {
          throw new TypeError(
            `Cannot ${ENCODE} with codec "auto" as 'value' must be JSON-serialisable: its toJSON() gave undefined`,
          );
        }
        return writeText(name, T_JSON, text, into);
      }
      default:
        throw new TypeError(
          `Cannot ${ENCODE} with codec "auto" as 'value' must be a number, string, boolean, null, undefined, typed array or JSON object: current value is ${
            show(value)
          }`,
        );
    }
  },
  decode(frame: Uint8Array): FrameValue {
    const name = "auto";
    if (frame.length === 0) throw new FrameCodecError(name, "it is empty");
    const tag = frame[0]!;
    const length = frame.length;
    switch (tag) {
      case T_UNDEFINED:
      case T_NULL:
      case T_FALSE:
      case T_TRUE:
        if (length !== 1) {
          throw new FrameCodecError(
            name,
            `a tag ${tag} frame must be 1 byte long: it is ${length}`,
          );
        }
        return tag === T_UNDEFINED ? undefined : tag === T_NULL ? null : tag === T_TRUE;
      case T_NUMBER:
        if (length !== 9) {
          throw new FrameCodecError(name, `a number frame must be 9 bytes long: it is ${length}`);
        }
        return new DataView(frame.buffer, frame.byteOffset, 9).getFloat64(1, true);
      case T_STRING:
        return decodeText(name, frame);
      case T_JSON: {
        const text = decodeText(name, frame);
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch (error) {
          throw new FrameCodecError(name, "its JSON does not parse", { cause: error });
        }
        return value as JsonValue;
      }
      default: {
        const Kind = KINDS[tag - T_TYPED];
        if (tag < T_TYPED || Kind === undefined) {
          throw new FrameCodecError(name, `its tag ${tag} is unknown`);
        }
        const bytes = length - 1;
        if (bytes % Kind.BYTES_PER_ELEMENT !== 0) {
          throw new FrameCodecError(
            name,
            `a ${Kind.name} frame must carry a multiple of ${Kind.BYTES_PER_ELEMENT} bytes: it carries ${bytes}`,
          );
        }
        const copy = frame.slice(1);
        return new Kind(copy.buffer, 0, bytes / Kind.BYTES_PER_ELEMENT);
      }
    }
  },
});

/**
 * Carries `Uint8Array`s as they are, without a tag: the frame is the bytes.
 * A decoded array owns a fresh buffer. Empty arrays cannot travel (a frame
 * has at least one byte).
 *
 * @example Raw bytes
 * ```ts
 * import { BYTES_CODEC } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const scratch = new Uint8Array(8);
 * const n = BYTES_CODEC.encode(Uint8Array.of(1, 2, 3), scratch);
 * assertEquals(BYTES_CODEC.decode(scratch.subarray(0, n)), Uint8Array.of(1, 2, 3));
 * ```
 */
export const BYTES_CODEC: FrameCodec<Uint8Array> = Object.freeze({
  name: "bytes",
  encode(value: Uint8Array, into: Uint8Array): number {
    if (!(value instanceof Uint8Array)) {
      throw new TypeError(
        `Cannot ${ENCODE} with codec "bytes" as 'value' must be a Uint8Array: current value is ${
          show(value)
        }`,
      );
    }
    if (value.length === 0) {
      throw new RangeError(
        `Cannot ${ENCODE} with codec "bytes" as 'value' must not be empty: current value is Uint8Array(0)`,
      );
    }
    if (value.length > into.length) throw tooLarge("bytes", String(value.length), into.length);
    into.set(value);
    return value.length;
  },
  decode(frame: Uint8Array): Uint8Array {
    if (frame.length === 0) throw new FrameCodecError("bytes", "it is empty");
    return frame.slice();
  },
});

/**
 * Checks a codec option.
 *
 * @param action For error messages.
 * @param value The option.
 * @returns The codec.
 * @throws {TypeError} when `value` has no `name`, `encode()` and `decode()`.
 */
export function requireCodec<T>(action: string, value: unknown): FrameCodec<T> {
  const c = value as Partial<FrameCodec<T>> | null;
  if (
    c === null || typeof c !== "object" || typeof c.encode !== "function" ||
    typeof c.decode !== "function" || typeof c.name !== "string"
  ) {
    throw new TypeError(
      `Cannot ${action} as 'codec' must be a FrameCodec with a name, encode() and decode(): current value is ${
        show(value)
      }`,
    );
  }
  return c as FrameCodec<T>;
}
