// The two calendars a schedule follows: a cron expression (croner parses it
// and does the zone arithmetic) and a one-shot date.

import { Cron } from "npm:croner@^11";
import { show } from "../internal/validate.ts";
import type { Calendar } from "./_wall_plan.ts";
import { readInstant } from "./_zone.ts";

const MAX_EXPRESSION_LENGTH = 256;
/** Croner searches up to the year 9999; a fire beyond what a Date holds is none. */
const MAX_DATE_MS = 8.64e15;

/**
 * A calendar over a cron expression in `zone`.
 *
 * @throws {TypeError} when `expression` is not a string or does not parse.
 * @throws {RangeError} when it never fires after `fromMs`.
 */
export function cronCalendar(
  action: string,
  name: string,
  expression: unknown,
  zone: string,
  fromMs: number,
): Calendar {
  if (
    typeof expression !== "string" || expression.trim().length === 0 ||
    expression.length > MAX_EXPRESSION_LENGTH
  ) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be a cron expression (5 or 6 fields) or a nickname such as "@daily": current value is ${
        show(expression)
      }`,
    );
  }
  const trimmed = expression.trim();
  let cron: Cron;
  try {
    // No function: croner only parses and computes; Chronetix does the timing.
    cron = new Cron(trimmed, {
      timezone: zone,
      mode: trimmed.startsWith("@") ? "auto" : "5-or-6-parts",
    });
  } catch (error) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be a cron expression (5 or 6 fields) or a nickname such as "@daily" (${
        reason(error)
      }): current value is ${show(expression)}`,
      { cause: error },
    );
  }
  const next = (afterMs: number): number | undefined => {
    if (!(afterMs < MAX_DATE_MS)) return undefined;
    const from = new Date(Math.max(afterMs, -MAX_DATE_MS));
    let date: Date | null;
    try {
      date = cron.nextRun(from);
    } catch {
      return undefined;
    }
    const t = date?.getTime();
    return t !== undefined && t > afterMs && t < MAX_DATE_MS ? t : undefined;
  };
  if (next(fromMs) === undefined) {
    throw new RangeError(
      `Cannot ${action} as '${name}' must fire at least once after now: current value is ${
        show(expression)
      }`,
    );
  }
  return { next, spec: trimmed, runsPast: false };
}

/**
 * A calendar with one fire at `at` (read in `zone` when it is a local time);
 * one already past fires at once.
 *
 * @throws {TypeError} when `at` is not a valid date.
 */
export function atCalendar(action: string, name: string, at: unknown, zone: string): Calendar {
  const t = readInstant(action, name, at, zone);
  return {
    next: (afterMs) => (afterMs < t ? t : undefined),
    spec: new Date(t).toISOString(),
    runsPast: true,
  };
}

/** Croner's own words for why an expression was refused, kept short and on one line. */
function reason(error: unknown): string {
  let text: string;
  try {
    text = error instanceof Error ? error.message : String(error);
  } catch {
    text = "unreadable";
  }
  text = text.replace(/\s+/g, " ").replace(/^CronPattern: /, "");
  return text.length <= 120 ? text : `${text.slice(0, 117)}...`;
}
