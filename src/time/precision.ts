import { requireNonNegative, requireOneOf } from "../internal/validate.ts";

/**
 * How a `Driver` trades CPU for lateness:
 *
 * - `"efficient"`: `setTimeout` only. No spinning, no helper thread; about
 *   1 ms late like `setTimeout`, but never early and free of drift.
 * - `"balanced"` (default): `setTimeout` for far deadlines, a waker Worker
 *   blocked in `Atomics.wait` for near ones, and a short spin on the clock for
 *   the last ~0.2 ms. Tens of microseconds late at a few percent of a core.
 * - `"precise"`: the main thread is given to the loop near its deadlines:
 *   the waker hands over as early as its slowest recent hand-over needs (up
 *   to 2 ms), and the thread then blocks in `Atomics.wait` until 0.25 ms
 *   before the deadline and spins the rest, as a dedicated thread would.
 *   Other main-thread work waits out that window (up to 2 ms) per tick; for
 *   1 kHz loops.
 */
export type PrecisionProfile = "efficient" | "balanced" | "precise";

/** The precision profiles, from cheapest to most precise. */
export const PRECISION_PROFILES: readonly PrecisionProfile[] = ["efficient", "balanced", "precise"];

/**
 * The thresholds behind a {@linkcode PrecisionProfile}, in milliseconds.
 * Wake-up mode by distance `d` to the next deadline:
 * Far when `d > farAboveMs` (a `setTimeout` of `d - farGuardMs`), Imminent
 * when `d <= spinMs` (spin on the clock), Block when `d <= blockMs` (block
 * the main thread in `Atomics.wait` until `blockLeadMs` before the deadline,
 * asking it to end early by its learnt oversleep, then spin; the event loop
 * gets a turn first), Near otherwise (a waker
 * Worker wakes the main thread a lead time before the deadline, or
 * `blockMs` before it when the profile blocks).
 *
 * The lead adapts: the driver measures how late each waker wake-up arrives
 * (the last 64 of them) and sets the lead to their `leadQuantile` plus
 * 30 µs, clamped to `[nearLeadMinMs, nearLeadMaxMs]`. Wake-ups after a long
 * sleep are slower than in a hot 1 kHz loop, and the latency has a heavy
 * tail, so one fixed lead would either spin too long or arrive late.
 */
export interface PrecisionTuning {
  /** Deadlines further than this use a coarse `setTimeout`. */
  farAboveMs: number;
  /** How much earlier than the deadline a Far `setTimeout` is aimed. */
  farGuardMs: number;
  /** The initial lead of a Near wake-up, before any has been measured. */
  nearLeadMs: number;
  /** The smallest lead the adaptation may choose. */
  nearLeadMinMs: number;
  /** The largest lead the adaptation may choose. */
  nearLeadMaxMs: number;
  /** The quantile of measured wake latency the lead covers, in `[0, 1]`. */
  leadQuantile: number;
  /**
   * Deadlines at most this far away are reached by spinning on the clock
   * (the driver also spins within the current lead plus 50 µs).
   */
  spinMs: number;
  /**
   * The most a blocking profile blocks the main thread in `Atomics.wait`
   * before a deadline; 0 never blocks. The driver blocks within the block's
   * lead plus the slowest of the last 64 waker hand-overs of the deadline
   * (this much until it has measured them), and aims Near wake-ups that far
   * ahead, so the hop to the main thread lands inside the block instead of
   * making the tick late.
   */
  blockMs: number;
  /**
   * How long before the deadline a block ends and the spin takes over. A
   * futex wait oversleeps (0.1-0.25 ms here, more after long sleeps), so
   * the driver learns by how much and asks each block to end that much
   * earlier: the spin keeps about this margin for a wake-up that loses the
   * CPU.
   */
  blockLeadMs: number;
}

/**
 * Measured defaults (2-core Linux, Deno 2.9.6): `setTimeout` fires about
 * 1.15 ms late at p50 with 15 ms tails, so Far waits stop well short of the
 * deadline; the waker Worker's futex wake plus the hop to the main thread
 * lands 100-180 µs after its target, so Near waits aim that much early and
 * the spin covers the rest. That hop's tail (p99 0.3-3 ms) is what `precise`
 * blocks through: a main thread blocked in `Atomics.wait` wakes like a
 * dedicated thread (futex wake 50-100 µs late, timer slack 50 µs, 0.2 ms
 * after a 10 ms block), and is sometimes preempted right after: its block
 * learns its oversleep, and the 0.25 ms spin covers the rest.
 */
const TUNINGS: Record<PrecisionProfile, Readonly<PrecisionTuning>> = {
  efficient: {
    farAboveMs: 0,
    farGuardMs: 0,
    nearLeadMs: 0,
    nearLeadMinMs: 0,
    nearLeadMaxMs: 0,
    leadQuantile: 0,
    spinMs: 0,
    blockMs: 0,
    blockLeadMs: 0,
  },
  balanced: {
    farAboveMs: 25,
    farGuardMs: 15,
    nearLeadMs: 0.15,
    nearLeadMinMs: 0.05,
    nearLeadMaxMs: 0.6,
    leadQuantile: 0.9,
    spinMs: 0.1,
    blockMs: 0,
    blockLeadMs: 0,
  },
  precise: {
    farAboveMs: 60,
    farGuardMs: 30,
    nearLeadMs: 0.2,
    nearLeadMinMs: 0.08,
    nearLeadMaxMs: 0.8,
    leadQuantile: 0.98,
    spinMs: 0.15,
    blockMs: 2,
    blockLeadMs: 0.25,
  },
};

