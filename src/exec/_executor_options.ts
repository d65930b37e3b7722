// The executor's options, checked once at the boundary before anything is
// made (no driver, timer or metrics series is left behind by a bad option),
// and the small guards the executor puts around injected collaborators.

import { requireInstance, requireName } from "../internal/validate.ts";
import { requireMetricsRegistry } from "../metrics/registry.ts";
import { requireClock } from "../time/clock.ts";
import { type Clock, MONOTONIC_CLOCK } from "../time/clock.ts";
import { Driver } from "../time/driver.ts";
import { PRECISION_PROFILES, type PrecisionProfile } from "../time/precision.ts";
import { requirePeriod } from "../time/timer_wheel.ts";
import type { EventBus } from "../bus/event_bus.ts";
import type { Subscription, Topic } from "../bus/topic.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import { CONSOLE_LOGGER, type Logger } from "../logger.ts";
import {
  requireFunction,
  requireInteger,
  requireLogger,
  requireOneOf,
  requireOptions,
  show,
} from "../internal/validate.ts";
import { resolveBudgetPolicy, type ResolvedBudgetPolicy } from "./budget.ts";
import type { ExecutorOptions } from "./task.ts";
import type { ExecutorHooks } from "./hooks.ts";

/** An offload pool as the executor uses it. */
export interface Offload {
  submit(job: string, input: unknown): Promise<unknown>;
}

/** {@linkcode ExecutorOptions}, checked, with the defaults filled in. */
export interface ResolvedExecutorOptions {
  name: string;
  logger: Logger;
  /** An injected driver; when absent the executor makes one from `clock` and `profile`. */
  driver: Driver | undefined;
  clock: Clock;
  profile: PrecisionProfile | undefined;
  bus: EventBus | undefined;
  offload: Offload | undefined;
  maxRunnable: number;
  deferCap: number;
  /** The fixed tick, or 0 for the adaptive one. */
  fixedMs: number;
  budget: ResolvedBudgetPolicy;
  metrics: MetricsRegistry | undefined;
  hooks: ExecutorHooks | undefined;
}

/**
 * Checks every option of an executor and fills in the defaults. Nothing is
 * made here, so a bad option leaves nothing behind. An option present with
 * the value `null` is an error, not the default.
 *
 * @param options The options as given.
 * @returns The checked options.
 * @throws {TypeError} when `options` is not an object or an option has the wrong type or shape.
 * @throws {RangeError} when a cap, a budget field or the fixed tick is out of range.
 */
export function resolveExecutorOptions(options: ExecutorOptions): ResolvedExecutorOptions {
  const action = "create an Executor";
  requireOptions(action, "options", options);
  const driver = requireInstance(action, "driver", options.driver, Driver);
  const clock = options.clock === undefined
    ? MONOTONIC_CLOCK
    : requireClock(action, "clock", options.clock);
  const tick: unknown = options.tick === undefined ? "adaptive" : options.tick;
  let fixedMs = 0;
  if (tick !== "adaptive") {
    if (tick === null || typeof tick !== "object") {
      throw new TypeError(
        `Cannot ${action} as 'tick' must be "adaptive" or { fixedMs }: current value is ${
          show(tick)
        }`,
      );
    }
    const now = (driver?.clock ?? clock).now();
    fixedMs = requirePeriod(action, "tick.fixedMs", (tick as { fixedMs: unknown }).fixedMs, now);
  }
  return {
    name: options.name === undefined ? "executor" : requireName(action, "name", options.name),
    logger: options.logger === undefined
      ? CONSOLE_LOGGER
      : requireLogger(action, "logger", options.logger),
    driver,
    clock,
    profile: options.profile === undefined
      ? undefined
      : requireOneOf(action, "profile", options.profile, PRECISION_PROFILES),
    bus: options.bus === undefined
      ? undefined
      : requireMethod(action, "bus", options.bus, "topic", "an EventBus"),
    offload: options.offload === undefined
      ? undefined
      : requireMethod(action, "offload", options.offload, "submit", "an OffloadPool"),
    maxRunnable: options.maxRunnable === undefined
      ? 1024
      : requireInteger(action, "maxRunnable", options.maxRunnable, 1, 2 ** 30),
    deferCap: options.deferCap === undefined
      ? 4096
      : requireInteger(action, "deferCap", options.deferCap, 0, 2 ** 30),
    fixedMs,
    budget: resolveBudgetPolicy(options.budget, action, "budget"),
    metrics: options.metrics === undefined
      ? undefined
      : requireMetricsRegistry(action, "metrics", options.metrics),
    hooks: options.hooks === undefined ? undefined : requireHooks(action, options.hooks),
  };
}

