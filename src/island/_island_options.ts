// An island's options, checked once at the boundary with the defaults filled
// in, before anything is allocated or started: a bad option throws here.

import { resolveBudgetPolicy, type ResolvedBudgetPolicy } from "../exec/budget.ts";
import { MISSED_TICK_POLICIES, requirePeriod } from "../time/timer_wheel.ts";
import { Driver } from "../time/driver.ts";
import { CONSOLE_LOGGER, type Logger } from "../logger.ts";
import { type MetricsRegistry, requireMetricsRegistry } from "../metrics/registry.ts";
import type { SharedRingOptions } from "../data/ring_writer.ts";
import {
  requireInstance,
  requireInteger,
  requireLogger,
  requireName,
  requireNonNegative,
  requireOneOf,
  requireOptions,
  requirePositive,
  show,
} from "../internal/validate.ts";
import type { LoopTask } from "./_island_loop.ts";
import type { IslandOptions, IslandScheduling } from "./island_types.ts";
import { DEFAULT_REALTIME_PRIORITY, ISLAND_SCHEDULINGS } from "./_realtime.ts";

const MAX_TASKS = 1024;
const MAX_LEAD_US = 100_000;

/** An island's options, checked. */
export interface IslandConfig {
  name: string;
  moduleUrl: string;
  tasks: Omit<LoopTask, "run">[];
  valuesIn: string[] | undefined;
  valuesOut: string[] | undefined;
  ringIn: SharedRingOptions | undefined;
  ringOut: SharedRingOptions | undefined;
  /** `undefined`: by the policy the thread gets ({@linkcode defaultLeadUs}). */
  leadUs: number | undefined;
  maxLeadUs: number;
  priority: number | undefined;
  scheduling: IslandScheduling;
  realtimePriority: number;
  hangMs: number;
  startTimeoutMs: number;
  budget: ResolvedBudgetPolicy;
  restartPolicy: "never" | "on-failure";
  maxRestarts: number;
  backoffMs: number;
  maxHeapMb: number;
  driver: Driver | undefined;
  metrics: MetricsRegistry | undefined;
  logger: Logger;
}

/** The action every message of `Island.start()` names. */
export const START_ACTION = "start an Island";

/**
 * Checks every option and fills in the defaults.
 *
 * @throws {TypeError} when an option has the wrong type.
 * @throws {RangeError} when an option is out of range.
 */
export function resolveIslandOptions(options: unknown): IslandConfig {
  const action = START_ACTION;
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `Cannot ${action} as 'options' must be an object: current value is ${show(options)}`,
    );
  }
  const o = options as Partial<IslandOptions>;
  const name = requireName(action, "name", o.name ?? "island");
  const moduleUrl = requireModule(action, o.module);
  const tasks = requireTasks(action, o.tasks);
  requireOptions(action, "values", o.values);
  const valuesIn = requireFields(action, "values.in", o.values?.in);
  const valuesOut = requireFields(action, "values.out", o.values?.out);
  requireOptions(action, "rings", o.rings);
  requireOptions(action, "rings.in", o.rings?.in);
  requireOptions(action, "rings.out", o.rings?.out);
  const leadUs = o.leadUs === undefined
    ? undefined
    : requireRange(action, "leadUs", o.leadUs, 0, MAX_LEAD_US);
  // Left out, the least lead is the default of the policy the thread gets,
  // at most maxLeadUs (defaultLeadUs()).
  const maxLeadUs = o.maxLeadUs === undefined
    ? Math.max(1000, leadUs ?? 0)
    : requireRange(action, "maxLeadUs", o.maxLeadUs, leadUs ?? 0, MAX_LEAD_US);
  const priority = o.priority === undefined
    ? undefined
    : requireInteger(action, "priority", o.priority, -20, 19);
  const scheduling = o.scheduling === undefined
    ? "auto"
    : requireOneOf(action, "scheduling", o.scheduling, ISLAND_SCHEDULINGS);
  const realtimePriority = o.realtimePriority === undefined
    ? DEFAULT_REALTIME_PRIORITY
    : requireInteger(action, "realtimePriority", o.realtimePriority, 1, 99);
  const hangMs = o.hangMs === undefined ? 1000 : requireRange(action, "hangMs", o.hangMs, 1, 1e9);
  const startTimeoutMs = o.startTimeoutMs === undefined
    ? 10_000
    : requireRange(action, "startTimeoutMs", o.startTimeoutMs, 1, 1e9);
  const budget = resolveBudgetPolicy(o.budget, action, "budget");
  requireOptions(action, "restart", o.restart);
  const r = o.restart ?? {};
  const restartPolicy = r.policy === undefined
    ? "on-failure"
    : requireOneOf(action, "restart.policy", r.policy, ["never", "on-failure"] as const);
  const maxRestarts = r.maxRestarts === undefined
    ? 3
    : requireInteger(action, "restart.maxRestarts", r.maxRestarts, 0, 1e6);
  const backoffMs = r.backoffMs === undefined
    ? 1000
    : requireRange(action, "restart.backoffMs", r.backoffMs, 0, 1e9);
  const maxHeapMb = o.maxHeapMb === undefined
    ? 256
    : requireInteger(action, "maxHeapMb", o.maxHeapMb, 16, 1 << 20);
  const driver = requireInstance(action, "driver", o.driver, Driver);
  const metrics = o.metrics === undefined
    ? undefined
    : requireMetricsRegistry(action, "metrics", o.metrics);
  const logger = requireLogger(action, "logger", o.logger ?? CONSOLE_LOGGER);
  return {
    name,
    moduleUrl,
    tasks,
    valuesIn,
    valuesOut,
    ringIn: o.rings?.in,
    ringOut: o.rings?.out,
    leadUs,
    maxLeadUs,
    priority,
    scheduling,
    realtimePriority,
    hangMs,
    startTimeoutMs,
    budget,
    restartPolicy,
    maxRestarts,
    backoffMs,
    maxHeapMb,
    driver,
    metrics,
    logger,
  };
}

