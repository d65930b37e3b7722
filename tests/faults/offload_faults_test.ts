// Each offload fault that could kill or hang the process runs in a process of
// its own (./_fixtures/offload_fault.ts): the test asserts that the other
// jobs kept running, that the fault was counted in stats and metrics, that
// the pool closed, and that the process then ended with exit code 0 on its
// own. The timeout below is only a safety net that fails the test.
import { assertEquals, assertMatch, assertStringIncludes } from "@std/assert";

const FIXTURE = new URL("./_fixtures/offload_fault.ts", import.meta.url);
const SQUARES = {
  before: [1, 4, 9, 16],
  during: [25, 36, 49, 64],
  after: [81, 100, 121, 144],
};

interface FaultReport {
  before: number[];
  during: number[];
  failure: { name?: string; code?: string; message?: string; value?: unknown };
  after: number[];
  stats: Record<string, number | undefined>;
  metrics: string[];
  logged: string[];
  close: { drained: number; cutOff: number };
}

async function runFault(fault: string): Promise<FaultReport> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-config",
      "--allow-read=.",
      "--v8-flags=--max-old-space-size=256",
      FIXTURE.pathname,
      fault,
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const out = new TextDecoder().decode(stdout);
  const err = new TextDecoder().decode(stderr);
  assertEquals(code, 0, `the process ended with code ${code}\nstdout: ${out}\nstderr: ${err}`);
  return JSON.parse(out.trim().split("\n").at(-1)!) as FaultReport;
}

function assertOtherWorkRan(report: FaultReport): void {
  assertEquals(
    [report.before, report.during, report.after],
    [SQUARES.before, SQUARES.during, SQUARES.after],
  );
  assertEquals(report.stats.completed, 12);
  assertEquals(report.stats.workersAlive, 2, "a replaced worker is running again");
  assertEquals(report.close, { drained: 0, cutOff: 0 });
}

function metric(report: FaultReport, line: string): void {
  assertEquals(
    report.metrics.includes(line),
    true,
    `missing "${line}" in:\n${report.metrics.join("\n")}`,
  );
}

Deno.test("OffloadPool contains a transfer list that is not a list: the submit rejects, the pool runs on", async () => {
  const report = await runFault("transfer");
  assertOtherWorkRan(report);
  assertEquals(report.failure.name, "TypeError");
  assertStringIncludes(report.failure.message!, "'transfer'");
  assertEquals([report.stats.submitted, report.stats.failed], [12, 0], "nothing was dispatched");
  metric(report, 'chronetix_offload_jobs_total{pool="faults",outcome="completed"} 12');
});

Deno.test("OffloadPool contains a job that runs out of heap: only its worker dies", async () => {
  const report = await runFault("oom");
  assertOtherWorkRan(report);
  assertEquals([report.failure.name, report.failure.code], [
    "OffloadJobError",
    "E_WORKER_OUT_OF_MEMORY",
  ]);
  assertStringIncludes(report.failure.message!, "32 MB");
  assertEquals(
    [report.stats.crashed, report.stats.oomKills, report.stats.workersReplaced],
    [1, 1, 1],
  );
  metric(report, 'chronetix_offload_jobs_total{pool="faults",outcome="crashed"} 1');
  metric(report, 'chronetix_offload_oom_kills_total{pool="faults"} 1');
  assertEquals(report.logged.length, 1, report.logged.join("\n"));
  assertMatch(report.logged[0]!, /replaced a worker as it ran out of heap/);
});

Deno.test("OffloadPool contains a job stuck in a loop: it times out, and the process still exits", async () => {
  const report = await runFault("stuck");
  assertOtherWorkRan(report);
  assertEquals([report.failure.name, report.failure.code], ["OffloadTimeoutError", "E_TIMEOUT"]);
  assertEquals(
    [report.stats.timedOut, report.stats.stuckWorkers, report.stats.workersReplaced],
    [1, 1, 1],
  );
  metric(report, 'chronetix_offload_jobs_total{pool="faults",outcome="timeout"} 1');
  metric(report, 'chronetix_offload_stuck_workers_total{pool="faults"} 1');
  assertMatch(report.logged.join("\n"), /replaced a worker as it was stuck in job "spin"/);
});

Deno.test("OffloadPool contains an async job stuck after an await: its worker is replaced as not answering", async () => {
  const report = await runFault("stuck-async");
  assertOtherWorkRan(report);
  assertEquals([report.failure.name, report.failure.code], ["OffloadTimeoutError", "E_TIMEOUT"]);
  assertEquals(
    [report.stats.timedOut, report.stats.stuckWorkers, report.stats.workersReplaced],
    [1, 1, 1],
  );
  metric(report, 'chronetix_offload_stuck_workers_total{pool="faults"} 1');
  assertMatch(report.logged.join("\n"), /replaced a worker as it stopped answering/);
});

for (const [fault, how] of [["close-self", "self.close()"], ["exit", "Deno.exit(3)"]]) {
  Deno.test(`OffloadPool fails a job whose worker ends itself (${how}) at once, as crashed`, async () => {
    const report = await runFault(fault!);
    assertOtherWorkRan(report);
    assertEquals([report.failure.name, report.failure.code], [
      "OffloadJobError",
      "E_WORKER_CRASHED",
    ]);
    assertEquals(
      [report.stats.crashed, report.stats.timedOut, report.stats.stuckWorkers],
      [1, 0, 0],
    );
    assertEquals(report.stats.workersReplaced, 1);
    metric(report, 'chronetix_offload_jobs_total{pool="faults",outcome="crashed"} 1');
    metric(report, 'chronetix_offload_workers_replaced_total{pool="faults"} 1');
  });
}
