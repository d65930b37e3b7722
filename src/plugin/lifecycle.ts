import { type ErrorRecord, errorRecord } from "../errors.ts";
import { type Clock, MONOTONIC_CLOCK, requireClock } from "../time/clock.ts";
import {
  requireFunction,
  requireName,
  requireOneOf,
  requireOptions,
} from "../internal/validate.ts";
import { PluginError } from "./plugin_error.ts";

/**
 * Where a plugin is: `loaded` (its module is imported and checked),
 * `initialized` (`init` ran), `ready` (wired, state handed over), `started`
 * (running: its tasks are released), `stopped`, `shutdown` (its resources are
 * released), or `failed` (reachable from every state).
 */
export type PluginState =
  | "loaded"
  | "initialized"
  | "ready"
  | "started"
  | "stopped"
  | "shutdown"
  | "failed";

/** Every {@linkcode PluginState}, in lifecycle order. */
export const PLUGIN_STATES: readonly PluginState[] = Object.freeze([
  "loaded",
  "initialized",
  "ready",
  "started",
  "stopped",
  "shutdown",
  "failed",
]);

/** A lifecycle's state: a {@linkcode PluginState}, or `unloaded` before the first load. */
export type LifecycleState = "unloaded" | PluginState;

/**
 * A step of the lifecycle, timed from its start to the transition that ends
 * it: `load` (import, → loaded), `init` (→ initialized), `ready` (wiring and
 * state hand-over, → ready), `start` (→ started), `stop` (→ stopped),
 * `shutdown` (→ shutdown). `run` is the time a plugin ran before it failed
 * while running (a crash, a hang, a kill); it only ends in `failed`.
 */
export type PluginPhase = "load" | "init" | "ready" | "start" | "run" | "stop" | "shutdown";

/** Every {@linkcode PluginPhase}, in lifecycle order. */
export const PLUGIN_PHASES: readonly PluginPhase[] = Object.freeze([
  "load",
  "init",
  "ready",
  "start",
  "run",
  "stop",
  "shutdown",
]);

/** The phases that move a plugin on when they succeed (all but `run`). */
export type SteppingPhase = Exclude<PluginPhase, "run">;

/** Where each phase may start, and where it ends when it succeeds. */
const STEPS: Readonly<Record<SteppingPhase, { from: readonly LifecycleState[]; to: PluginState }>> =
  {
    load: { from: ["unloaded", "failed", "shutdown"], to: "loaded" },
    init: { from: ["loaded"], to: "initialized" },
    ready: { from: ["initialized"], to: "ready" },
    // From `stopped`: an old instance kept through a hot reload's probation
    // is started again when the new version fails (a rollback).
    start: { from: ["ready", "stopped"], to: "started" },
    stop: { from: ["started"], to: "stopped" },
    shutdown: { from: ["loaded", "initialized", "ready", "stopped", "failed"], to: "shutdown" },
  };

/** The states a running plugin can fail from (phase `run`). */
const LIVE: readonly LifecycleState[] = ["loaded", "initialized", "ready", "started", "stopped"];

/** One state change, timed. */
export interface PluginTransition {
  /** The plugin's name. */
  plugin: string;
  /** The state before. */
  from: LifecycleState;
  /** The state after. */
  to: PluginState;
  /** The phase that ended with it. */
  phase: PluginPhase;
  /** How long the phase took, ms (for `run`: how long the plugin ran). */
  durationMs: number;
  /** When it happened, ms on the lifecycle's clock. */
  atMs: number;
  /** What failed, for a transition to `failed`. */
  error?: ErrorRecord;
}

/** Timing of one phase. */
export interface PhaseStats {
  /** Times the phase ended (succeeded or failed). */
  count: number;
  /** Times it failed. */
  failures: number;
  /** Its total time, ms. */
  totalMs: number;
  /** `totalMs / count`; `NaN` before the first. */
  averageMs: number;
  /** The longest, ms; `NaN` before the first. */
  maxMs: number;
}

/** A snapshot of a {@linkcode PluginLifecycle}. */
export interface LifecycleStats {
  /** The plugin's name. */
  plugin: string;
  /** The current state. */
  state: LifecycleState;
  /** The phase in progress, if one is. */
  phase: SteppingPhase | undefined;
  /** Since when the plugin is in its state, ms. */
  stateSinceMs: number;
  /** State changes so far. */
  transitions: number;
  /** Transitions to `failed`. */
  failures: number;
  /** Per phase: count, failures, total, average and longest time. */
  phases: Record<PluginPhase, PhaseStats>;
  /** The last failure, if there was one. */
  lastError: ErrorRecord | undefined;
  /** Calls of `onTransition` that threw (contained). */
  observerErrors: number;
}

/** Options of a {@linkcode PluginLifecycle}. */
export interface PluginLifecycleOptions {
  /** The plugin's name. */
  plugin: string;
  /** The clock phases are timed on. @default {MONOTONIC_CLOCK} */
  clock?: Clock;
  /** Called after every transition; a throw is contained and counted. */
  onTransition?: (transition: PluginTransition) => void;
}

