// A real island (its own thread) and the main thread talking through typed
// ring channels wrapped around the island's rings: objects in, typed arrays
// out, in order, each once.
import { assertEquals } from "@std/assert";
import { Island } from "../../src/island/island.ts";
import { RingReceiver, RingSender } from "../../src/chan/ring_channel.ts";
import type { FrameValue } from "../../src/chan/codec.ts";

Deno.test("RingSender and RingReceiver wrap an island's rings: one typed API both ways", async () => {
  const island = await Island.start({
    name: "echo-channel",
    module: new URL("./_fixtures/island_echo.ts", import.meta.url),
    tasks: [{ name: "tick", periodMs: 1 }],
    rings: { in: { slots: 4, slotSize: 64 }, out: { slots: 4, slotSize: 64 } },
  });
  try {
    const commands = new RingSender<FrameValue>(island.rings.in!, { name: "commands" });
    const answers = new RingReceiver<FrameValue>(island.rings.out!, { name: "answers" });
    const n = 20;
    const sending = (async () => {
      for (let i = 0; i < n; i++) await commands.send({ scale: 3, value: i });
    })();
    const got: FrameValue[] = [];
    while (got.length < n) {
      const r = await answers.recv();
      if (!r.ok) break;
      got.push(r.value);
    }
    await sending;
    assertEquals(got, Array.from({ length: n }, (_, i) => Float64Array.of(i, i * 3)));
  } finally {
    await island.close({ graceMs: 1000 });
  }
});
