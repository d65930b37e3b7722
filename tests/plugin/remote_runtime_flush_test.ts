// The plugin side of a worker or process plugin holds its ops (event
// acknowledgements among them) for `flushMs` before it sends them; a host
// that waits for the instance to be idle (a hot switch's drain) asks for them
// at once with a "flush". The runtime runs here on a recording transport with
// its timers replaced, so nothing depends on when timers fire.
import { assertEquals } from "@std/assert";
import { RemoteRuntime } from "../../src/plugin/_remote_runtime.ts";
import { definePlugin } from "../../src/plugin/author.ts";
import { createBlock, type Op, type PluginMessage } from "../../src/plugin/_remote_protocol.ts";

/** Replaces the global timers with ones that never fire; restores them on dispose. */
function heldTimers(): Disposable {
  const saved = {
    setTimeout: globalThis.setTimeout,
    setInterval: globalThis.setInterval,
    clearTimeout: globalThis.clearTimeout,
    clearInterval: globalThis.clearInterval,
  };
  let next = 1;
  const g = globalThis as unknown as Record<string, unknown>;
  g.setTimeout = g.setInterval = () => next++;
  g.clearTimeout = g.clearInterval = () => {};
  return { [Symbol.dispose]: () => Object.assign(globalThis, saved) };
}

const plugin = definePlugin({
  stateVersion: 1,
  init(ctx) {
    ctx.subscribe<number>("in", (n) => {
      ctx.publish("out", n);
    });
  },
});

Deno.test("RemoteRuntime sends its held acknowledgements when the host asks for a flush", async () => {
  using _timers = heldTimers();
  const sent: PluginMessage[] = [];
  const runtime = new RemoteRuntime({
    send: (message) => sent.push(message),
    listen: () => {}, // the test hands messages to receive() itself
  }, {
    t: "hello",
    name: "flush",
    version: "1.0.0",
    isolation: "worker",
    capabilities: ["subscribe", "publish"],
    taskBudgetMs: 100,
    heartbeatMs: 1000,
    flushMs: 1000,
    maxInflight: 1000,
    maxFamilies: 10,
    block: createBlock(),
  }, { default: plugin });
  const ops = () => sent.flatMap((m) => m.t === "batch" ? m.ops : [] as Op[]);
  runtime.receive({ t: "call", id: 1, hook: "load" });
  runtime.receive({ t: "call", id: 2, hook: "init" });
  await Promise.resolve();
  await Promise.resolve();
  const subscribe = ops().find((op) => op[0] === "s") as ["s", number, string] | undefined;
  assertEquals(subscribe?.[2], "in");
  runtime.receive({ t: "ev", batch: [[subscribe![1], 7]] });
  // Held: the flush timer never fires here.
  assertEquals(ops().filter((op) => op[0] === "ea"), []);
  runtime.receive({ t: "flush" });
  assertEquals(ops().filter((op) => op[0] === "ea"), [["ea", 1]]);
  assertEquals(ops().filter((op) => op[0] === "p").length, 1);
});
