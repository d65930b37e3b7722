import { assertEquals, assertThrows } from "@std/assert";
import { farDelayMs, planWake, precisionTuning } from "../../src/time/precision.ts";

Deno.test("planWake() picks the mode by distance to the deadline", async (t) => {
  await t.step("balanced", () => {
    const tuning = precisionTuning("balanced");
    assertEquals(planWake(Infinity, tuning), "idle");
    assertEquals(planWake(0, tuning), "due");
    assertEquals(planWake(-3, tuning), "due");
    assertEquals(planWake(tuning.spinMs, tuning), "imminent");
    assertEquals(planWake(tuning.spinMs + 0.01, tuning), "near");
    assertEquals(planWake(tuning.farAboveMs, tuning), "near");
    assertEquals(planWake(tuning.farAboveMs + 0.01, tuning), "far");
  });
  await t.step("efficient never spins and never uses the waker", () => {
    const tuning = precisionTuning("efficient");
    for (const d of [0.001, 0.3, 1, 5, 50, 5000]) assertEquals(planWake(d, tuning), "far");
  });
  await t.step("precise hands over earlier than balanced", () => {
    const balanced = precisionTuning("balanced");
    const precise = precisionTuning("precise");
    assertEquals(planWake(40, balanced), "far");
    assertEquals(planWake(40, precise), "near");
  });
  await t.step("precise blocks within its window and spins within the block's lead", () => {
    const precise = precisionTuning("precise");
    assertEquals(planWake(precise.blockMs, precise), "block");
    assertEquals(planWake(precise.blockMs + 0.01, precise), "near");
    assertEquals(planWake(1, precise, undefined, 0.5), "near");
    assertEquals(planWake(0.4, precise, undefined, 0.5), "block");
    assertEquals(planWake(precise.blockLeadMs, precise), "imminent");
    assertEquals(planWake(0.2, precise, 0.1), "imminent");
    assertEquals(planWake(1, precisionTuning("balanced"), undefined, 0), "near");
  });
});

Deno.test("farDelayMs() stops short of the deadline by the guard, in whole milliseconds", () => {
  const balanced = precisionTuning("balanced");
  assertEquals(farDelayMs(100.7, balanced), Math.floor(100.7 - balanced.farGuardMs));
  assertEquals(farDelayMs(0.2, balanced), 1);
  const efficient = precisionTuning("efficient");
  assertEquals(farDelayMs(2.2, efficient), 3); // rounds up: one wake-up, not two
  assertEquals(farDelayMs(1e12, efficient), 2 ** 31 - 1);
});

Deno.test("precisionTuning() applies overrides and rejects bad ones", () => {
  assertEquals(precisionTuning("precise", { spinMs: 0.5 }).spinMs, 0.5);
  assertThrows(
    () => precisionTuning("turbo" as "precise"),
    TypeError,
    `'profile' must be one of "efficient", "balanced", "precise": current value is "turbo"`,
  );
  assertThrows(() => precisionTuning("balanced", { nearLeadMs: -1 }), RangeError, "'nearLeadMs'");
  assertEquals(precisionTuning("precise", { blockMs: 1 }).blockMs, 1);
  assertThrows(() => precisionTuning("precise", { blockMs: -2 }), RangeError, "'blockMs'");
  assertThrows(
    () => precisionTuning("precise", { blockMs: 1, blockLeadMs: 1.5 }),
    RangeError,
    "Cannot tune the driver as 'blockLeadMs' must be <= 'blockMs': current values are 1.5 and 1",
  );
});
