// The executor's hooks behind a guard: a hook that throws is caught, counted
// and logged (rate-limited), so it never breaks the run accounting. Nothing
// here allocates unless a hook throws.

import type { LogLimiter } from "../internal/log_limiter.ts";
import type { ExecutorHooks } from "./hooks.ts";
import { errorMessage } from "./_executor_options.ts";

/** Calls an executor's hooks (when it has any), catching and counting what they throw. */
export class GuardedHooks {
  /** Hook calls that threw. */
  errors = 0;
  readonly #hooks: ExecutorHooks | undefined;
  readonly #log: LogLimiter;
  readonly #name: string;

  constructor(hooks: ExecutorHooks | undefined, log: LogLimiter, name: string) {
    this.#hooks = hooks;
    this.#log = log;
    this.#name = name;
  }

  /** `attach`: the index it returns, or -1 (no hooks, a throw, not an integer). */
  attach(name: string, atMs: number): number {
    const hooks = this.#hooks;
    if (hooks === undefined) return -1;
    try {
      const index = hooks.attach(name, atMs);
      return Number.isInteger(index) ? index : -1;
    } catch (error) {
      this.#failed("attach", error, atMs);
      return -1;
    }
  }

  start(index: number, atMs: number): void {
    const hooks = this.#hooks;
    if (hooks === undefined) return;
    try {
      hooks.onStart(index, atMs);
    } catch (error) {
      this.#failed("onStart", error, atMs);
    }
  }

  end(index: number, atMs: number, ok: boolean): void {
    const hooks = this.#hooks;
    if (hooks === undefined) return;
    try {
      hooks.onEnd(index, atMs, ok);
    } catch (error) {
      this.#failed("onEnd", error, atMs);
    }
  }

  stop(index: number, atMs: number, ok: boolean): void {
    const hooks = this.#hooks;
    if (hooks === undefined) return;
    try {
      hooks.onStop(index, atMs, ok);
    } catch (error) {
      this.#failed("onStop", error, atMs);
    }
  }

  #failed(hook: string, error: unknown, atMs: number): void {
    this.errors++;
    this.#log.error(
      "hooks",
      atMs,
      `Executor "${this.#name}" hook ${hook}() threw: ${errorMessage(error)}`,
    );
  }
}
