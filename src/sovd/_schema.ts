// JSON Schema builders for the built-in providers' data items: numbers with
// SOVD units (`x-sovd-unit`), nullable where a figure is NaN before its
// first sample (JSON writes NaN as null).

import type { JsonSchema, SovdUnit } from "./model.ts";

/** Microseconds. */
export const MICROSECONDS: SovdUnit = { display_name: "µs", factor_si_to_unit: 1e6 };
/** Milliseconds. */
export const MILLISECONDS: SovdUnit = { display_name: "ms", factor_si_to_unit: 1e3 };
/** Hertz. */
export const HERTZ: SovdUnit = { display_name: "Hz", factor_si_to_unit: 1 };
/** Bytes. */
export const BYTES: SovdUnit = { display_name: "B", factor_si_to_unit: 1 };

/** A count: an integer >= 0. */
export function count(description: string): JsonSchema {
  return { type: "integer", minimum: 0, description };
}

/** A number, `null` before its first sample, with an optional unit. */
export function measure(description: string, unit?: SovdUnit): JsonSchema {
  return unit === undefined
    ? { type: ["number", "null"], description }
    : { type: ["number", "null"], description, "x-sovd-unit": unit };
}

/** One of a few strings. */
export function oneOf(description: string, values: readonly string[]): JsonSchema {
  return { type: "string", enum: [...values], description };
}

/** A string. */
export function text(description: string): JsonSchema {
  return { type: "string", description };
}

/** A boolean. */
export function flag(description: string): JsonSchema {
  return { type: "boolean", description };
}

/** An object whose every property is required and no other is allowed. */
export function object(properties: Record<string, JsonSchema>): JsonSchema {
  return {
    type: "object",
    properties,
    required: Object.keys(properties),
    additionalProperties: false,
  };
}

/** Milliseconds to microseconds; NaN stays NaN (written as null). */
export function us(ms: number): number {
  return ms * 1000;
}
