/**
 * Runs `EXEC_TASKS` periodic tasks (default 200; periods 5 to 100 ms, small
 * bodies) for `EXEC_SECONDS` (default 2), then prints the kernel's metrics:
 * Prometheus text, or with `EXEC_METRICS_JSON=1` a JSON array of samples
 * (`{ name, labels, value }`), ready for `jq`.
 *
 * ```sh
 * EXEC_TASKS=200 EXEC_METRICS_JSON=1 deno run --allow-env --allow-read=. examples/exec_metrics.ts
 * ```
 *
 * @module
 */
import { Kernel } from "../mod.ts";
import { envNumber } from "./_env.ts";

const tasks = envNumber("EXEC_TASKS", 200, true);
const seconds = envNumber("EXEC_SECONDS", 2);
const json = Deno.env.get("EXEC_METRICS_JSON") === "1";

const kernel = await Kernel.start({ profile: "balanced" });
let sink = 0;
for (let i = 0; i < tasks; i++) {
  kernel.periodic({
    name: `task${String(i).padStart(3, "0")}`,
    periodMs: 5 + (i * 37) % 96,
    budgetMs: 1,
    run: () => {
      for (let k = 0; k < 200; k++) sink += Math.sqrt(k + i);
    },
  });
}
const { promise, resolve } = Promise.withResolvers<void>();
kernel.driver.after(seconds * 1000, () => resolve());
await promise;
const output = json
  ? JSON.stringify(kernel.metrics.flatten(), null, 1)
  : kernel.metrics.exposeText("prometheus");
await kernel.shutdown({ graceMs: 1000 });
console.log(output);
if (sink < 0) console.error(sink);