function requireRange(
  action: string,
  name: string,
  value: unknown,
  min: number,
  max: number,
): number {
  const v = requireNonNegative(action, name, value);
  if (v < min || v > max) {
    throw new RangeError(
      `Cannot ${action} as '${name}' must be in [${min}, ${max}]: current value is ${v}`,
    );
  }
  return v;
}

function requireModule(action: string, value: unknown): string {
  let href: string | undefined;
  if (value instanceof URL) href = value.href;
  else if (typeof value === "string") {
    try {
      href = new URL(value).href;
    } catch {
      href = undefined;
    }
  }
  if (href === undefined) {
    throw new TypeError(
      `Cannot ${action} as 'module' must be an absolute URL (a URL or a string such as new URL("./tasks.ts", import.meta.url).href): current value is ${
        show(value)
      }`,
    );
  }
  return href;
}

function requireFields(action: string, name: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be a non-empty array of field names: current value is ${
        show(value)
      }`,
    );
  }
  const fields = value.map((f, i) => requireName(action, `${name}[${i}]`, f));
  if (new Set(fields).size !== fields.length) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must hold distinct field names: current value is ${
        show(fields)
      }`,
    );
  }
  return fields;
}

function requireTasks(action: string, value: unknown): Omit<LoopTask, "run">[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_TASKS) {
    throw new TypeError(
      `Cannot ${action} as 'tasks' must be an array of 1 to ${MAX_TASKS} task options: current value is ${
        show(value)
      }`,
    );
  }
  const seen = new Set<string>();
  return value.map((t: unknown, i) => {
    const at = `tasks[${i}]`;
    if (t === null || typeof t !== "object") {
      throw new TypeError(
        `Cannot ${action} as '${at}' must be an object: current value is ${show(t)}`,
      );
    }
    const o = t as Record<string, unknown>;
    const name = requireName(action, `${at}.name`, o.name);
    if (seen.has(name) || name === "init" || name === "dispose") {
      throw new TypeError(
        `Cannot ${action} as '${at}.name' must be unique and not "init" or "dispose": current value is ${
          show(name)
        }`,
      );
    }
    seen.add(name);
    const periodMs = requirePeriod(action, `${at}.periodMs`, o.periodMs);
    const delayMs = o.delayMs === undefined
      ? periodMs
      : requireRange(action, `${at}.delayMs`, o.delayMs, 0, 1e12);
    let deadlineMs = periodMs;
    if (o.deadlineMs !== undefined) {
      if (!(typeof o.deadlineMs === "number" && o.deadlineMs > 0)) {
        const Err = typeof o.deadlineMs === "number" ? RangeError : TypeError;
        throw new Err(
          `Cannot ${action} as '${at}.deadlineMs' must be > 0 (Infinity for no deadline): current value is ${
            show(o.deadlineMs)
          }`,
        );
      }
      deadlineMs = o.deadlineMs;
    }
    const budgetMs = o.budgetMs === undefined
      ? undefined
      : requirePositive(action, `${at}.budgetMs`, o.budgetMs);
    const missedTicks = o.missedTicks === undefined
      ? "skip"
      : requireOneOf(action, `${at}.missedTicks`, o.missedTicks, MISSED_TICK_POLICIES);
    const onError = o.onError === undefined
      ? "continue"
      : requireOneOf(action, `${at}.onError`, o.onError, ["continue", "stop"] as const);
    return { name, periodMs, deadlineMs, delayMs, budgetMs, missedTicks, onError };
  });
}
