// A job module with several named exports, for the offload pool's named-export tests.

/** The default export: the input's length. */
export default function size(input: number[]): number {
  return input.length;
}

/** Halves each value (a "resize"). */
export function resize(input: number[]): number[] {
  return input.map((v) => v / 2);
}

/** Async: the sum of the values. */
export async function sum(input: number[]): Promise<number> {
  await Promise.resolve();
  return input.reduce((a, b) => a + b, 0);
}

/** Not a function: asking for it is a clear error. */
export const version = "1.0";
