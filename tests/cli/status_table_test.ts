import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { Kernel } from "../../src/kernel.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { DataPort } from "../../src/data/data_port.ts";
import { WOULD_BLOCK } from "../../src/data/backpressure.ts";
import { FaultMonitor } from "../../src/sovd/fault_monitor.ts";
import { createStatusTable, startStatusTable } from "../../src/cli/status_table.ts";
import { recordingLogger } from "../_util/logger.ts";

const fixture = (file: string) => new URL(`../plugin/_fixtures/${file}`, import.meta.url).href;

/** A kernel on a virtual clock with a 100 Hz task, a ticker and a crasher plugin (inline). */
async function setUp() {
  const clock = new VirtualClock();
  const kernel = await Kernel.start({ clock, logger: recordingLogger() });
  kernel.periodic({ name: "fast", periodMs: 10, run: () => {} });
  kernel.periodic({ name: "late", periodMs: 100, deadlineMs: 1, run: () => clock.spend(2) });
  await kernel.plugins.load({
    name: "ticker",
    version: "2.0.0",
    entry: fixture("ticker.ts"),
    isolation: "inline",
    capabilities: ["publish"],
  });
  await kernel.plugins.load({
    name: "crasher",
    version: "1.0.0",
    entry: fixture("crasher.ts"),
    isolation: "inline",
    restart: { maxRetries: 0, autoUnloadFailed: true },
  });
  const port = new DataPort({ credit: 8 });
  const monitor = new FaultMonitor({ clock, wallClock: () => clock.now(), healAfterMs: 500 });
  let hot = true;
  monitor.addDetector({
    name: "test",
    detect: (report) => {
      if (!hot) return;
      report({
        entityId: "kernel",
        entityType: "component",
        code: "HOT",
        name: "Hot",
        description: "It is hot",
        severity: 2,
      });
    },
  });
  return { clock, kernel, port, monitor, cool: () => void (hot = false) };
}

Deno.test("createStatusTable() prints rates, states, ports and faults once per tick", async () => {
  const { clock, kernel, port, monitor, cool } = await setUp();
  const lines: string[] = [];
  const table = createStatusTable(kernel, {
    print: (l) => lines.push(l),
    dataPorts: new Map([["frames", port]]),
    faults: monitor,
  });
  for (let i = 0; i < 5; i++) port.send(new Uint8Array(4));
  for (let i = 0; i < 4; i++) {
    const meta = port.receive();
    if (i < 3 && meta !== WOULD_BLOCK) port.recycle(meta);
  }
  monitor.evaluate();
  clock.advance(1000);
  await kernel.plugins.whenIdle();
  clock.advance(1000);
  await kernel.plugins.whenIdle();
  table.tick();

  assert(lines[0]!.startsWith("NAME") === false && lines[0]!.includes("NAME"));
  assertEquals(lines[1], "-- 2 s");
  const fast = lines.find((l) => l.startsWith("task") && l.includes(" fast "))!;
  assertStringIncludes(fast, "100/s");
  assertStringIncludes(fast, "2.00 ms"); // start p99: behind "late", which spends 2 ms
  assertStringIncludes(fast, "monitor");
  const late = lines.find((l) => l.startsWith("task") && l.includes(" late "))!;
  assertStringIncludes(late, "10/s");
  assertEquals(late.split(/\s+/)[6], "20"); // misses: every run of 2 s
  assert(
    lines.some((l) => l.startsWith("task") && l.includes("ticker/tick") && l.includes("100/s")),
  );
  const ticker = lines.find((l) => l.startsWith("plugin") && l.includes("ticker@2.0.0"))!;
  assertStringIncludes(ticker, "started");
  assertStringIncludes(ticker, "restarts 0 give-ups 0 zombies 0");
  const crasher = lines.find((l) => l.startsWith("plugin") && l.includes("crasher@1.0.0"))!;
  assertStringIncludes(crasher, "unloaded");
  assertStringIncludes(crasher, "give-ups 1");
  const frames = lines.find((l) => l.startsWith("port") && l.includes("frames"))!;
  assertStringIncludes(frames, "backlog");
  assertStringIncludes(frames, "2/s");
  assertStringIncludes(frames, "util 25% peak 63% would-block 0");
  const f = lines.find((l) => l.startsWith("faults"))!;
  assertStringIncludes(f, "1 active, 0 passive");
  assertStringIncludes(f, "raised 1 healed 0");

  // The next tick: rates over the last interval only; a healed fault is counted.
  lines.length = 0;
  cool();
  monitor.evaluate();
  clock.advance(600);
  monitor.evaluate();
  clock.advance(400);
  table.tick();
  assertEquals(lines[0], "-- 3 s");
  assertStringIncludes(lines.find((l) => l.includes(" fast "))!, "100/s");
  assertStringIncludes(lines.find((l) => l.startsWith("port"))!, "0/s");
  assertStringIncludes(lines.find((l) => l.startsWith("faults"))!, "raised 1 healed 1");

  table.capture();
  await kernel.shutdown({ graceMs: 100 });
  const summary = table.summary();
  assertEquals(summary[0], "Summary after 3.0 s");
  assert(summary.some((l) => l.startsWith("  task fast: 300 runs")));
  assert(summary.some((l) => l.startsWith("  task late: 30 runs") && l.includes("30 misses")));
  assert(
    summary.some((l) =>
      l ===
        "  plugin crasher@1.0.0: unloaded, 0 restarts, 1 give-ups, 1 kills, 0 zombies, 0 reloads"
    ),
  );
  assert(
    summary.some((l) => l.startsWith("  port frames: 5 frames sent, 4 received, 0 would-block")),
  );
  assert(summary.some((l) => l === "  faults: 0 active, 0 passive; 1 raised, 1 healed in all"));
  port.close();
});

