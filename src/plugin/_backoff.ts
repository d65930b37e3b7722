// The supervisor's arithmetic: a seeded random source and the jittered
// exponential backoff. Pure functions, so the decisions replay exactly.

/**
 * A small seeded PRNG (mulberry32): the same seed gives the same sequence
 * in [0, 1), so restart delays with jitter are reproducible.
 */
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

/** The backoff fields of a recovery policy. */
export interface BackoffPolicy {
  /** The first delay, ms. */
  backoffInitialMs: number;
  /** The largest delay, ms. */
  backoffMaxMs: number;
  /** Each further delay is the previous times this. */
  backoffMultiplier: number;
  /** The random spread of a delay, as a ratio of it. */
  backoffJitterRatio: number;
}

/**
 * The delay before restart number `attempt` (0 for the first after a clean
 * run): `initial * multiplier^attempt`, capped at `max`, then spread by
 * `± jitterRatio` of itself with `random()`, and kept within `[0, max]`.
 * A `random()` that returns something outside [0, 1) is clamped into it.
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number): number {
  const grown = policy.backoffInitialMs === 0
    ? 0
    : policy.backoffInitialMs * policy.backoffMultiplier ** Math.max(0, attempt);
  const base = Math.min(policy.backoffMaxMs, grown);
  let r = Number(random());
  if (!(r >= 0)) r = 0;
  if (r >= 1) r = 1 - Number.EPSILON;
  const delay = base * (1 + policy.backoffJitterRatio * (2 * r - 1));
  return Math.min(policy.backoffMaxMs, Math.max(0, delay));
}
