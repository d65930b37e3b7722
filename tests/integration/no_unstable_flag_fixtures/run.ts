// Started by ../no_unstable_flag_test.ts as `deno run --no-config -A run.ts <mode>`, so that no
// deno.json turns on `--unstable-worker-options` (the test adds the flag itself when it wants
// it). Imports source files directly: without deno.json there is no import map. Prints one JSON
// line with what it saw and exits 0, unless Deno ends the process first (exit code 70).
import { Kernel } from "../../../src/kernel.ts";
import { OffloadPool } from "../../../src/exec/offload_pool.ts";
import { Driver } from "../../../src/time/driver.ts";
import { ChronetixError } from "../../../src/errors.ts";
import type { Logger } from "../../../src/logger.ts";

const SILENT_LOGGER: Logger = { error() {}, warn() {}, info() {} };

const square = "data:text/javascript,export default (n) => n * n;";
const mode = Deno.args[0];
const out: Record<string, unknown> = { mode };

if (mode === "pool") {
  // A default pool, grown past its minimum.
  await using pool = new OffloadPool({ jobs: { square }, minWorkers: 1, maxWorkers: 2 });
  out.results = await Promise.all([2, 3, 4].map((n) => pool.submit<number>("square", n)));
} else if (mode === "driver") {
  // Every profile; `precise` and `balanced` start the waker worker.
  for (const profile of ["precise", "balanced", "efficient"] as const) {
    using driver = new Driver({ profile });
    const { promise, resolve } = Promise.withResolvers<void>();
    driver.after(5, () => resolve());
    await promise;
  }
  out.fired = true;
} else if (mode === "island") {
  await using kernel = await Kernel.start({
    profile: "precise",
    offload: { jobs: { square }, minWorkers: 1, maxWorkers: 1 },
    logger: SILENT_LOGGER,
  });
  const island = await kernel.island({
    name: "ticker",
    module: new URL("./island_task.ts", import.meta.url),
    tasks: [{ name: "tick", periodMs: 1 }],
    values: { out: ["ticks"] },
  });
  while ((island.values.out!.get("ticks") ?? 0) < 3) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  out.ticked = true;
  out.square = await kernel.offload.submit<number>("square", 5);
} else if (mode === "scoped") {
  // Scoped permissions need the flag: without it, a ChronetixError naming it, not exit 70.
  try {
    await using pool = new OffloadPool({ jobs: { square }, permissions: "none", maxWorkers: 1 });
    out.result = await pool.submit<number>("square", 6);
  } catch (error) {
    out.error = error instanceof ChronetixError
      ? { code: error.code, message: error.message }
      : String(error);
  }
} else {
  throw new Error(`unknown mode ${mode}`);
}
console.log(JSON.stringify(out));
