import { Driver } from "../time/driver.ts";
import type { Timer } from "../time/timer.ts";
import {
  requireBoolean,
  requireFinite,
  requireFunction,
  requireInteger,
  requireName,
  requireNonNegative,
  requireOneOf,
  requireOptions,
  show,
} from "../internal/validate.ts";
import { backoffDelay, mulberry32 } from "./_backoff.ts";
import {
  type FailureRecoveryConfig,
  MANIFEST_DEFAULTS,
  type RestartType,
} from "./manifest_types.ts";

/** A recovery policy with every field filled. */
export type ResolvedRecovery = Readonly<Required<FailureRecoveryConfig>>;

/** How a supervised child ended. */
export interface ChildExit {
  /**
   * `true` for a clean end the child chose (`ctx.exit()`), `false` for a
   * failure (a crash, a hang, a kill, a phase that failed or timed out).
   */
  normal: boolean;
  /** Why, for logs and telemetry. */
  reason: string;
}

/**
 * What the supervisor decided about a child that ended:
 *
 * - `restart`: a restart is scheduled `delayMs` from now on the driver
 *   (`attempt` counts restarts since the last reset, from 0).
 * - `give-up`: the restart intensity is spent (`maxRetries` restarts within
 *   `retryWindowMs`); `unload` and `escalate` carry the policy's
 *   `autoUnloadFailed` and `escalate`.
 * - `none`: no restart by policy (`temporary`, `transient` after a clean end,
 *   or `restartEnabled: false`); `unload` is `autoUnloadFailed` for a
 *   failure, `false` for a clean end.
 */
export type SupervisorDecision =
  | { action: "restart"; delayMs: number; attempt: number; restartsInWindow: number }
  | {
    action: "give-up";
    unload: boolean;
    escalate: boolean;
    restartsInWindow: number;
    reason: string;
  }
  | {
    action: "none";
    reason: "temporary" | "transient-normal-exit" | "restart-disabled";
    unload: boolean;
  };

/** A snapshot of one supervised child. */
export interface SupervisedChildStats {
  /** The child's name. */
  name: string;
  /** Its restart type. */
  restartType: RestartType;
  /** Restarts scheduled in all. */
  restarts: number;
  /** Times its intensity ran out. */
  giveUps: number;
  /** Restarts since the last reset (the backoff exponent of the next one). */
  attempt: number;
  /** Restarts within the current window. */
  restartsInWindow: number;
  /** When the pending restart fires (driver clock, ms), or `undefined`. */
  restartAtMs: number | undefined;
  /** The last backoff delay chosen, ms; `NaN` before the first. */
  lastDelayMs: number;
  /** Backoff resets after a clean run of `resetAfterMs`. */
  resets: number;
}

/** A snapshot of a {@linkcode Supervisor}. */
export interface SupervisorStats {
  /** The supervisor's name. */
  name: string;
  /** Restarts scheduled, all children. */
  restarts: number;
  /** Give-ups, all children. */
  giveUps: number;
  /** Restarts waiting for their timer. */
  pending: number;
  /** Every child. */
  children: SupervisedChildStats[];
}

/** Options of a {@linkcode Supervisor}. */
export interface SupervisorOptions {
  /** The driver restart timers run on (the kernel's), so virtual time works. */
  driver: Driver;
  /**
   * The random source of the jitter, values in [0, 1). Injected for tests;
   * by default a mulberry32 generator seeded with `seed`.
   */
  random?: () => number;
  /** The seed of the default random source. @default {0x5eed} */
  seed?: number;
  /** The supervisor's name, for reports. @default {"plugins"} */
  name?: string;
}

interface Child {
  name: string;
  policy: ResolvedRecovery;
  history: number[];
  attempt: number;
  restarts: number;
  giveUps: number;
  resets: number;
  startedAt: number | undefined;
  timer: Timer | undefined;
  restartAt: number | undefined;
  lastDelayMs: number;
}

