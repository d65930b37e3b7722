import { assertEquals, assertThrows } from "@std/assert";
import {
  BUDGET_TIERS,
  BudgetTracker,
  resolveBudgetPolicy,
  TIER_LEVEL,
} from "../../src/exec/budget.ts";

Deno.test("TIER_LEVEL gives each tier its index in BUDGET_TIERS, mildest first", () => {
  assertEquals(BUDGET_TIERS, ["monitor", "warn", "yield", "isolate"]);
  for (const [i, tier] of BUDGET_TIERS.entries()) assertEquals(TIER_LEVEL[tier], i);
  assertEquals(Object.isFrozen(TIER_LEVEL), true);
});

Deno.test("BudgetTracker.observe() climbs one tier at a time and stops at isolate", () => {
  const tracker = new BudgetTracker({ escalateAfter: 2, recoverAfter: 2, cooldownMs: 0 });
  const tiers: string[] = [];
  const steps: number[] = [];
  for (let now = 0; now < 10; now++) {
    steps.push(tracker.observe(5, 1, now));
    tiers.push(tracker.tier);
    assertEquals(tracker.level, TIER_LEVEL[tracker.tier]);
  }
  assertEquals(tiers, [
    "monitor",
    "warn",
    "warn",
    "yield",
    "yield",
    "isolate",
    "isolate",
    "isolate",
    "isolate",
    "isolate",
  ]);
  assertEquals(steps, [0, 1, 0, 1, 0, 1, 0, 0, 0, 0], "no step past isolate");
});

Deno.test("BudgetTracker.observe() steps down after good runs and stops at monitor", () => {
  const tracker = new BudgetTracker({ escalateAfter: 1, recoverAfter: 2, cooldownMs: 0 });
  tracker.reset("yield", 0);
  assertEquals(tracker.level, TIER_LEVEL.yield);
  const steps: number[] = [];
  for (let now = 1; now <= 8; now++) steps.push(tracker.observe(0.5, 1, now));
  assertEquals(steps, [0, -1, 0, -1, 0, 0, 0, 0], "no step below monitor");
  assertEquals(tracker.tier, "monitor");
});

Deno.test("BudgetTracker.observe() waits out the cooldown before it moves again", () => {
  const tracker = new BudgetTracker({ escalateAfter: 1, recoverAfter: 1, cooldownMs: 10 });
  assertEquals(tracker.observe(2, 1, 0), 1);
  assertEquals(tracker.observe(2, 1, 5), 0, "still cooling down");
  assertEquals(tracker.observe(2, 1, 10), 1);
  assertEquals(tracker.tier, "yield");
});

Deno.test("resolveBudgetPolicy() fills defaults and rejects out-of-range fields", () => {
  assertEquals(resolveBudgetPolicy(), { escalateAfter: 3, recoverAfter: 20, cooldownMs: 1000 });
  assertThrows(
    () => resolveBudgetPolicy({ recoverAfter: 0 }),
    RangeError,
    "Cannot set the budget policy as 'policy.recoverAfter' must be an integer in [1, 1000000000]",
  );
  assertThrows(() => resolveBudgetPolicy({ cooldownMs: -1 }), RangeError, "'policy.cooldownMs'");
  assertThrows(
    () =>
      resolveBudgetPolicy(
        { escalateAfter: "3" as unknown as number },
        "create an Executor",
        "budget",
      ),
    TypeError,
    "Cannot create an Executor as 'budget.escalateAfter' must be a finite number",
  );
  assertThrows(
    () => resolveBudgetPolicy(null as unknown as undefined, "create an Executor", "budget"),
    TypeError,
    "Cannot create an Executor as 'budget' must be an object: current value is null",
  );
});
