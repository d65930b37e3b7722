// Time-layer faults that could kill or hang the process, each in its own
// process on the real clock: the fault is contained and counted, the other
// work keeps running, shutdown completes and the process exits by itself.
import { runFixture as run } from "./_run_fixture.ts";
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { MAX_BURST_TICKS } from "../../src/time/timer_wheel.ts";

const FIXTURE = new URL("./_fixtures/time_faults.ts", import.meta.url);
const runFixture = (...args: string[]) => run(FIXTURE, ...args);

Deno.test("Driver survives timer callbacks that return rejected promises and the process exits 0", async () => {
  const { code, report, stderr } = await runFixture("rejecting-callback");
  assertEquals(code, 0, stderr);
  assertEquals(report.otherWork, 20, "the healthy loop ran all its ticks");
  const faultyFires = report.faultyFires as number;
  assert(faultyFires >= 1, `faulty fires: ${faultyFires}`);
  // Every rejection was counted: the async periodic one and the one-shot.
  assertEquals(report.callbackErrors, faultyFires + 1);
  assertEquals(report.metrics, [
    `chronetix_timer_callback_errors_total{driver="faulty"} ${faultyFires + 1}`,
  ]);
  const log = report.log as string[];
  assert(log.length >= 1 && log.length <= 2, `rate-limited log: ${log.length} lines`);
  assert(log[0]!.startsWith('Timer callback of "faulty" rejected (timer '), log[0]);
  assertEquals(report.pending, 0);
});

Deno.test("Driver and TimerWheel reject periods that cannot make progress and bound bursts; the process exits 0", async () => {
  const { code, report, stderr } = await runFixture("tiny-period");
  assertEquals(code, 0, stderr);
  assertEquals(report.otherWork, 20);
  const errors = report.errors as string[];
  assertStringIncludes(
    errors[0]!,
    "'periodMs' must be >= 0.001 (MIN_PERIOD_MS): current value is 1e-15",
  );
  assertStringIncludes(
    errors[1]!,
    "'periodMs' must be >= 0.001 (MIN_PERIOD_MS): current value is 1e-12",
  );
  assertStringIncludes(errors[2]!, "'deadlineMs' must be in [");
  assertEquals(report.burstFires, MAX_BURST_TICKS + 1);
  assertEquals((report.burstFires as number) + (report.skippedTicks as number), 1e12 + 1);
  assertEquals(report.pending, 0);
});
