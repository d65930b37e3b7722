// The plugin side of a worker or process plugin holds its ops (event
// acknowledgements among them) for `flushMs` before it sends them; a host
// that waits for the instance to be idle (a hot switch's drain) asks for them
// at once with a "flush". The runtime runs here on a recording transport with
// an hour-long flush interval, so nothing depends on when timers fire.
import { assertEquals } from "@std/assert";
import { definePlugin } from "../../src/plugin/author.ts";
import { recordedRuntime } from "./_setup.ts";

const plugin = definePlugin({
  stateVersion: 1,
  init(ctx) {
    ctx.subscribe<number>("in", (n) => {
      ctx.publish("out", n);
    });
  },
});

Deno.test("RemoteRuntime sends its held acknowledgements when the host asks for a flush", async () => {
  const { runtime, ops } = recordedRuntime({ default: plugin }, { name: "flush" });
  runtime.receive({ t: "call", id: 1, hook: "load" });
  runtime.receive({ t: "call", id: 2, hook: "init" });
  await Promise.resolve();
  await Promise.resolve();
  const subscribe = ops().find((op) => op[0] === "s") as ["s", number, string] | undefined;
  assertEquals(subscribe?.[2], "in");
  runtime.receive({ t: "ev", batch: [[subscribe![1], 7]] });
  // Held: the flush timer does not fire within the test.
  assertEquals(ops().filter((op) => op[0] === "ea"), []);
  runtime.receive({ t: "flush" });
  assertEquals(ops().filter((op) => op[0] === "ea"), [["ea", 1]]);
  assertEquals(ops().filter((op) => op[0] === "p").length, 1);
});
