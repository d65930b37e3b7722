// Reading numeric settings from the environment, with a clear message and
// exit code 2 on a bad value: shared by the examples.

/** Reads `name` as a number > 0 (an integer if `integer`), or `fallback` when unset. */
export function envNumber(name: string, fallback: number, integer = false): number {
  const raw = Deno.env.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    console.error(
      `Cannot run as '${name}' must be ${
        integer ? "an integer" : "a number"
      } > 0: current value is "${raw}"`,
    );
    Deno.exit(2);
  }
  return value;
}
