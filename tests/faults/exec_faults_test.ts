// Executor faults that could kill or hang the process, each in its own
// process on the real clock: tasks that throw, reject (also with nothing or a
// Symbol), never settle, overrun their budget, or fail while the executor
// closes, and a logger that throws. The 1 kHz task keeps running, every
// failure is counted in stats and in the metrics text, shutdown completes and
// the process exits 0 by itself. A hang fails on the 120 s safety net only;
// nothing here asserts a speed.
import { runFixture as run } from "./_run_fixture.ts";
import { assert, assertEquals } from "@std/assert";

const FIXTURE = new URL("./_fixtures/exec_faults.ts", import.meta.url);
const runFixture = (...args: string[]) => run(FIXTURE, ...args);

interface TaskFigures {
  runs: number;
  failures: number;
  state: string;
  tier: string;
}

function assertFailingTasks(report: Record<string, unknown>): void {
  const stats = report.stats as Record<string, TaskFigures>;
  const metrics = report.metrics as Record<string, number>;
  assert(stats.heartbeat!.runs >= 200, `the 1 kHz task ran ${stats.heartbeat!.runs} times`);
  assertEquals(stats.heartbeat!.failures, 0);
  for (const name of ["thrower", "rejecter", "silent", "odd"]) {
    const s = stats[name]!;
    assert(s.failures >= 1, `${name} failed ${s.failures} times`);
    // Every run failed; an async run may still be in flight at the read.
    assert(s.runs - s.failures <= 1, `${name}: ${s.runs} runs, ${s.failures} failures`);
    assertEquals(metrics[name], s.failures, `${name}: metrics text agrees with stats`);
  }
  assertEquals(stats.greedy!.state, "quarantined", "over budget every run");
  assertEquals(stats.stuck!.state, "running", "a body that never settles holds only itself");
  // Close reports exactly what was cancelled and what waited.
  assertEquals(report.close, { cancelled: 7, dropped: report.waiting });
  assertEquals(report.pending, 0, "no timer left after close");
  assertEquals(report.unhandled, []);
  // Failures are logged at most once per task per second of the run.
  const log = report.log as string[];
  const seconds = Math.ceil((report.elapsedMs as number) / 1000);
  for (const name of ["thrower", "rejecter", "silent", "odd"]) {
    const lines = log.filter((l) => l.startsWith(`Task "${name}" failed`)).length;
    assert(lines >= 1 && lines <= seconds + 1, `${name}: ${lines} lines in ${seconds} s`);
  }
}

Deno.test("Executor keeps a 1 kHz task running beside tasks that throw, reject and hang; the process exits 0", async () => {
  const { code, report, stderr } = await runFixture("failing-tasks");
  assertEquals(code, 0, stderr);
  assertFailingTasks(report);
  const log = report.log as string[];
  assert(log.includes('Task "odd" failed: Symbol(odd)'), log.join("\n"));
  assert(
    log.includes(
      'Task "silent" failed: Cannot finish the run of task "silent" as it threw or rejected without a reason',
    ),
    log.join("\n"),
  );
});

Deno.test("Executor contains a logger that throws on every line; the process exits 0", async () => {
  const { code, report, stderr } = await runFixture("throwing-logger");
  assertEquals(code, 0, stderr);
  assertFailingTasks(report);
});

Deno.test("Executor contains bodies that fail while it closes, and a closed bus; the process exits 0", async () => {
  const { code, report, stderr } = await runFixture("close-while-running");
  assertEquals(code, 0, stderr);
  assertEquals(report.beats, 200);
  assertEquals(report.inFlight, 1, "one run of the late task was in flight at close");
  assertEquals(report.late, { state: "cancelled", runs: 1, failures: 1 });
  assertEquals(report.closer, { state: "cancelled", runs: 1, failures: 1, retries: 0 });
  assertEquals([report.running, report.pending], [0, 0]);
  assertEquals(report.unhandled, []);
  const log = report.log as string[];
  assert(log.includes('Task "closer" failed: thrown while closing'), log.join("\n"));
  assert(
    log.includes(
      'Cannot publish the budget event of task "late" on the bus: Cannot get a topic as the EventBus is closed',
    ),
    log.join("\n"),
  );
});
