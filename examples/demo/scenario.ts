/**
 * The demo's script (config `scripts`), called by `chronetix run` once
 * everything started. It plays the scenario around the components the
 * config starts:
 *
 * - moves the island's setpoint every 2 s (the 1 kHz loop tracks it);
 * - publishes a burst of 60 events on "demo.burst" every 5 s, more than the
 *   QoS caps of the config's event tasks let wait;
 * - runs "crc", a 50 Hz stream of CRC-32 jobs over 64 KiB, offloaded to the
 *   kernel's offload pool, each result checked;
 * - hot reloads the consumer plugin every 15 s (a new version each time);
 * - adds a plugin fault detector to the server's fault monitor, and prints
 *   what the plugins do (crashes, restarts, hangs, zombies, give-ups,
 *   reloads) as it happens, and the greedy plugin's escape tally;
 * - with `DEMO_SECONDS` set, asks for the shutdown after that many seconds.
 *
 * When the shutdown begins, it records which components were running, stops
 * the sampler and lets the consumer drain, then checks the stream end to end:
 * every frame sent was received whole and in order, and the consumer's event
 * count (carried across its reloads) equals what the sampler published. After
 * the shutdown it prints its findings and one machine-readable line,
 * `DEMO RESULT {json}` (see {@linkcode DemoResult}), whose `ok` and `failures`
 * say how the checks went; a failed check makes its `afterShutdown` hook throw,
 * so `chronetix run` exits 1.
 *
 * @module
 */
import type { ScriptContext, ScriptHooks } from "../../src/cli/script_types.ts";
import type { ShutdownReport } from "../../mod.ts";
import checksum from "../jobs/checksum.ts";
import type { ConsumerCounts } from "./plugins/consumer.ts";
import { pluginFaultDetector } from "./plugin_faults.ts";
import { type DemoResult, judge, type Tally } from "./_result.ts";
import { watchPlugins } from "./_plugin_events.ts";

const RELOAD_EVERY_MS = 15_000;
const BURST_EVERY_MS = 5_000;
const BURST_EVENTS = 60;
const SETPOINT_EVERY_MS = 2_000;
const CRC_BYTES = 64 * 1024;

/** Reads `DEMO_SECONDS`: a number > 0, or undefined (run until Ctrl-C). */
function demoSeconds(): number | undefined {
  const text = Deno.env.get("DEMO_SECONDS");
  if (text === undefined || text === "") return undefined;
  const seconds = Number(text);
  if (!(seconds > 0) || !Number.isFinite(seconds)) {
    throw new RangeError(
      `Cannot run the demo as 'DEMO_SECONDS' must be a number > 0: current value is "${text}"`,
    );
  }
  return seconds;
}

