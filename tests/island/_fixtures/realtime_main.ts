// Runs in its own process, with --allow-all (the test task does not grant
// --allow-ffi, and Deno reads /proc/self only with every permission): starts islands under each scheduling mode and prints, as JSON, what
// each island reports next to what Linux says of this process's threads
// (/proc/self/task/*/stat: the policy and the real-time priority of each).
// Last, an island whose task hangs: after the watchdog, its stuck thread
// must be back under the normal policy.
import { Island, type IslandScheduling, type Logger } from "../../../mod.ts";

/** The real-time priorities of this process's SCHED_FIFO threads. */
function fifoThreads(): number[] {
  const priorities: number[] = [];
  for (const entry of Deno.readDirSync("/proc/self/task")) {
    let stat: string;
    try {
      stat = Deno.readTextFileSync(`/proc/self/task/${entry.name}/stat`);
    } catch {
      continue; // the thread ended meanwhile
    }
    // Fields after "(comm) ": state is field 3, rt_priority 40, policy 41.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[41 - 3] === "1") priorities.push(Number(fields[40 - 3]));
  }
  return priorities;
}

const quiet: Logger = { error() {}, warn() {}, info() {} };
const results: Record<string, unknown> = { before: fifoThreads() };
for (const scheduling of ["auto", "realtime", "normal"] as IslandScheduling[]) {
  const island = await Island.start({
    name: `rt-${scheduling}`,
    module: new URL("./counter.ts", import.meta.url),
    tasks: [{ name: "tick", periodMs: 1 }],
    scheduling,
    realtimePriority: 33,
    logger: quiet,
  });
  results[scheduling] = { reported: island.stats().scheduling, fifo: fifoThreads() };
  await island.close();
}
results.after = fifoThreads();

// An init() that does async I/O: the threads Deno starts for it must not
// inherit SCHED_FIFO (SCHED_RESET_ON_FORK).
const io = await Island.start({
  name: "rt-io",
  module: new URL("./io_init.ts", import.meta.url),
  tasks: [{ name: "tick", periodMs: 1 }],
  realtimePriority: 35,
  logger: quiet,
});
results.io = { reported: io.stats().scheduling, fifo: fifoThreads() };
await io.close();

const crashed = Promise.withResolvers<void>();
const hung = await Island.start({
  name: "rt-hangs",
  module: new URL("./faults.ts", import.meta.url),
  tasks: [{ name: "hangs", periodMs: 1 }],
  scheduling: "realtime",
  realtimePriority: 34,
  hangMs: 50,
  restart: { policy: "never" },
  logger: { error: () => crashed.resolve(), warn() {}, info() {} },
});
const running = { reported: hung.stats().scheduling, fifo: fifoThreads() };
await crashed.promise;
results.hung = { running, afterHang: fifoThreads(), stuck: hung.stats().stuckThreads };
await hung.close();
console.log(JSON.stringify(results));
Deno.exit(0); // the stuck thread spins until the process ends
