// The test config's script: prints what it sees, counts the frames the
// consumer reports, and prints around the shutdown. With CLI_TEST_SLOW_START
// its start waits for that file; with CLI_TEST_FAIL_CHECK its afterShutdown
// hook throws.
import type { ScriptContext, ScriptHooks } from "../../../../src/cli/script_types.ts";

export default async function (ctx: ScriptContext): Promise<ScriptHooks> {
  const go = Deno.env.get("CLI_TEST_SLOW_START");
  if (go !== undefined) {
    // A slow start: ends when the test has sent its signal and written the file.
    ctx.print("script waits for the go file");
    while (!(await Deno.stat(go).then(() => true, () => false))) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  let received = 0;
  ctx.kernel.bus.topic<{ received: number }>("consumer.received").subscribe((e) => {
    if (received === 0) ctx.print("script saw frames");
    received = e.received;
  });
  ctx.print(`script started: ${ctx.dataPorts.size} data port, server ${ctx.server !== undefined}`);
  if (Deno.env.get("CLI_TEST_STOP") === "1") setTimeout(() => ctx.stop("the script asked"), 300);
  return {
    async beforeShutdown() {
      ctx.print(
        `script before shutdown: signal aborted ${ctx.signal.aborted}, received ${received > 0}`,
      );
      // A hook that never ends: only a second signal gets the process down.
      if (Deno.env.get("CLI_TEST_HANG") === "1") await new Promise(() => {});
    },
    afterShutdown(report) {
      ctx.print(`script after shutdown: graceful ${report.graceful}`);
      // An end-of-run check that fails: the run exits 1.
      if (Deno.env.get("CLI_TEST_FAIL_CHECK") === "1") throw new Error("the frames did not add up");
    },
  };
}
