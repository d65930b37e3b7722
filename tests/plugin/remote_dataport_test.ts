// Data ports for worker and process plugins: a plugin produces into a kernel
// DataPort and consumes one, with credit backpressure end to end, in order,
// nothing lost; a port the kernel does not offer is a clear error.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { DataPort } from "../../src/data/data_port.ts";
import { WOULD_BLOCK } from "../../src/data/backpressure.ts";
import { createWorkerHost } from "../../src/plugin/worker_host.ts";
import { createProcessHost } from "../../src/plugin/process_host.ts";
import { nextEvent, realManager, realParts, remoteManifest } from "./_fixtures/remote/_kernel.ts";

const CAPS = { capabilities: ["publish", "subscribe", "dataport"] as const };

async function withPorts(
  isolation: "inline" | "worker" | "process",
  body: (parts: {
    bus: ReturnType<typeof realParts>["bus"];
    out: DataPort;
    input: DataPort;
    plugins: ReturnType<typeof realManager>;
  }) => Promise<void>,
  entry = "ports.ts",
): Promise<void> {
  const p = realParts();
  const out = new DataPort({ name: "out", credit: 4 });
  const input = new DataPort({ name: "in", credit: 8 });
  const workers = createWorkerHost();
  const processes = createProcessHost({ killGraceMs: 2000 });
  const plugins = realManager(p, {
    hosts: { worker: workers, process: processes },
    dataPorts: (plugin, name) =>
      plugin !== "ports" ? undefined : name === "out" ? out : name === "in" ? input : undefined,
  });
  try {
    await plugins.load(remoteManifest("ports", entry, isolation, CAPS));
    await body({ bus: p.bus, out, input, plugins });
  } finally {
    await plugins.close();
    await processes.settled();
    out.close();
    input.close();
    p[Symbol.dispose]();
  }
}

for (const isolation of ["inline", "worker", "process"] as const) {
  Deno.test(`A ${isolation} plugin sends frames to a kernel DataPort in order, waiting for credit, none lost`, async () => {
    await withPorts(isolation, async ({ bus, out }) => {
      const n = 300;
      const seen: number[] = [];
      const held: Parameters<DataPort["recycle"]>[0][] = [];
      // A slow consumer: it recycles what it holds only on the next timer
      // turn, so the port's credit (4) runs out and the plugin must wait.
      out.onFrame((meta, view) => {
        seen.push(new DataView(view.buffer, view.byteOffset).getUint32(0));
        held.push(meta);
        if (held.length === 1) {
          setTimeout(() => {
            for (const m of held.splice(0)) out.recycle(m);
          }, 0);
        }
      });
      const produced = nextEvent<{ n: number; wouldBlock: number; sent: number }>(
        bus,
        "ports.produced",
      );
      bus.topic("ports.produce").publish({ n });
      const report = await produced;
      await out.whenIdle();
      assertEquals(report.sent, n);
      assert(report.wouldBlock > 0, "the plugin never had to wait for credit");
      assertEquals(seen.length, n);
      assertEquals(seen, Array.from({ length: n }, (_, i) => i));
      assertEquals(out.stats().minCredit, 0);
    });
  });

  Deno.test(`A ${isolation} plugin consumes a kernel DataPort and recycles what it got`, async () => {
    await withPorts(isolation, async ({ bus, input }) => {
      const n = 100;
      const done = nextEvent<{ count: number; sum: number }>(
        bus,
        "ports.consumed",
        (e) => e.count === n,
      );
      bus.topic("ports.consume").publish({});
      let expected = 0;
      for (let i = 0; i < n; i++) {
        while (input.send(Uint8Array.of(i % 256, 1, 2)) === WOULD_BLOCK) {
          assertEquals(await input.whenWritable(), "ready");
        }
        expected += i % 256;
      }
      const last = await done;
      assertEquals(last.sum, expected);
      await input.whenIdle();
      const stats = input.stats();
      assertEquals(stats.framesRecycled, n);
      assertEquals(stats.unrecycled, 0);
    });
  });

  Deno.test(`A ${isolation} plugin that opens a port the kernel does not offer gets E_PLUGIN_NO_DATAPORT`, async () => {
    await withPorts(isolation, async ({ bus }) => {
      const result = nextEvent<string>(bus, "ports.unknown.result");
      bus.topic("ports.unknown").publish({});
      const text = await result;
      assertStringIncludes(text, "E_PLUGIN_NO_DATAPORT");
      assertStringIncludes(text, 'Cannot open data port "nope"');
    });
  });
}

/**
 * Sends frames 0..49 to the plugin's port "in" (after `begin()`), waits until
 * it counted them, then sends 50..149 while the plugin is reloaded: the sum
 * of all 150 arrives whole. Resolves with every count published meanwhile.
 */
async function reloadWhileConsuming(
  parts: Parameters<Parameters<typeof withPorts>[1]>[0],
  begin: () => void,
): Promise<number[]> {
  const { bus, input, plugins } = parts;
  const send = async (from: number, n: number) => {
    for (let i = from; i < from + n; i++) {
      while (input.send(Uint8Array.of(i % 256)) === WOULD_BLOCK) {
        assertEquals(await input.whenWritable(), "ready");
      }
    }
  };
  const first = nextEvent<{ count: number }>(bus, "ports.consumed", (e) => e.count === 50);
  begin();
  await send(0, 50);
  await first;
  const counts: number[] = [];
  bus.topic<{ count: number }>("ports.consumed").subscribe((e) => void counts.push(e.count));
  // Frames keep coming while the plugin is reloaded: the old version
  // consumes until it lets go, the new one takes over, counting on.
  const all = nextEvent<{ count: number; sum: number }>(
    bus,
    "ports.consumed",
    (e) => e.count === 150,
  );
  const sending = send(50, 100);
  const report = await plugins.reload("ports");
  assert(report.ok, report.reason);
  await sending;
  const last = await all;
  let expected = 0;
  for (let i = 0; i < 150; i++) expected += i % 256;
  assertEquals(last.sum, expected);
  return counts;
}

for (const isolation of ["worker", "process"] as const) {
  Deno.test(`A ${isolation} plugin consuming a kernel DataPort hands it over on reload, nothing lost`, async () => {
    await withPorts(isolation, async (parts) => {
      await reloadWhileConsuming(parts, () => parts.bus.topic("ports.consume").publish({}));
      await parts.input.whenIdle();
      assertEquals(parts.input.stats().unrecycled, 0);
    });
  });
}

for (const isolation of ["worker", "process"] as const) {
  Deno.test(`A ${isolation} consumer that registers onFrame in init gets no frame before the old state on reload`, async () => {
    await withPorts(isolation, async (parts) => {
      const counts = await reloadWhileConsuming(parts, () => {});
      // Counted on from the handed-over state: 51, 52, ... 150, each once.
      assertEquals(counts, Array.from({ length: 100 }, (_, i) => 51 + i));
    }, "ports_init.ts");
  });
}
