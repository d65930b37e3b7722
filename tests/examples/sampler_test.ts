// examples/plugins/sampler.ts under credit backpressure, inline on the
// virtual clock: frames that find no credit wait in order and go out as it
// returns; only past the backlog is a frame refused; `stop` sends what waits.
// And in a Worker (the demo's way), through a remote port's send window.
import { assertEquals, assertThrows } from "@std/assert";
import { DataPort } from "../../src/data/data_port.ts";
import type { FrameMeta } from "../../src/data/data_port_types.ts";
import { validateManifest } from "../../src/plugin/manifest.ts";
import type { PluginManager, PluginManagerOptions } from "../../src/plugin/plugin_manager.ts";
import type { ResolvedManifest } from "../../src/plugin/manifest_types.ts";
import { createWorkerHost } from "../../src/plugin/worker_host.ts";
import { advance, manager, type Parts, parts } from "../plugin/_setup.ts";
import { eventually, realManager, realParts } from "../plugin/_fixtures/remote/_kernel.ts";

import { samplerPlugin } from "../../examples/plugins/sampler.ts";

const SAMPLER = new URL("../../examples/plugins/sampler.ts", import.meta.url);
const SMALL_BACKLOG = new URL("./_fixtures/small_backlog_sampler.ts", import.meta.url);

/** The sampler's manifest, as the demo's (capabilities publish, dataport, metrics). */
function samplerManifest(entry: URL, isolation: "inline" | "worker"): ResolvedManifest {
  return validateManifest({
    name: "sampler",
    version: "1.0.0",
    entry: entry.href,
    isolation,
    capabilities: ["publish", "dataport", "metrics"],
  });
}

/** Hands out `port` as the sampler's "readings". */
function offering(port: DataPort): Pick<PluginManagerOptions, "dataPorts"> {
  return { dataPorts: (_plugin, name) => (name === "readings" ? port : undefined) };
}

async function loadSampler(p: Parts, port: DataPort, entry: URL): Promise<PluginManager> {
  const plugins = manager(p, offering(port));
  await plugins.load(samplerManifest(entry, "inline"));
  return plugins;
}

/** Takes 10 ms steps of virtual time: one reading each. */
async function readings(p: Parts, plugins: PluginManager, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await advance(p, plugins, 10);
}

function metric(p: Parts, name: string): number {
  const line = p.metrics.exposeText().split("\n")
    .find((l) => l.startsWith(`chronetix_plugin_sampler_${name} `));
  return line === undefined ? NaN : Number(line.split(" ")[1]);
}

/** Consumes `port`, recording each frame's sequence number (its third float64). */
function consume(port: DataPort, seqs: number[]): Disposable {
  return port.onFrame((meta: FrameMeta, view: Uint8Array) => {
    seqs.push(new Float64Array(view.slice(0, 24).buffer)[2]!);
    port.recycle(meta);
  });
}

Deno.test("sampler: frames without credit wait in order and none is refused", async () => {
  using p = parts();
  using port = new DataPort({ credit: 4 });
  const plugins = await loadSampler(p, port, SAMPLER);
  const before = metric(p, "readings_total");
  await readings(p, plugins, 10);
  const taken = metric(p, "readings_total") - before;
  assertEquals(port.stats().framesSent, 4);
  assertEquals(metric(p, "frames_backlog"), taken - 4);
  assertEquals(metric(p, "frames_refused_total"), 0);

  const seqs: number[] = [];
  using _consumer = consume(port, seqs);
  await readings(p, plugins, 3);
  const sent = metric(p, "readings_total");
  assertEquals(metric(p, "frames_backlog"), 0);
  assertEquals(port.stats().framesSent, sent);
  assertEquals(seqs, Array.from({ length: sent }, (_, i) => i));
  await plugins.close();
});

Deno.test("sampler: past its backlog a frame is refused and counted", async () => {
  using p = parts();
  using port = new DataPort({ credit: 4 });
  const plugins = await loadSampler(p, port, SMALL_BACKLOG);
  const before = metric(p, "readings_total");
  await readings(p, plugins, 10);
  const taken = metric(p, "readings_total") - before;
  assertEquals(port.stats().framesSent, 4);
  assertEquals(metric(p, "frames_backlog"), 2);
  assertEquals(metric(p, "frames_refused_total"), taken - 6);
  // The frames sent are the first six, in order; the rest are gone.
  const seqs: number[] = [];
  using _consumer = consume(port, seqs);
  await plugins.close();
  assertEquals(seqs, [0, 1, 2, 3, 4, 5]);
});

Deno.test("sampler: stop sends the backlog as credit returns", async () => {
  using p = parts();
  using port = new DataPort({ credit: 4 });
  const plugins = await loadSampler(p, port, SAMPLER);
  await readings(p, plugins, 10);
  const waiting = metric(p, "frames_backlog");
  assertEquals(waiting > 0, true);
  const seqs: number[] = [];
  const unloading = plugins.unload("sampler");
  using _consumer = consume(port, seqs);
  await unloading;
  assertEquals(port.stats().framesSent, 4 + waiting);
  assertEquals(seqs, Array.from({ length: 4 + waiting }, (_, i) => seqs[0]! + i));
  await plugins.close();
});

Deno.test("sampler in a Worker: its 4-frame window runs out, the rest waits, all arrive in order", async () => {
  const p = realParts();
  const port = new DataPort({ name: "readings", credit: 4 });
  const workers = createWorkerHost();
  const plugins = realManager(p, { hosts: { worker: workers }, ...offering(port) });
  let readings = 0;
  using _readings = p.bus.topic("sampler.readings").subscribe(() => void readings++);
  try {
    await plugins.load(samplerManifest(SAMPLER, "worker"));
    // Nobody consumes: after the window (4 frames) the readings' frames wait.
    await eventually(() => readings >= 20, "20 readings");
    assertEquals(port.stats().framesSent, 4);
    const seqs: number[] = [];
    using _consumer = consume(port, seqs);
    const taken = readings;
    await eventually(() => seqs.length >= taken, `${taken} frames`);
    assertEquals(seqs.slice(0, taken), Array.from({ length: taken }, (_, i) => i));
  } finally {
    await plugins.close();
    port.close();
    p[Symbol.dispose]();
  }
});

Deno.test("sampler: a backlog that is not an integer >= 0 is a clear error", () => {
  for (const bad of [-1, 1.5, NaN, Infinity, "10" as unknown as number]) {
    assertThrows(
      () => samplerPlugin({ backlog: bad }),
      RangeError,
      "'backlog' must be an integer >= 0",
    );
  }
  assertEquals(typeof samplerPlugin({ backlog: 0 }), "object");
});
