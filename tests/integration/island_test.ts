// Islands on real threads (node:worker_threads), through the public API: a
// clean shutdown with its report, values and frames both ways, contained
// task failures, and crashes with their causes (a thread that ends, one out
// of heap, a module that fails to load, a hang). Nothing here asserts a
// timing bound; waits are on signals or conditions.

import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { Island, IslandError, Kernel, type Logger } from "../../mod.ts";

const FIXTURES = new URL("../island/_fixtures/", import.meta.url);

/** A logger whose first error line resolves `crashed`. */
function signallingLogger() {
  const crashed = Promise.withResolvers<string>();
  const logger: Logger = { error: (m) => crashed.resolve(m), warn() {}, info() {} };
  return { crashed: crashed.promise, logger };
}

/** Waits until `condition()` holds, looking again every few ms (no bound asserted). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

Deno.test("Kernel.island() runs tasks on their own thread: values and frames both ways, a graceful shutdown", async () => {
  const kernel = await Kernel.start({ profile: "efficient" });
  const island = await kernel.island({
    name: "echo",
    module: new URL("counter.ts", FIXTURES),
    tasks: [{ name: "tick", periodMs: 1 }],
    values: { in: ["offset"], out: ["ticks", "inits", "disposed"] },
    rings: { in: { slots: 8, slotSize: 8 }, out: { slots: 8, slotSize: 8 } },
  });
  island.values.in!.write({ offset: 100 });
  const version = island.values.in!.version;
  assert(version > 0);
  const sent = [1, 2, 3];
  for (const b of sent) assertEquals(typeof island.rings.in!.send(Uint8Array.of(b)), "number");
  const echoed: number[] = [];
  while (echoed.length < sent.length) {
    await island.rings.out!.whenReadable();
    island.rings.out!.poll((slot, length) => {
      assertEquals(length, 1);
      echoed.push(slot[0]!);
    });
  }
  // The offset was written before the frames were sent: every echo has it.
  assertEquals(echoed, [101, 102, 103]);
  assertEquals(island.values.out!.get("inits"), 1);
  const stats = kernel.stats().islands[0]!;
  assertEquals([stats.name, stats.state, stats.crashes], ["echo", "running", 0]);
  assert(stats.perTask[0]!.runs > 0);
  assertEquals(stats.perTask[0]!.kind, "periodic");
  assertStringIncludes(kernel.metrics.exposeText(), 'chronetix_island_up{island="echo"} 1');
  const report = await kernel.shutdown();
  assertEquals(report.graceful, true);
  const closed = report.islands[0]!;
  assertEquals([closed.name, closed.graceful, closed.terminated], ["echo", true, false]);
  assertEquals(closed.runs, island.values.out!.get("ticks"));
  assertEquals(island.values.out!.get("disposed"), 1);
  assertEquals(island.state, "closed");
  assertEquals(island.rings.out!.closed, true);
});

Deno.test("Island contains a task that throws: counted, kept as lastError, the island runs on", async () => {
  await using island = await Island.start({
    name: "contained",
    module: new URL("faults.ts", FIXTURES),
    tasks: [{ name: "throws", periodMs: 1 }, { name: "hog", periodMs: 1e9 }],
    logger: { error() {}, warn() {}, info() {} },
  });
  await until(() => island.stats().failures >= 3);
  const task = island.stats().perTask[0]!;
  assertEquals(task.lastError?.message, "sensor offline");
  assertStringIncludes(task.lastError?.stack ?? "", "faults.ts");
  assertEquals(island.state, "running");
});

Deno.test("Island reports a thread that ended with its cause and restarts it by policy", async () => {
  const { crashed, logger } = signallingLogger();
  await using island = await Island.start({
    name: "exits",
    module: new URL("faults.ts", FIXTURES),
    tasks: [{ name: "exits", periodMs: 1 }],
    values: { out: ["starts"] },
    restart: { policy: "on-failure", maxRestarts: 1, backoffMs: 0 },
    logger,
  });
  assertStringIncludes(await crashed, "exit code 3");
  assertEquals(island.stats().lastErrorCode, "E_ISLAND_CRASHED");
  await until(() => island.values.out!.get("starts") === 2 && island.state === "running");
  assertEquals([island.stats().crashes, island.stats().restarts], [1, 1]);
  const report = await island.close();
  assertEquals(report.graceful, true);
  assertEquals(report.restarts, 1);
});

Deno.test("Island reports a thread out of heap as E_ISLAND_OUT_OF_MEMORY, the process unharmed", async () => {
  const { crashed, logger } = signallingLogger();
  await using island = await Island.start({
    name: "hog",
    module: new URL("faults.ts", FIXTURES),
    tasks: [{ name: "hog", periodMs: 1 }],
    maxHeapMb: 32,
    restart: { policy: "never" },
    logger,
  });
  assertStringIncludes(await crashed, "ran out of heap (the limit is 32 MB)");
  assertEquals(island.stats().lastErrorCode, "E_ISLAND_OUT_OF_MEMORY");
  assertEquals(island.state, "failed");
});

Deno.test("Island.start() rejects when the module does not export a task", async () => {
  const error = await assertRejects(
    () =>
      Island.start({
        name: "missing",
        module: "data:text/javascript,export function other() {}",
        tasks: [{ name: "loop", periodMs: 1 }],
        logger: { error() {}, warn() {}, info() {} },
      }),
    IslandError,
  );
  assertEquals(error.code, "E_ISLAND_LOAD_FAILED");
  assertStringIncludes(error.message, 'does not export a function "loop"');
});

Deno.test("Island declares a task stuck in synchronous code hung and terminates its thread (own process)", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-read=.", new URL("hang_main.ts", FIXTURES).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "{}";
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  const { line, stats, report } = JSON.parse(stdout);
  assertStringIncludes(line, 'task "hangs" stayed in one run for over 50 ms');
  assertEquals(stats.lastErrorCode, "E_ISLAND_HUNG");
  assertEquals([stats.state, stats.stuckThreads], ["failed", 1]);
  assertEquals(report.graceful, true); // nothing was left to stop
});

Deno.test("Island.restart() stops the thread cleanly and starts a new one on the same values and rings", async () => {
  const island = await Island.start({
    name: "again",
    module: new URL("counter.ts", FIXTURES),
    tasks: [{ name: "tick", periodMs: 1 }],
    values: { in: ["offset"], out: ["ticks", "inits", "disposed"] },
    rings: { in: { slots: 8, slotSize: 8 }, out: { slots: 8, slotSize: 8 } },
  });
  const echo = async (b: number): Promise<number> => {
    assertEquals(typeof island.rings.in!.send(Uint8Array.of(b)), "number");
    let got: number | undefined;
    while (got === undefined) {
      await island.rings.out!.whenReadable();
      island.rings.out!.poll((slot) => void (got = slot[0]!));
    }
    return got;
  };
  island.values.in!.write({ offset: 10 });
  assertEquals(await echo(1), 11);
  const both = [island.restart(), island.restart()];
  assertEquals(both[0], both[1], "concurrent calls share one restart");
  await both[0];
  assertEquals(island.state, "running");
  assertEquals(island.values.out!.get("disposed"), 1, "the old thread ran dispose()");
  assertEquals(island.values.out!.get("inits"), 2, "the new thread ran init() with restarts 1");
  assertEquals(await echo(2), 12, "the rings work with the new thread");
  const stats = island.stats();
  assertEquals([stats.restarts, stats.crashes], [1, 0]);
  const report = await island.close();
  assertEquals(report.graceful, true);
  await assertRejects(() => island.restart(), Error, "closed");
});

Deno.test("Island runs its thread under SCHED_FIFO when it may, as Linux reports it, and demotes a stuck one (own process, --allow-all)", async (t) => {
  if (Deno.build.os !== "linux") {
    t.step({ name: "SCHED_FIFO is Linux only", ignore: true, fn() {} });
    return;
  }
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-all", // Deno reads /proc/self only with every permission
      new URL("realtime_main.ts", FIXTURES).pathname,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  const r = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "{}");
  assertEquals(r.before, [], "no real-time thread before an island starts");
  assertEquals(r.after, [], "none left once the islands closed");
  assertEquals(r.normal, { reported: "normal", fifo: [] });
  // Whether this machine lets the process have SCHED_FIFO decides what "auto"
  // and "realtime" get; what the island reports must match what Linux says.
  for (const mode of ["auto", "realtime"]) {
    const got = r[mode];
    assertEquals(got.fifo, got.reported === "realtime" ? [33] : [], mode);
  }
  assertEquals(r.auto.reported, r.realtime.reported);
  assertEquals(r.io.fifo, r.io.reported === "realtime" ? [35] : [], "threads the island started");
  const { running, afterHang, stuck } = r.hung;
  assertEquals(running.fifo, running.reported === "realtime" ? [34] : []);
  assertEquals(stuck, 1);
  assertEquals(afterHang, [], "the stuck thread spins on, demoted to the normal policy");
  // Without the privilege, the checks above hold trivially: say so in the output.
  await t.step({
    name: "this process had SCHED_FIFO (root or CAP_SYS_NICE)",
    ignore: r.auto.reported !== "realtime",
    fn: () => assertEquals([r.auto.fifo, running.fifo, r.io.fifo], [[33], [34], [35]]),
  });
});
