// An island module whose tasks fail in the ways an island must survive.
import process from "node:process";
import type { IslandContext, IslandTaskContext } from "../../../mod.ts";

let runs = 0;
const hoard: number[][] = [];

/** Counts its starts into values.out, so a test sees a restart. */
export function init(ctx: IslandContext): void {
  ctx.values.out?.write({ starts: ctx.restarts + 1 });
}

/** Ends its thread on its third run, the first time only. */
export function exits(ctx: IslandTaskContext): void {
  if (++runs === 3 && ctx.restarts === 0) process.exit(3);
}

/** Allocates without bound: the thread reaches its heap cap. */
export function hog(): void {
  for (let i = 0; i < 200; i++) hoard.push(new Array(10_000).fill(1.5));
}

/** Spins forever on its second run. */
export function hangs(): void {
  if (++runs === 2) { for (;;) { /* stuck in synchronous code */ } }
}

/** Throws on every run. */
export function throws(): void {
  throw new Error("sensor offline");
}