/** The scenario; see the module doc. */
export default function scenario(ctx: ScriptContext): ScriptHooks {
  const { kernel, print } = ctx;
  const limit = demoSeconds();
  const t0 = kernel.clock.now();
  const at = () => `${((kernel.clock.now() - t0) / 1000).toFixed(1).padStart(5)}s`;
  const say = (line: string) => print(`  ${at()} | ${line}`);
  const tally: Tally = {
    published: 0,
    consumer: undefined,
    greedy: undefined,
    bursts: 0,
    crcJobs: 0,
    crcMismatches: 0,
    crcFailures: 0,
    reloads: [],
    faults: [],
  };
  const cleanups: (() => void)[] = [];
  const every = (ms: number, fn: () => void) => {
    const timer = kernel.driver.every(ms, fn, { latenessClass: "demo-script" });
    cleanups.push(() => timer.cancel());
  };

  if (ctx.server !== undefined) {
    const monitor = ctx.server.server.monitor;
    const detector = monitor.addDetector(pluginFaultDetector(kernel.plugins));
    const log = monitor.log.subscribe((e) => {
      if (e.type !== "fault_updated") {
        tally.faults.push({ type: e.type, code: e.fault.code, entity: e.fault.entityId });
        say(
          `fault ${
            e.type === "fault_confirmed" ? "raised" : "healed"
          }: ${e.fault.code} on ${e.fault.entityId}`,
        );
      }
    });
    cleanups.push(() => detector[Symbol.dispose](), () => log[Symbol.dispose]());
  }
  print(
    limit === undefined
      ? "Demo running until Ctrl-C"
      : `Demo running for ${limit} s (DEMO_SECONDS), or until Ctrl-C`,
  );

  // What the plugins say on the bus.
  const subscriptions = [
    // Readings published before this script subscribed count too: seq starts at 0.
    kernel.bus.topic<{ seq: number }>("sampler.readings").subscribe(({ seq }) => {
      tally.published = tally.published === 0 ? seq + 1 : tally.published + 1;
    }),
    kernel.bus.topic<ConsumerCounts>("consumer.counts").subscribe((c) => {
      if (tally.consumer === undefined || c.events >= tally.consumer.events) tally.consumer = c;
    }),
    kernel.bus.topic<NonNullable<Tally["greedy"]>>("greedy.escapes").subscribe((g) => {
      if (tally.greedy === undefined) {
        say(`greedy: ${g.denied} of ${g.attempts} escape attempts denied (each one logged)`);
      }
      tally.greedy = g;
    }),
  ];
  const plugins = watchPlugins(kernel.plugins, say, ctx.signal);

  // The island's setpoint: a step every 2 s; the loop's output follows.
  const island = kernel.islands.find((i) => i.name === "control");
  let step = 0;
  island?.values.in?.write({ setpoint: step });
  every(SETPOINT_EVERY_MS, () => {
    const out = island?.values.out?.read();
    if (out !== undefined && step % 5 === 0) {
      say(`control: setpoint ${step % 4}, output ${out.output?.toFixed(3)} after ${out.runs} runs`);
    }
    island?.values.in?.write({ setpoint: ++step % 4 });
  });

  // QoS: a burst more than the event tasks' caps take.
  const burst = kernel.bus.topic<number>("demo.burst");
  every(BURST_EVERY_MS, () => {
    tally.bursts++;
    for (let i = 0; i < BURST_EVENTS; i++) burst.publish(i);
    say(
      `QoS burst ${tally.bursts}: ${BURST_EVENTS} events on "demo.burst" (caps: 4, 4 and 64 waiting)`,
    );
  });

  // The CRC stream: offloaded jobs, each result checked against one computed here.
  const payload = new Uint8Array(CRC_BYTES).map((_, i) => (i * 31) & 0xff);
  const expected = checksum(payload);
  const offload = kernel.offload;
  if (offload !== undefined) {
    const crc = kernel.periodic({
      name: "crc",
      periodMs: 20,
      deadlineMs: 20,
      run: async () => {
        try {
          const result = await offload.submit<number>("checksum", payload);
          tally.crcJobs++;
          if (result !== expected) tally.crcMismatches++;
        } catch {
          tally.crcFailures++;
        }
      },
    });
    cleanups.push(() => crc.cancel());
  }

  // Hot reload of the consumer every 15 s, a new patch version each time.
  let reloading: Promise<void> = Promise.resolve();
  every(RELOAD_EVERY_MS, () => {
    const current = kernel.plugins.get("consumer");
    if (current === undefined || current.state !== "started") return;
    const [major, minor, patch] = current.version.split(".").map(Number);
    const version = `${major}.${minor}.${(patch ?? 0) + 1}`;
    reloading = kernel.plugins.reload("consumer", { version }).then((r) => {
      tally.reloads.push({ ok: r.ok, from: r.fromVersion, to: r.toVersion, ms: r.durationMs });
      say(
        r.ok
          ? `consumer hot reloaded ${r.fromVersion} -> ${r.toVersion} in ${
            r.durationMs.toFixed(0)
          } ms (${r.buffered} events held during the switch, none lost)`
          : `consumer reload FAILED in ${r.failedPhase}: ${r.reason}`,
      );
    }, (error) => say(`consumer reload refused: ${error}`));
  });

  if (limit !== undefined) {
    const timer = kernel.driver.after(limit * 1000, () => ctx.stop(`DEMO_SECONDS=${limit}`));
    cleanups.push(() => timer.cancel());
  }

  let running: DemoResult["running"] | undefined;
  let stream: DemoResult["stream"] | undefined;
  let qos: DemoResult["qos"] = {};
  let seconds = 0;
  let hungRetired = "not loaded";
  return {
    async beforeShutdown() {
      seconds = (kernel.clock.now() - t0) / 1000;
      running = await snapshotRunning(ctx);
      qos = qosFigures(kernel);
      for (const cleanup of cleanups.splice(0)) cleanup();
      await reloading;
      // The hung plugin goes first: caught in a spin, it is killed (a zombie),
      // which the kernel's report would rightly call not graceful.
      if (kernel.plugins.get("hung") !== undefined) {
        const r = await kernel.plugins.unload("hung", { graceMs: 1000 }).catch(() => undefined);
        hungRetired = r === undefined ? "failed" : r.killed ? "killed while hung" : "stopped";
      }
      // Stop the producer, then let the consumer take everything in flight.
      await kernel.plugins.unload("sampler").catch(() => {});
      const port = ctx.dataPorts.get("frames");
      const done = () => {
        const c = tally.consumer;
        return c !== undefined && c.events === tally.published &&
          c.frames === (port?.stats().framesSent ?? 0);
      };
      for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
      const p = port?.stats();
      const c = tally.consumer;
      stream = {
        published: tally.published,
        consumerEvents: c?.events ?? 0,
        eventGaps: c?.eventGaps ?? -1,
        framesSent: p?.framesSent ?? 0,
        framesRefused: tally.published - (p?.framesSent ?? 0),
        framesReceived: c?.frames ?? 0,
        framesLost: (p?.framesSent ?? 0) - (c?.frames ?? 0),
        frameGaps: c?.frameGaps ?? -1,
        frameGapsAt: c?.frameGapsAt ?? [],
        port: {
          received: p?.framesReceived ?? 0,
          recycled: p?.framesRecycled ?? 0,
          unreceived: p?.unreceived ?? 0,
          unrecycled: p?.unrecycled ?? 0,
        },
        badFrames: c?.badFrames ?? -1,
        frameBytes: c === undefined || c.frames === 0 ? 0 : c.bytes / c.frames,
        consumerInstances: c?.instances ?? 0,
        consumerVersion: c?.version ?? "",
      };
    },
    afterShutdown(report: ShutdownReport) {
      plugins.stop();
      for (const subscription of subscriptions) subscription.unsubscribe();
      const result = judge({
        seconds,
        running: running ?? {},
        stream: stream!,
        plugins: plugins.tally,
        tally,
        qos,
        report,
        hungRetired,
      });
      print("");
      for (const line of result.lines) print(line);
      print(`DEMO RESULT ${JSON.stringify(result.result)}`);
      // A failed check fails the run: `chronetix run` exits 1.
      if (!result.result.ok) {
        throw new Error(`the demo's checks failed: ${result.result.failures.join("; ")}`);
      }
    },
  };
}

