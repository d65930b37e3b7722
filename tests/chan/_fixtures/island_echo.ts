// An island module that talks through typed ring channels: each tick it
// takes the commands the main thread sent on rings.in ({ scale, value }
// objects) and answers each on rings.out with a Float64Array [value,
// value * scale]. Island tasks are synchronous: trySend / tryRecv only.
import type { IslandContext, IslandTaskContext } from "../../../src/island/mod.ts";
import { RingReceiver, RingSender } from "../../../src/chan/ring_channel.ts";
import type { FrameValue } from "../../../src/chan/codec.ts";
import { WOULD_BLOCK } from "../../../src/data/backpressure.ts";

let rx: RingReceiver<FrameValue> | undefined;
let tx: RingSender<FrameValue> | undefined;
/** An answer the full ring refused, sent again next tick. */
let held: Float64Array | undefined;

export function init(ctx: IslandContext): void {
  rx = new RingReceiver(ctx.rings.in!, { name: "commands" });
  tx = new RingSender(ctx.rings.out!, { name: "answers" });
}

export function tick(_ctx: IslandTaskContext): void {
  if (rx === undefined || tx === undefined) return;
  for (;;) {
    if (held !== undefined) {
      if (tx.trySend(held) === WOULD_BLOCK) return;
      held = undefined;
    }
    const r = rx.tryRecv();
    if (!r.ok) return;
    const { scale, value } = r.value as { scale: number; value: number };
    held = Float64Array.of(value, value * scale);
  }
}
