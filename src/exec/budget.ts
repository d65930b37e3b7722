import { requireInteger, requireNonNegative, requireOptions } from "../internal/validate.ts";

/**
 * A tier of graduated intervention, mildest first: `monitor` (timed only),
 * `warn` (a bus event and a log line), `yield` (`ctx.checkpoint()` yields
 * through a timer once the run's budget is spent), `isolate` (future runs go
 * to the offload pool, or the task is quarantined).
 */
export type BudgetTier = "monitor" | "warn" | "yield" | "isolate";

/** Every {@linkcode BudgetTier}, mildest first: a tier's index is its level. */
export const BUDGET_TIERS: readonly BudgetTier[] = ["monitor", "warn", "yield", "isolate"];

/**
 * The level of each tier (its index in {@linkcode BUDGET_TIERS}): compare
 * tiers by these, never by bare numbers.
 */
export const TIER_LEVEL: Readonly<Record<BudgetTier, number>> = Object.freeze({
  monitor: 0,
  warn: 1,
  yield: 2,
  isolate: 3,
});

/** The bus topic budget tier changes are published on, as {@linkcode BudgetEvent}s. */
export const BUDGET_TOPIC = "chronetix.exec.budget";

/** A budget tier change, published on the bus topic {@linkcode BUDGET_TOPIC}. */
export interface BudgetEvent {
  /** The task. */
  task: string;
  /** The tier it left. */
  from: BudgetTier;
  /** The tier it entered. */
  to: BudgetTier;
  /** The run that caused the change, ms. */
  execMs: number;
  /** The task's budget, ms. */
  budgetMs: number;
  /**
   * What the executor did: `warn`, `yield` (entered those tiers), `offload`
   * (isolated into the offload pool), `quarantine` (isolated, not
   * offloadable: stopped) or `recover` (stepped down a tier).
   */
  action: "warn" | "yield" | "offload" | "quarantine" | "recover";
}

/** When a task over budget climbs a tier, and when it steps down. */
export interface BudgetPolicy {
  /**
   * Overruns, counted since the task's last tier change, that move it one
   * tier up.
   *
   * @default {3}
   */
  escalateAfter?: number;
  /**
   * Consecutive runs within budget that move a task one tier down.
   *
   * @default {20}
   */
  recoverAfter?: number;
  /**
   * The least time a task stays in a tier before it moves again, in
   * milliseconds: overruns and good runs still count meanwhile.
   *
   * @default {1000}
   */
  cooldownMs?: number;
}

/** A {@linkcode BudgetPolicy} with every field set. */
export type ResolvedBudgetPolicy = Required<BudgetPolicy>;

/**
 * Checks a policy and fills in the defaults.
 *
 * @param policy The fields to override.
 * @param action What the caller was doing, for error messages.
 * @param name The policy as the caller wrote it: fields are named `<name>.<field>`.
 * @returns The complete policy.
 * @throws {TypeError} when the policy is not an object or a field is not a number.
 * @throws {RangeError} when a field is out of range.
 */
export function resolveBudgetPolicy(
  policy: BudgetPolicy | undefined = {},
  action = "set the budget policy",
  name = "policy",
): ResolvedBudgetPolicy {
  requireOptions(action, name, policy);
  const p = policy ?? {};
  return {
    escalateAfter: p.escalateAfter === undefined
      ? 3
      : requireInteger(action, `${name}.escalateAfter`, p.escalateAfter, 1, 1e9),
    recoverAfter: p.recoverAfter === undefined
      ? 20
      : requireInteger(action, `${name}.recoverAfter`, p.recoverAfter, 1, 1e9),
    cooldownMs: p.cooldownMs === undefined
      ? 1000
      : requireNonNegative(action, `${name}.cooldownMs`, p.cooldownMs),
  };
}

/**
 * One task's position on the tiers: fed each run's execution time, it says
 * when to move up or down. Pure bookkeeping, no clock of its own.
 *
 * @example Three overruns climb a tier; twenty good runs step back down
 * ```ts
 * import { BudgetTracker } from "./budget.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const tracker = new BudgetTracker({ escalateAfter: 3, recoverAfter: 20, cooldownMs: 0 });
 * let now = 0;
 * for (let i = 0; i < 3; i++) tracker.observe(12, 10, now++);
 * assertEquals(tracker.tier, "warn");
 * for (let i = 0; i < 20; i++) tracker.observe(5, 10, now++);
 * assertEquals(tracker.tier, "monitor");
 * ```
 */
export class BudgetTracker {
  readonly #policy: ResolvedBudgetPolicy;
  #level: number = TIER_LEVEL.monitor;
  #overruns = 0;
  #good = 0;
  #changedAt = -Infinity;

  /**
   * Creates a tracker at `monitor`.
   *
   * @param policy Thresholds and cooldown.
   */
  constructor(policy: BudgetPolicy = {}) {
    this.#policy = resolveBudgetPolicy(policy);
  }

  /** The current tier. */
  get tier(): BudgetTier {
    return BUDGET_TIERS[this.#level]!;
  }

  /** The current tier's level: compare it with {@linkcode TIER_LEVEL}. */
  get level(): number {
    return this.#level;
  }

  /**
   * Folds in one run.
   *
   * @param execMs How long the run took.
   * @param budgetMs The task's budget.
   * @param now The current time, for the cooldown.
   * @returns +1 when the task moved up a tier, -1 when it moved down, else 0.
   */
  observe(execMs: number, budgetMs: number, now: number): -1 | 0 | 1 {
    const cooled = now - this.#changedAt >= this.#policy.cooldownMs;
    if (execMs > budgetMs) {
      this.#good = 0;
      this.#overruns++;
      if (
        this.#overruns >= this.#policy.escalateAfter && this.#level < TIER_LEVEL.isolate && cooled
      ) {
        return this.#move(1, now);
      }
      return 0;
    }
    this.#good++;
    if (this.#good >= this.#policy.recoverAfter && this.#level > TIER_LEVEL.monitor && cooled) {
      return this.#move(-1, now);
    }
    return 0;
  }

  /**
   * Sets the tier directly (an operator releasing a quarantined task).
   *
   * @param tier The tier to move to.
   * @param now The current time, for the cooldown.
   */
  reset(tier: BudgetTier, now: number): void {
    this.#level = TIER_LEVEL[tier];
    this.#overruns = 0;
    this.#good = 0;
    this.#changedAt = now;
  }

  #move(step: 1 | -1, now: number): 1 | -1 {
    this.#level += step;
    this.#overruns = 0;
    this.#good = 0;
    this.#changedAt = now;
    return step;
  }
}