/**
 * The state machine of one plugin: `loaded → initialized → ready → started →
 * stopped → shutdown`, and `failed` from any state. Each step is a phase:
 * `begin(phase)` checks that it may start from the current state, and
 * `complete()` or `fail()` ends it with a timed transition. Loading again
 * (a restart) is legal from `failed` and `shutdown`. An illegal step is a
 * `PluginError` (`E_PLUGIN_ILLEGAL_TRANSITION`) that names the state and the
 * phases allowed there. Per phase it keeps count, failures, total, average
 * and longest time; failures are counted by the phase they happened in.
 *
 * @example A plugin's way through its lifecycle, timed on a virtual clock
 * ```ts
 * import { PluginLifecycle } from "@chronetix/core";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * const lifecycle = new PluginLifecycle({ plugin: "sampler", clock });
 * lifecycle.begin("load");
 * clock.advance(5);
 * assertEquals(lifecycle.complete().to, "loaded");
 * lifecycle.begin("init");
 * clock.advance(3);
 * const failed = lifecycle.fail("init", new Error("no device"));
 * assertEquals([failed.from, failed.to, failed.durationMs], ["loaded", "failed", 3]);
 * assertThrows(() => lifecycle.begin("start"), Error, 'Cannot begin phase "start" of plugin "sampler" as it is failed');
 * assertEquals(lifecycle.stats().phases.init.failures, 1);
 * assertEquals(lifecycle.stats().phases.load.averageMs, 5);
 * ```
 */
export class PluginLifecycle {
  /** The plugin's name. */
  readonly plugin: string;
  readonly #clock: Clock;
  readonly #onTransition: ((transition: PluginTransition) => void) | undefined;
  #state: LifecycleState = "unloaded";
  #phase: SteppingPhase | undefined;
  #phaseStart = 0;
  #stateSince: number;
  #transitions = 0;
  #failures = 0;
  #observerErrors = 0;
  #lastError: ErrorRecord | undefined;
  readonly #phases = new Map<PluginPhase, PhaseStats>();

  /**
   * Creates a lifecycle in state `unloaded`.
   *
   * @param options The plugin's name, the clock and a transition observer.
   * @throws {TypeError} when an option has the wrong type.
   */
  constructor(options: PluginLifecycleOptions) {
    const action = "create a PluginLifecycle";
    requireOptions(action, "options", options);
    if (options === undefined) {
      throw new TypeError(
        `Cannot ${action} as 'options' must be an object: current value is undefined`,
      );
    }
    this.plugin = requireName(action, "plugin", options.plugin);
    this.#clock = options.clock === undefined
      ? MONOTONIC_CLOCK
      : requireClock(action, "clock", options.clock);
    if (options.onTransition !== undefined) {
      this.#onTransition = requireFunction(action, "onTransition", options.onTransition);
    }
    for (const phase of PLUGIN_PHASES) {
      this.#phases.set(phase, { count: 0, failures: 0, totalMs: 0, averageMs: NaN, maxMs: NaN });
    }
    this.#stateSince = this.#clock.now();
  }

  /** The current state. */
  get state(): LifecycleState {
    return this.#state;
  }

  /** The phase in progress, if one is. */
  get phase(): SteppingPhase | undefined {
    return this.#phase;
  }

  /**
   * Whether `phase` may begin now: no other phase is in progress and the
   * current state allows it.
   *
   * @param phase The phase.
   * @returns `true` when `begin(phase)` would succeed.
   */
  canBegin(phase: SteppingPhase): boolean {
    return this.#phase === undefined && STEPS[phase]?.from.includes(this.#state) === true;
  }

  /**
   * Starts a phase; its time runs until `complete()` or `fail()`.
   *
   * @param phase The phase.
   * @throws {TypeError} when `phase` is not a phase that moves a plugin on.
   * @throws {PluginError} (`E_PLUGIN_ILLEGAL_TRANSITION`) when a phase is
   * already in progress or the current state does not allow it.
   */
  begin(phase: SteppingPhase): void {
    requireOneOf("begin a plugin phase", "phase", phase, Object.keys(STEPS) as SteppingPhase[]);
    if (this.#phase !== undefined) {
      throw this.#illegal(phase, `its phase "${this.#phase}" is still in progress`);
    }
    const step = STEPS[phase];
    if (!step.from.includes(this.#state)) {
      throw this.#illegal(
        phase,
        `it is ${this.#state}: "${phase}" may begin only when it is ${step.from.join(" or ")}`,
      );
    }
    this.#phase = phase;
    this.#phaseStart = this.#clock.now();
  }

