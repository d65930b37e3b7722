// Seeded fuzz of the task-handle verbs on a periodic task (pause, resume,
// setPeriod, runNow, nextRuns), against a reference model: the releases the
// task makes (their `ctx.release`) must be exactly the model's, a call must
// throw exactly when the model says it is invalid (with a clean error), and
// nextRuns() must list the model's next releases.

import { assertEquals } from "@std/assert";
import { check, cleanCall, fc, hostile } from "./_hostile.ts";
import { Executor } from "../../src/exec/executor.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import type { Logger } from "../../src/logger.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

const SILENT: Logger = { error() {}, warn() {}, info() {} };

type Op =
  | { kind: "advance"; ms: number }
  | { kind: "pause" }
  | { kind: "resume" }
  | { kind: "runNow" }
  | { kind: "nextRuns"; count: number }
  | { kind: "setPeriod"; ms: unknown };

/** The reference: a periodic task's grid, as the handle documents it. */
class Model {
  now = 0;
  period: number;
  next: number;
  anchor: number;
  last = NaN;
  paused = false;
  releases: number[] = [];

  constructor(period: number) {
    this.period = period;
    this.next = period;
    this.anchor = period;
  }

  advance(ms: number): void {
    const target = this.now + ms;
    while (!this.paused && this.next <= target) {
      this.releases.push(this.next);
      this.last = this.next;
      this.next += this.period;
    }
    this.now = target;
  }

  pause(): boolean {
    if (this.paused) return false;
    this.paused = true;
    this.last = NaN;
    return true;
  }

  /** `false` when the call must throw. */
  resume(): boolean {
    if (!this.paused) return false;
    this.paused = false;
    const { anchor, period, now } = this;
    if (anchor > now) this.next = anchor;
    else this.next = anchor + (Math.floor((now - anchor) / period) + 1) * period;
    this.anchor = this.next;
    return true;
  }

  setPeriod(p: unknown, horizon: number): boolean {
    if (typeof p !== "number" || !Number.isFinite(p) || p < 0.001) return false;
    const base = Number.isFinite(this.last) ? this.last : this.now;
    if (!(Math.max(this.now, base + p) <= horizon)) return false;
    const next = Math.max(this.now, base + p);
    this.period = p;
    this.anchor = next;
    this.last = NaN;
    if (!this.paused) this.next = next;
    return true;
  }

  nextRuns(count: number): number[] {
    if (this.paused) return [];
    return Array.from({ length: count }, (_, k) => this.next + k * this.period);
  }
}

const OP: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      ms: fc.integer({ min: 0, max: 40 }),
    }),
    weight: 4,
  },
  fc.record({ kind: fc.constant("pause" as const) }),
  fc.record({ kind: fc.constant("resume" as const) }),
  fc.record({ kind: fc.constant("runNow" as const) }),
  fc.record({ kind: fc.constant("nextRuns" as const), count: fc.integer({ min: 1, max: 5 }) }),
  fc.record({
    kind: fc.constant("setPeriod" as const),
    ms: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 15 }), weight: 4 }, hostile()),
  }),
);

Deno.test("TaskHandle verbs on a periodic task follow the reference model", () => {
  check(
    fc.property(fc.integer({ min: 1, max: 12 }), fc.array(OP, { maxLength: 30 }), (period, ops) => {
      const clock = new VirtualClock();
      using executor = new Executor({ clock, logger: SILENT });
      const model = new Model(period);
      const seen: number[] = [];
      const task = executor.periodic({
        name: "p",
        periodMs: period,
        queueCap: 1 << 20,
        run: (ctx) => void seen.push(ctx.release),
      });
      for (const op of ops) {
        switch (op.kind) {
          case "advance":
            clock.advance(op.ms);
            model.advance(op.ms);
            break;
          case "pause":
            assertEquals(task.pause(), model.pause());
            break;
          case "resume": {
            const ok = model.resume();
            const threw = cleanCall(() => (task.resume(), true)) === undefined;
            assertEquals(threw, !ok, "resume throws exactly when not paused");
            break;
          }
          case "runNow":
            task.runNow();
            model.releases.push(model.now);
            clock.advance(0);
            model.advance(0); // a timer release due now comes after the one admitted first
            break;
          case "nextRuns":
            assertEquals(task.nextRuns(op.count), model.nextRuns(op.count));
            break;
          case "setPeriod": {
            const ok = model.setPeriod(op.ms, executor.driver.wheel.maxDeadlineMs);
            const threw = cleanCall(() => (task.setPeriod(op.ms as Loose), true), ["periodMs"]) ===
              undefined;
            assertEquals(threw, !ok, `setPeriod(a ${typeof op.ms})`);
            break;
          }
        }
      }
      assertEquals(seen, model.releases);
      assertEquals(task.state === "paused", model.paused && seen.length >= 0);
    }),
  );
});
