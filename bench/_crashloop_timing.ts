// bench:plugins case `crash-loop`: does a 1 kHz task on the kernel keep its
// timing while a plugin crash-loops? Per host, rounds interleave two
// segments of the same length in a shuffled order: the kernel task alone
// (`idle`) and the kernel task while a plugin that crashes 25 ms after each
// start is restarted at once by the supervisor (`crash-loop`). Lateness is
// the task's entry time minus its release, on the kernel's clock. Subject
// `chronetix:worker` is the worker host as it comes (`spawner: "restarts"`:
// a restart's Worker is created on a spawner thread, not the kernel's);
// `chronetix:worker-direct` is the same with `spawner: false`, every Worker
// created on the kernel's thread.
//
// For the worker and process subjects each round has a third segment,
// `stand-in`: the kernel task alone while another process with no kernel
// (bench/_boot_churn.ts) boots what the host boots (a Worker, or a Deno
// process, with the plugin's module graph, crashing 25 ms after it started)
// at the restart rate the last crash-loop segment had. That is what the boots
// cost the task on the same cores (`kernel_task_p99_stand_in_us`,
// `p99_ratio_stand_in`); the crash loop beyond it (`p99_beyond_stand_in`) is
// the kernel's own share: the supervisor, the host, and what the host does
// on the kernel's thread. The order of the segments rotates round by round.
import type { BenchResult } from "./_report.ts";
import { median, progress, round } from "./_report.ts";
import { SwitchedProcess } from "./_switched_process.ts";
import { benchManifest, keptLogger, percentile } from "./_plugins_util.ts";
import { Kernel } from "../mod.ts";
import { createProcessHost } from "../src/plugin/process_host.ts";
import { createWorkerHost } from "../src/plugin/worker_host.ts";

type Isolation = "inline" | "worker" | "process";
type Subject = Isolation | "worker-direct";

/** What bench/_boot_churn.ts prints for each time it was on. */
interface ChurnLine {
  boots: number;
  seconds: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Lateness of a 1 kHz kernel task over `ms`, µs per run. */
async function kernelTaskLateness(
  kernel: Kernel,
  name: string,
  ms: number,
): Promise<number[]> {
  const late: number[] = [];
  const clock = kernel.driver.clock;
  const handle = kernel.periodic({
    name,
    periodMs: 1,
    run: (ctx) => void late.push((clock.now() - ctx.release) * 1000),
  });
  await sleep(ms);
  handle.cancel();
  return late;
}

/**
 * Runs the case.
 *
 * @param quick Fewer and shorter rounds.
 */
export async function crashLoopCase(quick: boolean): Promise<BenchResult[]> {
  const rounds = quick ? 2 : 6;
  const segmentMs = quick ? 1000 : 2000;
  const rows: BenchResult[] = [];
  const pluginUrl = new URL("./_plugins_crash.ts", import.meta.url).href;
  for (const subject of ["inline", "worker", "worker-direct", "process"] as Subject[]) {
    const isolation: Isolation = subject === "worker-direct" ? "worker" : subject;
    // The profile a 1 kHz control task asks for (`precise`), not the
    // bench's timers-only kernel: the question is whether its timing holds.
    const processes = createProcessHost({ killGraceMs: 1000 });
    const workers = createWorkerHost({ spawner: subject === "worker-direct" ? false : "restarts" });
    const kernel = await Kernel.start({
      profile: "precise",
      logger: keptLogger(),
      pluginOptions: { hosts: { process: processes, worker: workers } },
    });
    // An inline restart boots nothing, so it has no stand-in.
    const churn = isolation === "inline" ? undefined : new SwitchedProcess<ChurnLine>([
      "run",
      "--allow-read",
      "--allow-run",
      new URL("./_boot_churn.ts", import.meta.url).pathname,
      isolation,
      pluginUrl,
    ]);
    const b = { kernel };
    try {
      const idle: number[] = [];
      const loop: number[] = [];
      const standIn: number[] = [];
      const churnRates: number[] = [];
      let restarts = 0;
      let lastRate = 0;
      let n = 0;
      const kinds = churn === undefined ? ["idle", "loop"] : ["idle", "loop", "stand-in"];
      for (let r = 0; r < rounds; r++) {
        progress(`plugins: crash-loop ${subject} round ${r + 1}/${rounds}`);
        // Round 0 has the crash loop before the stand-in, which takes its rate.
        const order = kinds.map((_, k) => kinds[(r + k) % kinds.length]!);
        for (const kind of order) {
          if (kind === "idle") {
            idle.push(...await kernelTaskLateness(b.kernel, `cl-idle-${n++}`, segmentMs));
            continue;
          }
          if (kind === "stand-in") {
            await churn!.on(String(lastRate));
            standIn.push(...await kernelTaskLateness(b.kernel, `cl-stand-in-${n++}`, segmentMs));
            const line = await churn!.off();
            churnRates.push(line.boots / line.seconds);
            continue;
          }
          const name = `crashloop-${subject}`;
          await b.kernel.plugins.load(benchManifest(name, "_plugins_crash.ts", isolation, {
            restart: {
              maxRetries: 1000,
              retryWindowMs: 60_000,
              backoffInitialMs: 0,
              backoffMaxMs: 0,
              backoffJitterRatio: 0,
            },
          }));
          const before = b.kernel.plugins.get(name)?.restarts ?? 0;
          loop.push(...await kernelTaskLateness(b.kernel, `cl-loop-${n++}`, segmentMs));
          const segment = (b.kernel.plugins.get(name)?.restarts ?? 0) - before;
          restarts += segment;
          // At least one boot a second for the stand-in, should a segment see no restart.
          lastRate = Math.max(1, segment / (segmentMs / 1000));
          await b.kernel.plugins.unload(name);
        }
      }
      const p99Loop = percentile(loop, 99);
      const p99Idle = percentile(idle, 99);
      rows.push({
        case: "crash-loop",
        subject: `chronetix:${subject}`,
        kernel_task_p99_us: round(p99Loop, 1),
        kernel_task_p99_idle_us: round(p99Idle, 1),
        p99_ratio: round(p99Loop / p99Idle, 2),
        kernel_task_p50_us: round(percentile(loop, 50), 1),
        kernel_task_p50_idle_us: round(percentile(idle, 50), 1),
        restarts_per_s: round(restarts / (rounds * segmentMs / 1000), 1),
        runs: loop.length,
        ...(churn === undefined ? { stand_in: "none: an inline restart boots nothing" } : {
          kernel_task_p99_stand_in_us: round(percentile(standIn, 99), 1),
          p99_ratio_stand_in: round(percentile(standIn, 99) / p99Idle, 2),
          p99_beyond_stand_in: round(p99Loop / percentile(standIn, 99), 2),
          stand_in_boots_per_s: round(median(churnRates), 1),
        }),
      });
    } finally {
      await churn?.close();
      await kernel.shutdown({ graceMs: 5000 });
      await processes.settled();
      workers.close();
    }
  }
  return rows;
}
