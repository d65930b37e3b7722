// Time zones: checking an IANA name, and reading a local date-time in a
// zone as an instant (for `at: "2026-03-29T02:30"`). Croner does the zone
// arithmetic of cron expressions; this is only the one-shot's reading.

import { show } from "../internal/validate.ts";

const FORMATTERS = new Map<string, Intl.DateTimeFormat>();
const DAY_MS = 86_400_000;

/** The process's own time zone (what cron uses when no zone is given). */
export function localTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC";
}

function formatter(zone: string): Intl.DateTimeFormat {
  let f = FORMATTERS.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    if (FORMATTERS.size > 256) FORMATTERS.clear();
    FORMATTERS.set(zone, f);
  }
  return f;
}

/**
 * Throws a `RangeError` unless `value` names a time zone `Intl` knows
 * (`"Europe/Berlin"`, `"UTC"`); a `TypeError` unless it is a string.
 *
 * @returns The name as given.
 */
export function requireTimeZone(action: string, name: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 64) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be an IANA time zone name such as "Europe/Berlin": current value is ${
        show(value)
      }`,
    );
  }
  try {
    formatter(value);
  } catch {
    throw new RangeError(
      `Cannot ${action} as '${name}' must be an IANA time zone name such as "Europe/Berlin": current value is ${
        show(value)
      }`,
    );
  }
  return value;
}

/** The zone's offset from UTC at instant `t` (local minus UTC), ms. */
export function zoneOffsetMs(zone: string, t: number): number {
  const parts = formatter(zone).formatToParts(new Date(t));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const local = Date.UTC(
    get("year"),
    get("month") - 1,
    get("day"),
    get("hour"),
    get("minute"),
    get("second"),
  );
  return local - (Math.floor(t / 1000) * 1000);
}

/**
 * The instant of a local date-time in `zone`. A time that occurs twice (DST
 * fall back) takes its first occurrence; a time that does not exist (DST
 * spring forward) is shifted forward by the gap (02:30 in a one-hour gap
 * becomes 03:30), as java.time and Temporal's "compatible" mode do.
 *
 * @param localMs The local date-time written as if it were UTC (`Date.UTC(...)`).
 */
export function localToInstant(localMs: number, zone: string): number {
  const before = zoneOffsetMs(zone, localMs - DAY_MS);
  const after = zoneOffsetMs(zone, localMs + DAY_MS);
  const candidates = [localMs - before, localMs - after].sort((a, b) => a - b);
  for (const t of candidates) {
    if (zoneOffsetMs(zone, t) + t === localMs) return t;
  }
  // In a gap: read it with the offset in force before the gap.
  return localMs - before;
}

const LOCAL_ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/;

/**
 * Reads the instant of a one-shot: a `Date`, epoch ms, an ISO 8601 string
 * with `Z` or an offset, or a local ISO date-time (`"2026-03-29T02:30"`,
 * `"2026-12-24"`) read in `zone`.
 *
 * @returns Milliseconds since the epoch.
 * @throws {TypeError} when `value` is none of those or not a valid date.
 */
export function readInstant(action: string, name: string, value: unknown, zone: string): number {
  let t = NaN;
  if (typeof value === "number") t = value;
  else if (value instanceof Date) t = value.getTime();
  else if (typeof value === "string" && value.length <= 64) {
    const m = LOCAL_ISO.exec(value);
    if (m === null) {
      t = /\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/i.test(value)
        ? Date.parse(value)
        : NaN;
    } else {
      const [y, mo, d, h, mi, s, ms] = m.slice(1).map((x) => Number(x ?? 0)) as number[];
      const local = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!, Number((m[7] ?? "0").padEnd(3, "0")));
      // Date.UTC rolls 2026-02-30 over into March: a date that does not exist is refused.
      const check = new Date(local);
      if (
        check.getUTCMonth() === mo! - 1 && check.getUTCDate() === d! && h! < 24 && mi! < 60 &&
        s! < 60 && ms !== undefined
      ) {
        t = localToInstant(local, zone);
      }
    }
  }
  if (!Number.isFinite(t) || Math.abs(t) > 8.64e15) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be a valid Date, epoch ms or ISO 8601 string: current value is ${
        show(value)
      }`,
    );
  }
  return t;
}
