// An island module: `tick` counts its runs into values.out and echoes frames
// from rings.in to rings.out, adding the value of values.in "offset".
import type { IslandContext, IslandTaskContext } from "../../../mod.ts";

let ticks = 0;

export function init(ctx: IslandContext): void {
  ctx.values.out?.write({ ticks: 0, inits: ctx.restarts + 1 });
}

export function tick(ctx: IslandTaskContext): void {
  ticks++;
  const ringIn = ctx.rings.in;
  const ringOut = ctx.rings.out;
  if (ringIn !== undefined && ringOut !== undefined) {
    ringIn.poll((slot, length) => {
      // Read after the frame arrived: a value written before the frame was
      // sent is seen (read at the tick's start, a tick that began before the
      // write would echo the frame without it).
      const offset = ctx.values.in?.get("offset") ?? 0;
      const copy = slot.slice(0, length);
      copy[0] = copy[0]! + offset;
      ringOut.send(copy);
    });
  }
  ctx.values.out?.write({ ticks });
}

export function dispose(ctx: IslandContext): void {
  ctx.values.out?.write({ disposed: 1 });
}