  /**
   * Ends the phase in progress successfully: moves to its state.
   *
   * @returns The transition.
   * @throws {PluginError} (`E_PLUGIN_ILLEGAL_TRANSITION`) when no phase is in progress.
   */
  complete(): PluginTransition {
    const phase = this.#phase;
    if (phase === undefined) {
      throw new PluginError(
        "E_PLUGIN_ILLEGAL_TRANSITION",
        this.plugin,
        `Cannot complete a phase of plugin "${this.plugin}" as none is in progress (it is ${this.#state})`,
      );
    }
    const now = this.#clock.now();
    this.#phase = undefined;
    return this.#move(phase, STEPS[phase].to, now - this.#phaseStart, now, undefined);
  }

  /**
   * Ends the phase in progress with a failure, or records a failure of a
   * running plugin (`phase` = `"run"`, from any live state): moves to `failed`.
   *
   * @param phase The phase in progress, or `"run"`.
   * @param error What failed.
   * @returns The transition.
   * @throws {PluginError} (`E_PLUGIN_ILLEGAL_TRANSITION`) when `phase` is
   * neither the phase in progress nor `"run"` of a live plugin.
   */
  fail(phase: PluginPhase, error: unknown): PluginTransition {
    requireOneOf("fail a plugin phase", "phase", phase, PLUGIN_PHASES);
    const now = this.#clock.now();
    if (phase === this.#phase) {
      this.#phase = undefined;
      return this.#move(phase, "failed", now - this.#phaseStart, now, errorRecord(error, now));
    }
    if (phase === "run" && this.#phase === undefined && LIVE.includes(this.#state)) {
      return this.#move(phase, "failed", now - this.#stateSince, now, errorRecord(error, now));
    }
    throw new PluginError(
      "E_PLUGIN_ILLEGAL_TRANSITION",
      this.plugin,
      `Cannot fail plugin "${this.plugin}" in phase "${phase}" as it is ${this.#state}${
        this.#phase === undefined ? "" : ` in phase "${this.#phase}"`
      }`,
    );
  }

  /**
   * Takes a snapshot.
   *
   * @returns The state, counts and per-phase timing.
   */
  stats(): LifecycleStats {
    const phases = {} as Record<PluginPhase, PhaseStats>;
    for (const [phase, s] of this.#phases) phases[phase] = { ...s };
    return {
      plugin: this.plugin,
      state: this.#state,
      phase: this.#phase,
      stateSinceMs: this.#stateSince,
      transitions: this.#transitions,
      failures: this.#failures,
      phases,
      lastError: this.#lastError,
      observerErrors: this.#observerErrors,
    };
  }

  /**
   * Adds the counts and timings of a previous instance's lifecycle to this
   * one (a hot reload hands the plugin's history to its new instance; a
   * rollback hands it back to the old one, which holds part of it already).
   *
   * @param previous The lifecycle of the instance that was replaced.
   * @param already Counts of `previous` this one holds already (its own
   *   stats when `previous` absorbed it): they are not added twice.
   */
  absorb(previous: PluginLifecycle, already?: LifecycleStats): void {
    const before = previous.stats();
    this.#transitions += before.transitions - (already?.transitions ?? 0);
    this.#failures += before.failures - (already?.failures ?? 0);
    this.#observerErrors += before.observerErrors - (already?.observerErrors ?? 0);
    this.#lastError ??= before.lastError;
    for (const [phase, p] of Object.entries(before.phases) as [PluginPhase, PhaseStats][]) {
      const s = this.#phases.get(phase)!;
      const had = already?.phases[phase];
      s.count += p.count - (had?.count ?? 0);
      s.failures += p.failures - (had?.failures ?? 0);
      s.totalMs += p.totalMs - (had?.totalMs ?? 0);
      s.averageMs = s.count === 0 ? NaN : s.totalMs / s.count;
      if (!Number.isNaN(p.maxMs)) {
        s.maxMs = Number.isNaN(s.maxMs) ? p.maxMs : Math.max(s.maxMs, p.maxMs);
      }
    }
  }

  #move(
    phase: PluginPhase,
    to: PluginState,
    durationMs: number,
    atMs: number,
    error: ErrorRecord | undefined,
  ): PluginTransition {
    const from = this.#state;
    this.#state = to;
    this.#stateSince = atMs;
    this.#transitions++;
    const s = this.#phases.get(phase)!;
    s.count++;
    s.totalMs += durationMs;
    s.averageMs = s.totalMs / s.count;
    s.maxMs = Number.isNaN(s.maxMs) ? durationMs : Math.max(s.maxMs, durationMs);
    const transition: PluginTransition = { plugin: this.plugin, from, to, phase, durationMs, atMs };
    if (error !== undefined) {
      s.failures++;
      this.#failures++;
      this.#lastError = error;
      transition.error = error;
    }
    if (this.#onTransition !== undefined) {
      try {
        this.#onTransition(transition);
      } catch {
        this.#observerErrors++;
      }
    }
    return transition;
  }

  #illegal(phase: SteppingPhase, why: string): PluginError {
    return new PluginError(
      "E_PLUGIN_ILLEGAL_TRANSITION",
      this.plugin,
      `Cannot begin phase "${phase}" of plugin "${this.plugin}" as ${why}`,
      { phase },
    );
  }
}