/** Throws a `TypeError` unless `hooks` is an object with the four hook methods. */
function requireHooks(action: string, hooks: unknown): ExecutorHooks {
  if (hooks === null || typeof hooks !== "object") {
    throw new TypeError(
      `Cannot ${action} as 'hooks' must be an object with attach(), onStart(), onEnd() and onStop(): current value is ${
        show(hooks)
      }`,
    );
  }
  const h = hooks as Record<string, unknown>;
  for (const method of ["attach", "onStart", "onEnd", "onStop"]) {
    requireFunction(action, `hooks.${method}`, h[method]);
  }
  return hooks as ExecutorHooks;
}

/**
 * Subscribes `handler` to a topic of `bus`, checking what a bus that is not
 * an `EventBus` returns, so a wrong one fails here, with the task not added.
 *
 * @param action What the caller was doing, for error messages.
 * @param bus The executor's bus.
 * @param topic The topic's name.
 * @param handler Called per event.
 * @returns The subscription.
 * @throws {TypeError} when the bus returns something that is not a topic or a subscription.
 */
export function subscribe(
  action: string,
  bus: EventBus,
  topic: string,
  handler: (event: unknown) => void,
): Subscription {
  const t = bus.topic<unknown>(topic) as Partial<Topic<unknown>> | undefined;
  if (typeof t?.subscribe !== "function") {
    throw new TypeError(
      `Cannot ${action} as 'bus'.topic() must return a topic with subscribe(): it returned ${
        show(t)
      }`,
    );
  }
  const subscription = t.subscribe(handler) as Partial<Subscription> | undefined;
  if (typeof subscription?.unsubscribe !== "function") {
    throw new TypeError(
      `Cannot ${action} as a topic of 'bus' must return a subscription with unsubscribe(): it returned ${
        show(subscription)
      }`,
    );
  }
  return subscription as Subscription;
}

/**
 * A logger whose lines can never throw into the run path: a faulty logger
 * loses its lines, nothing more.
 */
export function containedLogger(logger: Logger): Logger {
  return {
    error(message) {
      try {
        logger.error(message);
      } catch {
        // A logger that throws must not break a run.
      }
    },
    warn(message) {
      try {
        logger.warn(message);
      } catch {
        // As above.
      }
    },
    info(message) {
      try {
        logger.info(message);
      } catch {
        // As above.
      }
    },
  };
}

/** The message of a thrown value, for a log line; never throws. */
export function errorMessage(error: unknown): string {
  try {
    return error instanceof Error ? String(error.message) : show(error);
  } catch {
    return show(error);
  }
}

// Shape checks of injected collaborators that only the executor needs.

/** Throws a `TypeError` unless `value` is an object with the method `method`. */
function requireMethod<T>(
  action: string,
  name: string,
  value: T,
  method: string,
  what: string,
): T {
  if (
    value === null || typeof value !== "object" ||
    typeof (value as Record<string, unknown>)[method] !== "function"
  ) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be ${what} (an object with a ${method}() method): current value is ${
        show(value)
      }`,
    );
  }
  return value;
}
