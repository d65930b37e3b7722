// The argument checks of a plugin's `ctx.every / ctx.after / ctx.onEvent`,
// shared by the inline context and the worker/process runtime so a plugin
// gets the same errors in every host.

import type { PluginTaskOptions } from "./author.ts";
import {
  requireFunction,
  requireName,
  requireNonNegative,
  requireOneOf,
  requireOptions,
} from "../internal/validate.ts";
import { requirePeriod } from "../time/_period.ts";

/** The kinds of plugin tasks. */
export type PluginTaskKind = "periodic" | "once" | "event";

/** The action of each kind, as in "Cannot <action> as ...". */
export const TASK_ACTIONS: Readonly<Record<PluginTaskKind, string>> = {
  periodic: "add a periodic plugin task",
  once: "add a one-shot plugin task",
  event: "add a plugin event task",
};

/**
 * Checks what only one kind of task takes: `periodMs`, `delayMs` and
 * `missedTicks` of a periodic task, `delayMs` of a one-shot, `topic` of an
 * event task.
 */
export function checkKindOptions(kind: PluginTaskKind, options: unknown): void {
  const action = TASK_ACTIONS[kind];
  requireOptions(action, "options", options);
  const o = options as Record<string, unknown>;
  if (kind === "periodic") requirePeriod(action, "periodMs", o.periodMs);
  if (kind !== "event" && o.delayMs !== undefined) requireNonNegative(action, "delayMs", o.delayMs);
  if (kind === "periodic" && o.missedTicks !== undefined) {
    requireOneOf(action, "missedTicks", o.missedTicks, ["skip", "burst", "delay"]);
  }
  if (kind === "event") requireName(action, "topic", o.topic);
}

/**
 * Checks what every task takes (`name`, `run`, `onError`, `budgetMs`) and
 * that the plugin has no live task of that name.
 *
 * @returns The task's name.
 */
export function checkTaskOptions(
  action: string,
  options: PluginTaskOptions<unknown>,
  tasks: readonly { readonly name: string; readonly cancelled: boolean }[],
): string {
  const name = requireName(action, "name", options.name);
  requireFunction(action, "run", options.run);
  requireOneOf(action, "onError", options.onError ?? "crash", ["crash", "continue"]);
  if (options.budgetMs !== undefined) requireNonNegative(action, "budgetMs", options.budgetMs);
  if (tasks.some((t) => t.name === name && !t.cancelled)) {
    throw new TypeError(`Cannot ${action} as the plugin already has a task named "${name}"`);
  }
  return name;
}
