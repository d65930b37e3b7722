/** A small seeded PRNG (mulberry32) for reproducible randomised tests. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The seeds a randomised test runs with: `CHRONETIX_SEED` when set (to replay
 * a failure), else the fixed `defaults`, so CI is deterministic.
 */
export function testSeeds(defaults: number[]): number[] {
  const fromEnv = Deno.env.get("CHRONETIX_SEED");
  return fromEnv !== undefined ? [Number(fromEnv)] : defaults;
}