Deno.test("createStatusTable() repeats the header every headerEvery ticks", async () => {
  const clock = new VirtualClock();
  await using kernel = await Kernel.start({ clock, logger: recordingLogger() });
  const lines: string[] = [];
  const table = createStatusTable(kernel, { print: (l) => lines.push(l), headerEvery: 2 });
  for (let i = 0; i < 5; i++) {
    clock.advance(1000);
    table.tick();
  }
  assertEquals(lines.filter((l) => l.includes("NAME")).length, 3);
  assertEquals(lines.filter((l) => l.startsWith("-- ")), [
    "-- 1 s",
    "-- 2 s",
    "-- 3 s",
    "-- 4 s",
    "-- 5 s",
  ]);
});

Deno.test("createStatusTable() rejects a bad option, naming it", async () => {
  await using kernel = await Kernel.start({ clock: new VirtualClock(), logger: recordingLogger() });
  assertThrows(
    () => createStatusTable(kernel, { print: 3 as never }),
    TypeError,
    "'options.print'",
  );
  assertThrows(
    () => createStatusTable(kernel, { headerEvery: 0 }),
    RangeError,
    "'options.headerEvery'",
  );
});

Deno.test("startStatusTable() ticks on the kernel's driver until stop(), then sums up", async () => {
  const clock = new VirtualClock();
  await using kernel = await Kernel.start({ clock, logger: recordingLogger() });
  kernel.periodic({ name: "work", periodMs: 100, run: () => {} });
  const port = new DataPort({ credit: 4 });
  const lines: string[] = [];
  const status = startStatusTable(
    { kernel, server: undefined, dataPorts: new Map([["p", port]]) },
    { intervalMs: 500, print: (l) => lines.push(l) },
  );
  clock.advance(1000);
  assertEquals(lines.filter((l) => l.startsWith("-- ")), ["-- 1 s", "-- 1 s"]);
  assertStringIncludes(lines.findLast((l) => l.includes(" work "))!, "10/s");
  clock.advance(1000);
  status.stop();
  status.stop();
  clock.advance(1000);
  assertEquals(lines.filter((l) => l.startsWith("-- ")).length, 4);
  assertEquals(lines.some((l) => l.startsWith("faults")), false);
  const summary = status.summary();
  assertEquals(summary[0], "Summary after 2.0 s");
  assert(summary.some((l) => l.startsWith("  task work: 20 runs")));
  assert(summary.some((l) => l.startsWith("  port p: 0 frames sent")));
  assertThrows(
    () =>
      startStatusTable({ kernel, server: undefined, dataPorts: new Map() }, {
        intervalMs: 0,
        print: () => {},
      }),
    RangeError,
    "'options.intervalMs'",
  );
  port.close();
});