/**
 * Restart decisions with OTP semantics plus backoff, for named children
 * (plugins). A child that ends is restarted by its restart type: `permanent`
 * always, `transient` only after a failure, `temporary` never. Restart
 * intensity: at most `maxRetries` restarts within `retryWindowMs`; one more
 * failure gives up (then unload or keep failed, and escalate, by policy).
 * Each restart waits an exponential backoff (`backoffInitialMs`, times
 * `backoffMultiplier` per attempt, capped at `backoffMaxMs`) spread by
 * `± backoffJitterRatio` from a seeded random source; a child that ran
 * cleanly for `resetAfterMs` starts over (attempt and window). Timers run on
 * the injected driver, so on a `VirtualClock` every decision is deterministic.
 *
 * @example Backoff, then give-up, on a virtual clock
 * ```ts
 * import { Driver, Supervisor } from "@chronetix/core";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * using driver = new Driver({ clock });
 * const supervisor = new Supervisor({ driver, random: () => 0.5 }); // no jitter at 0.5
 * supervisor.add("sampler", { maxRetries: 2, backoffInitialMs: 100, backoffMultiplier: 2 });
 * const restarted: number[] = [];
 * const restart = () => void restarted.push(clock.now());
 * const crash = { normal: false, reason: "crashed" };
 * assertEquals(supervisor.exited("sampler", crash, restart), { action: "restart", delayMs: 100, attempt: 0, restartsInWindow: 1 });
 * clock.advance(100);
 * assertEquals(supervisor.exited("sampler", crash, restart).action, "restart"); // 200 ms
 * clock.advance(200);
 * assertEquals(restarted, [100, 300]);
 * assertEquals(supervisor.exited("sampler", crash, restart).action, "give-up");
 * ```
 */
export class Supervisor {
  /** The supervisor's name. */
  readonly name: string;
  readonly #driver: Driver;
  readonly #random: () => number;
  readonly #children = new Map<string, Child>();
  #restarts = 0;
  #giveUps = 0;
  #closed = false;

  /**
   * Creates a supervisor.
   *
   * @param options The driver, the random source or its seed, the name.
   * @throws {TypeError} when an option has the wrong type.
   * @throws {RangeError} when `seed` is not finite.
   */
  constructor(options: SupervisorOptions) {
    const action = "create a Supervisor";
    requireOptions(action, "options", options);
    if (options === undefined || !(options.driver instanceof Driver)) {
      throw new TypeError(
        `Cannot ${action} as 'driver' must be a Driver: current value is ${show(options?.driver)}`,
      );
    }
    this.#driver = options.driver;
    this.name = requireName(action, "name", options.name ?? "plugins");
    if (options.random !== undefined) {
      this.#random = requireFunction(action, "random", options.random);
    } else {
      this.#random = mulberry32(requireFinite(action, "seed", options.seed ?? 0x5eed));
    }
  }

