// The island's task module of the browser test: a 1 kHz control step.
import type { IslandTaskContext } from "../../../src/island/island_types.ts";

let state = 0;

/** One control step: a little arithmetic, as a real loop would do. */
export function control(_ctx: IslandTaskContext): void {
  state = (state * 31 + 7) % 1_000_003;
}
