/**
 * The demo's island module: `control`, a 1 kHz PI loop on the island's own
 * thread. It reads `setpoint` from the shared `in` block (the demo script
 * moves it every 2 s), drives a first-order plant (time constant 50 ms)
 * toward it, and writes `output`, `error` and `runs` to the shared `out`
 * block, which the script reads to show that the loop tracks.
 *
 * @module
 */
import type { IslandTaskContext } from "../../mod.ts";

const DT_S = 0.001;
const PLANT_TAU_S = 0.05;
const KP = 2;
const KI = 20;

let plant = 0;
let integral = 0;
let runs = 0;

/** One step of the loop: PI controller, plant update, outputs. */
export function control(ctx: IslandTaskContext): void {
  const written = ctx.values.in?.get("setpoint") ?? 0;
  const setpoint = Number.isFinite(written) ? written : 0;
  const error = setpoint - plant;
  integral = Math.max(-10, Math.min(10, integral + error * DT_S));
  const u = KP * error + KI * integral;
  plant += (u - plant) * (DT_S / PLANT_TAU_S);
  runs++;
  ctx.values.out?.write({ output: plant, error, runs });
}