  /**
   * Supervises a child (again: its history starts over).
   *
   * @param name The child's name.
   * @param policy Its recovery policy; fields left out take the manifest defaults.
   * @returns The policy with every field filled.
   * @throws {TypeError} when `name` or a policy field has the wrong type.
   * @throws {RangeError} when a policy field is out of range.
   */
  add(name: string, policy: FailureRecoveryConfig = {}): ResolvedRecovery {
    requireName("supervise a child", "name", name);
    const resolved = resolveRecovery("supervise a child", policy);
    this.remove(name);
    this.#children.set(name, {
      name,
      policy: resolved,
      history: [],
      attempt: 0,
      restarts: 0,
      giveUps: 0,
      resets: 0,
      startedAt: undefined,
      timer: undefined,
      restartAt: undefined,
      lastDelayMs: NaN,
    });
    return resolved;
  }

  /**
   * Stops supervising a child; cancels its pending restart.
   *
   * @param name The child's name.
   * @returns `false` when it was not supervised.
   */
  remove(name: string): boolean {
    const child = this.#children.get(name);
    if (child === undefined) return false;
    this.#cancel(child);
    this.#children.delete(name);
    return true;
  }

  /**
   * Records that a child is running from now (the reset window counts from here).
   *
   * @param name The child's name.
   */
  started(name: string): void {
    const child = this.#children.get(name);
    if (child !== undefined) child.startedAt = this.#driver.clock.now();
  }

  /**
   * Cancels a child's pending restart, if there is one.
   *
   * @param name The child's name.
   * @returns `true` when a restart was pending.
   */
  cancel(name: string): boolean {
    const child = this.#children.get(name);
    return child !== undefined && this.#cancel(child);
  }

  /**
   * Decides what happens to a child that ended and, for a restart,
   * schedules `restart` on the driver after the backoff delay. A child
   * that is not supervised (or a closed supervisor) gets `none`.
   *
   * @param name The child's name.
   * @param exit How it ended.
   * @param restart Called when the restart is due.
   * @returns The decision.
   * @throws {TypeError} when `exit` or `restart` has the wrong type.
   */
  exited(name: string, exit: ChildExit, restart: () => void): SupervisorDecision {
    const action = "decide about a child";
    requireOptions(action, "exit", exit);
    requireBoolean(action, "exit.normal", exit?.normal);
    requireFunction(action, "restart", restart);
    const child = this.#children.get(name);
    if (child === undefined || this.#closed) {
      return { action: "none", reason: "restart-disabled", unload: false };
    }
    this.#cancel(child);
    const now = this.#driver.clock.now();
    const p = child.policy;
    if (child.startedAt !== undefined && now - child.startedAt >= p.resetAfterMs) {
      child.attempt = 0;
      child.history = [];
      child.resets++;
    }
    child.startedAt = undefined;
    if (!p.restartEnabled) {
      return {
        action: "none",
        reason: "restart-disabled",
        unload: !exit.normal && p.autoUnloadFailed,
      };
    }
    if (p.restartType === "temporary") {
      return { action: "none", reason: "temporary", unload: !exit.normal && p.autoUnloadFailed };
    }
    if (p.restartType === "transient" && exit.normal) {
      return { action: "none", reason: "transient-normal-exit", unload: false };
    }
    child.history = child.history.filter((t) => now - t < p.retryWindowMs);
    if (child.history.length >= p.maxRetries) {
      child.giveUps++;
      this.#giveUps++;
      return {
        action: "give-up",
        unload: p.autoUnloadFailed,
        escalate: p.escalate,
        restartsInWindow: child.history.length,
        reason:
          `${child.history.length} restarts within ${p.retryWindowMs} ms (maxRetries ${p.maxRetries})`,
      };
    }
    const delayMs = backoffDelay(p, child.attempt, this.#random);
    const attempt = child.attempt;
    child.attempt++;
    child.history.push(now);
    child.restarts++;
    this.#restarts++;
    child.lastDelayMs = delayMs;
    child.restartAt = now + delayMs;
    child.timer = this.#driver.after(delayMs, () => {
      child.timer = undefined;
      child.restartAt = undefined;
      restart();
    }, { latenessClass: "plugin-restart" });
    return { action: "restart", delayMs, attempt, restartsInWindow: child.history.length };
  }

  /**
   * The figures of one child.
   *
   * @param name The child's name.
   * @returns Its snapshot, or `undefined` when it is not supervised.
   */
  child(name: string): SupervisedChildStats | undefined {
    const c = this.#children.get(name);
    if (c === undefined) return undefined;
    const now = this.#driver.clock.now();
    return {
      name: c.name,
      restartType: c.policy.restartType,
      restarts: c.restarts,
      giveUps: c.giveUps,
      attempt: c.attempt,
      restartsInWindow: c.history.filter((t) => now - t < c.policy.retryWindowMs).length,
      restartAtMs: c.restartAt,
      lastDelayMs: c.lastDelayMs,
      resets: c.resets,
    };
  }

  /**
   * Takes a snapshot.
   *
   * @returns Totals and every child.
   */
  stats(): SupervisorStats {
    const children = [...this.#children.keys()].map((n) => this.child(n)!);
    return {
      name: this.name,
      restarts: this.#restarts,
      giveUps: this.#giveUps,
      pending: children.filter((c) => c.restartAtMs !== undefined).length,
      children,
    };
  }

  /** Cancels every pending restart; later exits get `none`. Calling it again does nothing. */
  close(): void {
    this.#closed = true;
    for (const child of this.#children.values()) this.#cancel(child);
  }

  #cancel(child: Child): boolean {
    const timer = child.timer;
    child.timer = undefined;
    child.restartAt = undefined;
    return timer !== undefined && timer.cancel();
  }
}

