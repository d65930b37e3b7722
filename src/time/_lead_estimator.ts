import type { PrecisionTuning } from "./precision.ts";

/** How many of the latest wake-up latencies the lead is derived from. */
export const LEAD_WINDOW = 64;
/** Added to the chosen latency quantile, to cover the hop after the wake-up. */
export const LEAD_MARGIN_MS = 0.03;
/** How much the driver spins beyond the lead, so a lead-early wake-up spins the rest. */
export const SPIN_BEYOND_LEAD_MS = 0.05;
/** Each decay step feeds the window this fraction of the current latency estimate. */
const DECAY_FACTOR = 0.9;

/**
 * The adaptive lead of a `Driver`'s Near wake-ups: how long before a
 * deadline the waker is asked to wake the main thread, and hence how long
 * the driver may spin. Pure: fed measured latencies, it never reads a clock.
 *
 * The lead is the `leadQuantile` of the last {@linkcode LEAD_WINDOW} wake-up
 * latencies plus {@linkcode LEAD_MARGIN_MS}, clamped to
 * `[nearLeadMinMs, nearLeadMaxMs]`. A latency beyond `nearLeadMaxMs` (a GC
 * pause, a busy main thread) counts clamped, so one outlier cannot pin the
 * lead. A wake-up requested while the waker was still starting is late by
 * the start-up and is not a sample. Spinning only because the lead is long
 * yields no sample, so {@linkcode LeadEstimator.decay} feeds shrinking
 * samples until Near waits resume.
 *
 * Everything is pre-allocated: learning a sample sorts a copy of the window
 * in a scratch array.
 *
 * @example Learning a lead from measured wake-ups
 * ```ts
 * import { LeadEstimator } from "./_lead_estimator.ts";
 * import { precisionTuning } from "./precision.ts";
 * import { assertAlmostEquals, assertEquals } from "@std/assert";
 *
 * const lead = new LeadEstimator(precisionTuning("balanced"));
 * assertEquals(lead.leadMs, 0.15); // the profile's initial lead
 * const target = lead.aim(10, true); // wake the main thread at 9.85
 * assertEquals(target, 9.85);
 * lead.woke(target + 0.2); // it arrived 0.2 ms late
 * assertAlmostEquals(lead.leadMs, 0.23, 1e-9); // 0.2 plus the 0.03 margin
 * ```
 */
export class LeadEstimator {
  readonly #tuning: PrecisionTuning;
  readonly #latencies = new Float64Array(LEAD_WINDOW);
  readonly #scratch = new Float64Array(LEAD_WINDOW);
  #samples = 0;
  #leadMs: number;
  #spinMs: number;
  #target = NaN;
  #aimedSpinMs: number;
  #measuring = false;

  /**
   * Starts from the profile's `nearLeadMs`.
   *
   * @param tuning The thresholds of the driver's profile.
   */
  constructor(tuning: PrecisionTuning) {
    this.#tuning = tuning;
    this.#leadMs = tuning.nearLeadMs;
    this.#spinMs = this.#spinFor(this.#leadMs);
    this.#aimedSpinMs = this.#spinMs;
  }

  /** The current lead of Near wake-ups in milliseconds. */
  get leadMs(): number {
    return this.#leadMs;
  }

  /**
   * The spin threshold that goes with the lead: the profile's `spinMs`, or
   * the lead plus {@linkcode SPIN_BEYOND_LEAD_MS} when that is longer.
   */
  get spinMs(): number {
    return this.#spinMs;
  }

  /**
   * The spin threshold that went with the lead of the last
   * {@linkcode LeadEstimator.aim}. A wake-up aimed that far ahead of its
   * deadline spins the rest even when what it taught shrank the lead meanwhile:
   * asking the waker again would cost a second hop, whose latency the
   * remaining time no longer covers.
   */
  get aimedSpinMs(): number {
    return this.#aimedSpinMs;
  }

  /** Latency samples learnt so far (decay steps included). */
  get samples(): number {
    return this.#samples;
  }

  /** Whether the last {@linkcode LeadEstimator.aim} awaits a measurable wake-up. */
  get measuring(): boolean {
    return this.#measuring;
  }

  /**
   * Aims a Near wake-up for `deadlineMs`: the waker's target is the deadline
   * minus the lead.
   *
   * @param deadlineMs The deadline the wake-up is for.
   * @param measurable Whether its wake-up says anything about the latency:
   * `false` while the waker is still starting.
   * @returns The time to ask the waker for.
   */
  aim(deadlineMs: number, measurable: boolean): number {
    this.#target = deadlineMs - this.#leadMs;
    this.#aimedSpinMs = this.#spinMs;
    this.#measuring = measurable;
    return this.#target;
  }

  /**
   * The wake-up asked for by the last {@linkcode LeadEstimator.aim} arrived
   * at `nowMs`: learns its latency when it was measurable and not early.
   * Later calls, until the next aim, learn nothing.
   *
   * @param nowMs When the wake-up arrived.
   */
  woke(nowMs: number): void {
    if (!this.#measuring) return;
    this.#measuring = false;
    this.learn(nowMs - this.#target);
  }

  /**
   * Adds one latency sample and re-derives the lead. A negative sample (an
   * early wake-up) is ignored; one above `nearLeadMaxMs` counts as
   * `nearLeadMaxMs`.
   *
   * @param lateMs How late the wake-up arrived, in milliseconds.
   */
  learn(lateMs: number): void {
    if (lateMs >= 0) this.#push(Math.min(lateMs, this.#tuning.nearLeadMaxMs));
  }

  /**
   * Shrinks the lead one step, as if a wake-up had been 10 % faster than the
   * lead now covers. The driver calls it when it spins only because the lead
   * is long, which yields no sample.
   */
  decay(): void {
    this.#push(Math.max(0, this.#leadMs - LEAD_MARGIN_MS) * DECAY_FACTOR);
  }

  #push(lateMs: number): void {
    this.#latencies[this.#samples % LEAD_WINDOW] = lateMs;
    this.#samples++;
    const n = Math.min(this.#samples, LEAD_WINDOW);
    const sorted = this.#scratch.subarray(0, n);
    sorted.set(this.#latencies.subarray(0, n));
    sorted.sort();
    const t = this.#tuning;
    const q = sorted[Math.min(n - 1, Math.floor(t.leadQuantile * n))]!;
    this.#leadMs = Math.min(t.nearLeadMaxMs, Math.max(t.nearLeadMinMs, q + LEAD_MARGIN_MS));
    this.#spinMs = this.#spinFor(this.#leadMs);
  }

  #spinFor(leadMs: number): number {
    const base = this.#tuning.spinMs;
    return leadMs === 0 ? base : Math.max(base, leadMs + SPIN_BEYOND_LEAD_MS);
  }
}
