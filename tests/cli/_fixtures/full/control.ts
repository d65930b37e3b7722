// The island module of the full test config: a loop that follows its setpoint.
import type { IslandTaskContext } from "../../../../src/island/mod.ts";

let runs = 0;

/** One step on the island's thread. */
export function control(ctx: IslandTaskContext): void {
  runs++;
  ctx.values.out?.write({ output: (ctx.values.in?.get("setpoint") ?? 0) * 2, runs });
}