/**
 * Fills a recovery policy from the manifest defaults, checking each field
 * (the same ranges as the manifest's).
 */
function resolveRecovery(action: string, config: unknown): ResolvedRecovery {
  requireOptions(action, "policy", config);
  const c = (config ?? {}) as FailureRecoveryConfig;
  const d = MANIFEST_DEFAULTS.restart;
  const ms = (field: keyof FailureRecoveryConfig, max: number, fallback: number): number => {
    const value = requireNonNegative(action, `policy.${field}`, c[field] ?? fallback);
    if (value > max) {
      throw new RangeError(
        `Cannot ${action} as 'policy.${field}' must be at most ${max}: current value is ${value}`,
      );
    }
    return value;
  };
  const initial = ms("backoffInitialMs", 3_600_000, d.backoffInitialMs);
  const max = ms("backoffMaxMs", 3_600_000, Math.max(d.backoffMaxMs, initial));
  if (max < initial) {
    throw new RangeError(
      `Cannot ${action} as 'policy.backoffMaxMs' must be >= backoffInitialMs (${initial}): current value is ${max}`,
    );
  }
  const multiplier = requireFinite(
    action,
    "policy.backoffMultiplier",
    c.backoffMultiplier ?? d.backoffMultiplier,
  );
  if (multiplier < 1 || multiplier > 100) {
    throw new RangeError(
      `Cannot ${action} as 'policy.backoffMultiplier' must be in [1, 100]: current value is ${multiplier}`,
    );
  }
  const jitter = requireFinite(
    action,
    "policy.backoffJitterRatio",
    c.backoffJitterRatio ?? d.backoffJitterRatio,
  );
  if (jitter < 0 || jitter > 1) {
    throw new RangeError(
      `Cannot ${action} as 'policy.backoffJitterRatio' must be in [0, 1]: current value is ${jitter}`,
    );
  }
  const window = ms("retryWindowMs", 86_400_000, d.retryWindowMs);
  if (window < 1) {
    throw new RangeError(
      `Cannot ${action} as 'policy.retryWindowMs' must be >= 1: current value is ${window}`,
    );
  }
  return Object.freeze({
    restartEnabled: requireBoolean(
      action,
      "policy.restartEnabled",
      c.restartEnabled ?? d.restartEnabled,
    ),
    restartType: requireOneOf(action, "policy.restartType", c.restartType ?? d.restartType, [
      "permanent",
      "transient",
      "temporary",
    ]),
    maxRetries: requireInteger(action, "policy.maxRetries", c.maxRetries ?? d.maxRetries, 0, 1000),
    retryWindowMs: window,
    backoffInitialMs: initial,
    backoffMaxMs: max,
    backoffMultiplier: multiplier,
    backoffJitterRatio: jitter,
    resetAfterMs: ms("resetAfterMs", 86_400_000, d.resetAfterMs),
    autoUnloadFailed: requireBoolean(
      action,
      "policy.autoUnloadFailed",
      c.autoUnloadFailed ?? d.autoUnloadFailed,
    ),
    escalate: requireBoolean(action, "policy.escalate", c.escalate ?? d.escalate),
  });
}