/**
 * Returns the thresholds of a profile, with optional overrides.
 *
 * @param profile The profile name.
 * @param overrides Thresholds to replace.
 * @returns A new tuning object.
 * @throws {TypeError} when `profile` is not a known profile.
 * @throws {RangeError} when an override is negative or not finite.
 *
 * @example A profile with a longer spin
 * ```ts
 * import { precisionTuning } from "./precision.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const tuning = precisionTuning("precise", { spinMs: 0.3 });
 * assertEquals([tuning.spinMs, tuning.farAboveMs], [0.3, 60]);
 * ```
 */
export function precisionTuning(
  profile: PrecisionProfile,
  overrides: Partial<PrecisionTuning> = {},
): PrecisionTuning {
  const action = "tune the driver";
  requireOneOf(action, "profile", profile, PRECISION_PROFILES);
  const tuning = { ...TUNINGS[profile] };
  const keys = [
    "farAboveMs",
    "farGuardMs",
    "nearLeadMs",
    "nearLeadMinMs",
    "nearLeadMaxMs",
    "leadQuantile",
    "spinMs",
    "blockMs",
    "blockLeadMs",
  ] as const;
  for (const key of keys) {
    const value = overrides[key];
    if (value !== undefined) tuning[key] = requireNonNegative(action, key, value);
  }
  if (tuning.leadQuantile > 1) {
    throw new RangeError(
      `Cannot tune the driver as 'leadQuantile' must be in [0, 1]: current value is ${tuning.leadQuantile}`,
    );
  }
  if (tuning.blockLeadMs > tuning.blockMs && tuning.blockMs > 0) {
    throw new RangeError(
      `Cannot tune the driver as 'blockLeadMs' must be <= 'blockMs': current values are ${tuning.blockLeadMs} and ${tuning.blockMs}`,
    );
  }
  if (tuning.nearLeadMinMs > tuning.nearLeadMaxMs) {
    throw new RangeError(
      `Cannot tune the driver as 'nearLeadMinMs' must be <= 'nearLeadMaxMs': current values are ${tuning.nearLeadMinMs} and ${tuning.nearLeadMaxMs}`,
    );
  }
  return tuning;
}

/** The wake-up modes a `Driver` chooses between. */
export type WakeMode = "idle" | "due" | "far" | "near" | "block" | "imminent";

/**
 * Chooses how to wait for a deadline `remainingMs` away: pure, so the
 * decision is tested without real time.
 *
 * - `"idle"`: nothing pending (`remainingMs` is `Infinity`).
 * - `"due"`: the deadline has passed; fire now.
 * - `"imminent"`: spin on the clock.
 * - `"block"`: block the thread in `Atomics.wait`, then spin (profiles with
 *   `blockMs > 0`).
 * - `"near"`: ask the waker Worker (or, without one, a 0 ms `setTimeout`).
 * - `"far"`: a `setTimeout`; see {@linkcode farDelayMs}.
 *
 * @example The mode by distance to the deadline
 * ```ts
 * import { planWake, precisionTuning } from "./precision.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const balanced = precisionTuning("balanced");
 * assertEquals(planWake(100, balanced), "far");
 * assertEquals(planWake(5, balanced), "near");
 * assertEquals(planWake(0.1, balanced), "imminent");
 * assertEquals(planWake(-0.01, balanced), "due");
 * assertEquals(planWake(5, precisionTuning("efficient")), "far");
 * assertEquals(planWake(1.5, precisionTuning("precise")), "block");
 * assertEquals(planWake(1.5, precisionTuning("precise"), undefined, 0.5), "near");
 * ```
 *
 * @param remainingMs Deadline minus now.
 * @param tuning The profile's thresholds.
 * @param spinMs The spin threshold in force; defaults to `tuning.spinMs`
 * (the driver passes its adapted value).
 * @param blockWithinMs How close to the deadline a blocking profile blocks;
 * defaults to `tuning.blockMs` (the driver passes its learnt window, at most
 * that); 0 never blocks.
 * @returns The mode.
 */
export function planWake(
  remainingMs: number,
  tuning: PrecisionTuning,
  spinMs: number = tuning.spinMs,
  blockWithinMs: number = tuning.blockMs,
): WakeMode {
  if (remainingMs === Infinity) return "idle";
  if (remainingMs <= 0) return "due";
  if (remainingMs <= spinMs) return "imminent";
  // Within the block's lead a block would end at once: spin instead.
  if (remainingMs <= blockWithinMs) return remainingMs <= tuning.blockLeadMs ? "imminent" : "block";
  if (remainingMs > tuning.farAboveMs) return "far";
  return "near";
}

/**
 * The `setTimeout` delay for a Far wait. `setTimeout` truncates fractions and
 * may fire up to ~0.7 ms early, so the driver always re-checks the clock on
 * wake-up; this only decides when to look again.
 *
 * @param remainingMs Deadline minus now.
 * @param tuning The profile's thresholds.
 * @returns Whole milliseconds, at least 1.
 *
 * @example Stopping short of the deadline
 * ```ts
 * import { farDelayMs, precisionTuning } from "./precision.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(farDelayMs(100.7, precisionTuning("balanced")), 85); // 15 ms guard
 * assertEquals(farDelayMs(2.2, precisionTuning("efficient")), 3); // rounds up
 * ```
 */
export function farDelayMs(remainingMs: number, tuning: PrecisionTuning): number {
  const aim = remainingMs - tuning.farGuardMs;
  // The efficient profile rounds up, so it wakes at or after the deadline
  // instead of wasting a wake-up just before it.
  const ms = tuning.farGuardMs === 0 ? Math.ceil(aim) : Math.floor(aim);
  return Math.max(1, Math.min(ms, 2 ** 31 - 1));
}
