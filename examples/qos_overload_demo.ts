/**
 * Overload under QoS caps: `QOS_TASKS` periodic tasks (default 6), each
 * released every 10 ms with an async body that takes 25 ms (it waits on a
 * timer, like slow I/O), under a global cap of `QOS_GLOBAL_CAP` runnable
 * releases (default 2) and a per-task queue cap of 1. The tasks cycle
 * through the overflow policies drop-newest, drop-oldest and defer. Once a
 * second it prints the runnable count, the deferred count and the drops (dropped
 * releases) by reason; at the end, each task's runs, drops and deferrals. Nothing is
 * dropped silently: every release is run, dropped with a reason, or
 * still waiting.
 *
 * What it shows: under sustained overload the freed capacity goes to
 * releases that wait (the `defer` tasks, oldest first), so the
 * `drop-newest` and `drop-oldest` tasks shed nearly all their releases.
 * That is what those policies are for (stale work is worthless to them);
 * a task that must run gets `defer` and a `queueCap` that bounds its backlog.
 *
 * ```sh
 * QOS_GLOBAL_CAP=2 QOS_TASKS=6 deno run --allow-env --allow-read=. examples/qos_overload_demo.ts
 * ```
 *
 * Environment: `QOS_GLOBAL_CAP` (2), `QOS_TASKS` (6), `QOS_SECONDS` (3).
 *
 * @module
 */
import { Kernel, type OverflowPolicy } from "../mod.ts";
import { envNumber } from "./_env.ts";

const cap = envNumber("QOS_GLOBAL_CAP", 2, true);
const count = envNumber("QOS_TASKS", 6, true);
const seconds = envNumber("QOS_SECONDS", 3);
const OVERFLOW_POLICIES: OverflowPolicy[] = ["drop-newest", "drop-oldest", "defer"];

const kernel = await Kernel.start({ profile: "balanced", executor: { maxRunnable: cap } });
for (let i = 0; i < count; i++) {
  kernel.periodic({
    name: `io${i}`,
    periodMs: 10,
    queueCap: 1,
    overflow: OVERFLOW_POLICIES[i % OVERFLOW_POLICIES.length],
    run: () => new Promise<void>((resolve) => kernel.driver.after(25, () => resolve())),
  });
}
console.log(
  `${count} tasks every 10 ms, each 25 ms of waiting, global cap ${cap} runnable, per-task cap 1`,
);
let second = 0;
const { promise, resolve } = Promise.withResolvers<void>();
const ticker = kernel.driver.every(1000, () => {
  const s = kernel.executor.stats();
  const d = s.dropped;
  console.log(
    `${++second}s  runnable ${s.runnable} (running ${s.running}, deferred ${s.deferred})  drops: global-cap ${
      d["global-cap"]
    }, task-cap ${d["task-cap"]}, defer-cap ${d["defer-cap"]}`,
  );
  if (second >= seconds) resolve();
});
await promise;
ticker.cancel();
const stats = kernel.executor.stats();
const report = await kernel.shutdown({ graceMs: 1000 });
console.log("\ntask  policy       releases  runs  dropped(global-cap, task-cap)  deferred");
for (const [i, t] of stats.perTask.entries()) {
  console.log(
    `${t.name.padEnd(5)} ${OVERFLOW_POLICIES[i % 3]!.padEnd(12)} ${
      String(t.releases).padStart(8)
    } ${String(t.runs).padStart(5)}  ${String(t.dropped["global-cap"]).padStart(14)}, ${
      String(t.dropped["task-cap"]).padEnd(14)
    } ${String(t.deferred).padStart(8)}`,
  );
}
const released = stats.perTask.reduce((n, t) => n + t.releases, 0);
const ran = stats.perTask.reduce((n, t) => n + t.runs, 0);
const dropped = Object.values(stats.dropped).reduce((n, v) => n + v, 0);
console.log(
  `\n${released} releases = ${ran} runs + ${dropped} dropped + ${
    released - ran - dropped
  } waiting at the end; shutdown dropped ${report.releasesDropped} waiting, cut off ${report.runsCutOff} running`,
);
