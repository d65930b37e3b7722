// A ring's hot paths stay compiled when the process's last ring is
// collected (see src/data/_shape_keeper.ts). Checked in a child process
// with V8's own optimization status, which needs V8 flags this process does
// not have: the child streams through a ring with `send()` and `poll()`
// optimized, drops it, collects garbage and reports both statuses.
import { assert, assertEquals } from "@std/assert";

const CHILD = new URL("./_fixtures/ring_shape_child.ts", import.meta.url);
const CONFIG = new URL("../../deno.json", import.meta.url);
/**
 * Bits of V8's optimization status (`%GetOptimizationStatus`) that say a
 * function has optimized code: optimized, Maglev, TurboFan.
 */
const COMPILED = (1 << 4) | (1 << 5) | (1 << 6);

Deno.test("send() and poll() stay optimized after the last ring is garbage collected", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--config",
      CONFIG.pathname,
      "--allow-read",
      "--v8-flags=--allow-natives-syntax,--expose-gc",
      CHILD.pathname,
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const errors = new TextDecoder().decode(stderr);
  assertEquals(code, 0, errors);
  const report = JSON.parse(new TextDecoder().decode(stdout).trim().split("\n").at(-1)!) as {
    before: number[];
    after: number[];
    frames: number;
  };
  assertEquals(report.frames, 20_000);
  // Optimized first, else the check after proves nothing.
  for (const status of report.before) assert((status & COMPILED) !== 0, `before: ${status}`);
  for (const status of report.after) assert((status & COMPILED) !== 0, `after: ${status}`);
});
