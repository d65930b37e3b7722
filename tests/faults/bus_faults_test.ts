// Bus faults that could kill or hang the process, each in its own process:
// the fault is contained and counted, the other work keeps running, and the
// process exits by itself.
import { runFixture as run } from "./_run_fixture.ts";
import { assert, assertEquals } from "@std/assert";

const FIXTURE = new URL("./_fixtures/bus_faults.ts", import.meta.url);
const runFixture = (...args: string[]) => run(FIXTURE, ...args);

Deno.test("EventBus survives an onHandlerError hook that throws, also for async rejections", async () => {
  const { code, report, stderr } = await runFixture("handler-error-hook");
  assertEquals(code, 0, stderr);
  assertEquals(report.otherWork, 20);
  assertEquals(report.healthy, 20, "the healthy handler got every event");
  assertEquals(report.handlerErrors, 40);
  assertEquals(report.hookErrors, 40);
  assertEquals(report.metrics, [
    'chronetix_bus_published_total{bus="faulty",topic="jobs"} 20',
    'chronetix_bus_handler_errors_total{bus="faulty",topic="jobs"} 40',
    'chronetix_bus_hook_errors_total{bus="faulty"} 40',
  ]);
  const log = report.log as string[];
  assert(log.length >= 1 && log.length < 40, `rate-limited: ${log.length} lines`);
  assert(log[0]!.startsWith('The onHandlerError hook of bus "faulty" threw: hook broke'), log[0]);
});

Deno.test("EventBus survives an onQueued hook that throws: nothing is stranded", async () => {
  const { code, report, stderr } = await runFixture("queued-hook");
  assertEquals(code, 0, stderr);
  assertEquals(report.otherWork, 20);
  assertEquals(report.delivered, 40);
  assertEquals(report.queued, 0);
  assertEquals(report.hookErrors, 20);
  assertEquals(
    (report.metrics as string[]).filter((l) => l.startsWith("chronetix_bus_hook_errors_total")),
    ['chronetix_bus_hook_errors_total{bus="faulty"} 20'],
  );
});

Deno.test("EventBus.drain() lets a host's other work run while a handler re-enqueues forever", async () => {
  const { code, report, stderr } = await runFixture("requeue-loop");
  assertEquals(code, 0, stderr);
  assertEquals(report.otherWork, 20);
  const delivered = report.delivered as number;
  assert(delivered >= 1, `delivered ${delivered}`);
  assertEquals(report.published, delivered);
  assertEquals(report.drains, delivered, "one event per drain: each drain returned");
});
