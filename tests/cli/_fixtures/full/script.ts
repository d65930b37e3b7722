// The full test config's script: waits until the cron task, the island and
// the offload pool each did their work, says so, and prints what the
// shutdown report says of each after the shutdown.
import type { ScriptContext, ScriptHooks } from "../../../../src/cli/script_types.ts";
import { cronRuns } from "./tasks.ts";

export default async function (ctx: ScriptContext): Promise<ScriptHooks> {
  const pool = ctx.kernel.offload!;
  const jobs = [await pool.submit<number>("double", 21), await pool.submit<number>("triple", 2)];
  ctx.print(`script offload: double 21 = ${jobs[0]}, triple 2 = ${jobs[1]}`);
  const island = ctx.kernel.stats().islands[0]!;
  const islandStats = () => ctx.kernel.stats().islands[0]!;
  let told = false;
  const poll = setInterval(() => {
    const islandRuns = islandStats().perTask[0]?.runs ?? 0;
    if (told || cronRuns() === 0 || islandRuns === 0) return;
    told = true;
    ctx.print(`script saw cron runs and island runs of "${island.name}"`);
  }, 20);
  ctx.signal.addEventListener("abort", () => clearInterval(poll), { once: true });
  return {
    afterShutdown(report) {
      const closed = report.islands.map((i) => `${i.name} ${i.graceful}`).join(", ");
      ctx.print(
        `script after shutdown: islands closed: ${closed}; offload cut off ${report.offloadCutOff}`,
      );
    },
  };
}
