/**
 * Wall-clock schedules: cron expressions (5 or 6 fields, nicknames) in IANA
 * time zones with DST-correct fires, one-shots at a date, and intervals
 * aligned to the wall clock. Each is a task on the {@linkcode Executor}
 * (deadline, priority, caps, budget, stats, metrics), timed on the
 * monotonic driver and re-checked against a {@linkcode WallClock}, so a
 * wall-clock step or a suspend moves the next fire where it belongs.
 * Croner parses the expressions and does the zone arithmetic.
 *
 * @example Daily at 02:30 in Berlin, across the spring-forward night
 * ```ts
 * import { cron, Executor } from "@chronetix/core";
 * import { VirtualClock, VirtualWallClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * new VirtualWallClock(clock, "2026-03-28T00:00:00Z");
 * using executor = new Executor({ clock });
 * const fired: string[] = [];
 * cron(executor, {
 *   name: "backup",
 *   cron: "30 2 * * *",
 *   timezone: "Europe/Berlin",
 *   run: (ctx) => void fired.push(new Date(ctx.event.scheduledMs).toISOString()),
 * });
 * clock.advance(3 * 86_400_000);
 * assertEquals(fired, [
 *   "2026-03-28T01:30:00.000Z", // 02:30 CET
 *   "2026-03-29T01:00:00.000Z", // 02:30 does not exist: 03:00 CEST, right after the gap
 *   "2026-03-30T00:30:00.000Z", // 02:30 CEST
 * ]);
 * ```
 *
 * @module
 */
export { at, cron } from "./schedule.ts";
export { alignedInterval, type AlignedIntervalOptions } from "./aligned_interval.ts";
export type {
  AtTaskOptions,
  CronTaskOptions,
  ScheduleHandle,
  ScheduleRun,
  WallScheduleOptions,
} from "./schedule_types.ts";
