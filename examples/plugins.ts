/**
 * Four plugins under the supervisor, and the telemetry ring printed live.
 *
 * Run (from the repository's root):
 *
 * ```sh
 * deno run --allow-read=. --allow-run examples/plugins.ts
 * ```
 *
 * `--allow-read=.` lets the kernel read the manifests and import the inline
 * plugin; `--allow-run` lets it audit the worker and process plugins' import
 * graphs (`deno info`) and start the process plugin. The plugins themselves
 * get only what their manifests grant (`examples/plugins/*.json`):
 *
 * - `sampler` (worker, no permissions): a reading at 100 Hz, published on the bus and sent
 *   as frames on a DataPort the kernel offers (`dataPorts`);
 * - `faulty` (worker): crashes 1.5 s after each start; restarted twice with
 *   backoff, then the supervisor gives up and unloads it;
 * - `hung` (process): spins forever 2 s after start; the watchdog sees its
 *   heartbeat stop, the process is killed, restarted once, then kept failed;
 * - `greedy` (worker, no permissions): tries every escape and logs each
 *   denial.
 *
 * Every lifecycle and supervisor event is read from the telemetry ring
 * (`kernel.plugins.telemetry.events()`, an async iterator) as it happens.
 * After 8 s the kernel shuts down (plugins in reverse load order) and the
 * program ends by itself.
 *
 * @module
 */
import { DataPort, Kernel, type TelemetryEvent } from "../mod.ts";

const RUN_MS = 8000;
const here = (path: string) => new URL(path, import.meta.url);

// The data port the sampler sends its frames on; the example consumes them.
const port = new DataPort({ name: "readings", credit: 256 });
let frames = 0;
let lastValue = NaN;
const frameView = new Float64Array(2);
port.onFrame((meta, view) => {
  frames++;
  new Uint8Array(frameView.buffer).set(view.subarray(0, 16));
  lastValue = frameView[1]!;
  port.recycle(meta);
});

const t0 = performance.now();
const kernel = await Kernel.start({
  plugins: ["sampler", "faulty", "hung", "greedy"].map((p) => here(`./plugins/${p}.json`)),
  pluginOptions: {
    dataPorts: (plugin, name) => plugin === "sampler" && name === "readings" ? port : undefined,
  },
});
console.log(`4 plugins started in ${(performance.now() - t0).toFixed(0)} ms\n`);

let readings = 0;
let faultyBeats = 0;
let hungTicks = 0;
kernel.bus.topic("sampler.readings").subscribe(() => void readings++);
kernel.bus.topic("faulty.alive").subscribe(() => void faultyBeats++);
kernel.bus.topic("hung.tick").subscribe(() => void hungTicks++);
frames = 0; // count frames from here on too, like the bus readings

function describe(e: TelemetryEvent): string {
  const parts: string[] = [];
  if (e.kind === "transition") parts.push(`${e.from} -> ${e.to} (${e.phase})`);
  if (e.durationMs !== undefined) parts.push(`${e.durationMs.toFixed(1)} ms`);
  if (e.delayMs !== undefined) parts.push(`in ${e.delayMs.toFixed(0)} ms`);
  if (e.attempt !== undefined) parts.push(`attempt ${e.attempt}`);
  if (e.reason !== undefined) parts.push(e.reason.split("\n")[0]!.slice(0, 110));
  if (e.error !== undefined && e.kind !== "transition") parts.push(e.error.slice(0, 110));
  else if (e.error !== undefined) parts.push(`error: ${e.error.split("\n")[0]!.slice(0, 90)}`);
  return parts.join(", ");
}

// The telemetry ring, live: every event held now, then each new one.
const stop = new AbortController();
const printing = (async () => {
  for await (const e of kernel.plugins.telemetry.events({ signal: stop.signal })) {
    const at = ((e.atMs - t0) / 1000).toFixed(3).padStart(7);
    console.log(
      `${at}s  #${String(e.seq).padEnd(4)} ${e.kind.padEnd(17)} ${e.plugin.padEnd(8)} ${
        describe(e)
      }`,
    );
  }
})();

for (let second = 1; second <= RUN_MS / 1000; second++) {
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const states = kernel.plugins.list().map((p) => `${p.name}=${p.state}`).join(" ");
  console.log(
    `  -- ${second}s: ${readings} readings published, ${frames} frames received (last ${
      lastValue.toFixed(2)
    }), faulty beats ${faultyBeats}, hung ticks ${hungTicks} | ${states}`,
  );
}

stop.abort();
await printing;
const report = await kernel.shutdown({ graceMs: 2000 });
const stats = kernel.stats().plugins;
console.log(`\nshutdown: graceful ${report.graceful} in ${report.durationMs.toFixed(0)} ms`);
for (const p of report.plugins?.plugins ?? []) {
  console.log(
    `  ${p.name.padEnd(8)} ${p.state.padEnd(9)} graceful ${p.graceful}, killed ${p.killed}, ${
      p.durationMs.toFixed(0)
    } ms`,
  );
}
console.log(
  `plugins: ${stats.restarts} restarts, ${stats.giveUps} give-ups, ${stats.autoUnloads} auto-unloads, ${stats.kills} kills, ${stats.zombies} zombies`,
);
console.log(
  `telemetry ring: ${stats.telemetry.size} of ${stats.telemetry.capacity} held, dropped ${
    JSON.stringify(stats.telemetry.dropped)
  }`,
);
const portStats = port.stats();
console.log(`data port: ${portStats.framesSent} frames sent, min credit ${portStats.minCredit}`);
port.close();
