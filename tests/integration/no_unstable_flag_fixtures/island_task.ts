// An island module with no imports (the fixture runs without deno.json): counts its ticks.
let ticks = 0;

/** Writes its tick count. */
export function tick(ctx: { values: { out?: { write(v: Record<string, number>): void } } }): void {
  ticks++;
  ctx.values.out?.write({ ticks });
}