/** Which components run now, each with a word or figure that shows it. */
async function snapshotRunning(ctx: ScriptContext): Promise<DemoResult["running"]> {
  const { kernel } = ctx;
  const running: DemoResult["running"] = {};
  for (const island of kernel.islands) {
    const s = island.stats();
    running[`island:${island.name}`] = s.state === "running" && s.runs > 0 ? "running" : s.state;
  }
  for (const t of kernel.executor.stats().perTask) {
    running[`task:${t.name}`] = t.runs > 0 && !t.finished
      ? "running"
      : `${t.state}, ${t.runs} runs`;
  }
  for (const p of kernel.plugins.list()) running[`plugin:${p.name}`] = p.state;
  const offload = kernel.offload?.stats();
  if (offload !== undefined) {
    running["offload"] = offload.completed > 0 && offload.workersAlive > 0 ? "running" : "idle";
  }
  if (ctx.server !== undefined) {
    const base = `http://${ctx.server.addr.hostname}:${ctx.server.addr.port}`;
    for (const [name, path] of [["server", "/metrics"], ["dashboard", "/"]] as const) {
      try {
        const response = await fetch(`${base}${path}`);
        await response.body?.cancel();
        running[name] = response.ok ? "running" : `HTTP ${response.status}`;
      } catch (error) {
        running[name] = `unreachable: ${error}`;
      }
    }
  }
  return running;
}

/** The QoS figures of the burst tasks: runs and drops by reason. */
function qosFigures(kernel: ScriptContext["kernel"]): DemoResult["qos"] {
  const qos: DemoResult["qos"] = {};
  for (const t of kernel.executor.stats().perTask) {
    if (!t.name.startsWith("burst-")) continue;
    qos[t.name] = { runs: t.runs, releases: t.releases, dropped: { ...t.dropped } };
  }
  return qos;
}
