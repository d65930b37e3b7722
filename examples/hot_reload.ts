/**
 * Hot reload under load: a sampler (a kernel task) publishes a sequence
 * number every millisecond (1 kHz), a consumer plugin counts them, and every 2 s the
 * consumer's source is rewritten on disk (a new FACTOR, so its output
 * changes). Watch mode (`"watch": true` in its manifest) sees the change and
 * reloads it: each switch's steps and durations are printed, with the
 * running totals of events sent and received (received trails sent only by
 * the acknowledgements still in flight; at the end they are equal, or the
 * example exits with 1). Last, a rollback: a broken version (it fails 300 ms
 * after its start) is loaded with a probation window; on the worker and
 * inline hosts the kept old instance takes over again, on the process host
 * the old version is started again from its manifest.
 *
 * Run (from the repository's root):
 *
 * ```sh
 * deno run -A examples/hot_reload.ts [--seconds N] [--isolation worker|process|inline]
 * ```
 *
 * The consumer runs in a worker by default; its source lives in a temporary
 * copy of `examples/plugins/reload_consumer/`, removed at the end. The
 * example ends by itself after `--seconds` (default 10).
 *
 * @module
 */
import { Kernel, type TelemetryEvent } from "../mod.ts";

/** The value of `--name N` or `--name=N`. */
function flag(name: string): string | undefined {
  const i = Deno.args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  const a = Deno.args[i]!;
  return a.includes("=") ? a.slice(a.indexOf("=") + 1) : Deno.args[i + 1];
}
const seconds = Number(flag("seconds") ?? "10");
const isolation = flag("isolation") ?? "worker";
if (!Number.isFinite(seconds) || seconds <= 0) {
  console.error(
    `Cannot run as '--seconds' must be a number > 0: current value is "${flag("seconds")}"`,
  );
  Deno.exit(2);
}
if (!["worker", "process", "inline"].includes(isolation)) {
  console.error(
    `Cannot run as '--isolation' must be worker, process or inline: current value is "${isolation}"`,
  );
  Deno.exit(2);
}

// The consumer's source, in a temporary folder, importing the plugin API by URL.
const template = await Deno.readTextFile(
  new URL("./plugins/reload_consumer/consumer.ts", import.meta.url),
);
const api = new URL("../src/plugin/author.ts", import.meta.url).href;
const folder = await Deno.makeTempDir({ prefix: "chronetix-hot-reload-" });
const entry = `${folder}/consumer.ts`;
const source = (factor: number) =>
  template.replace('"@chronetix/core/plugin"', JSON.stringify(api))
    .replace("const FACTOR = 1;", `const FACTOR = ${factor};`);
await Deno.writeTextFile(entry, source(1));

const quiet = { error: (m: string) => console.error(m), warn() {}, info() {} };
const kernel = await Kernel.start({ logger: quiet });
let sent = 0;
let received = 0;
let lastOutput = NaN;
kernel.bus.topic<[number, number, number]>("acks").subscribe(([, , output]) => {
  received++;
  lastOutput = output;
});
await kernel.plugins.load({
  name: "consumer",
  version: "1.0.0",
  entry: `file://${entry}`,
  isolation: isolation as "worker",
  capabilities: ["subscribe", "publish"],
  permissions: "none",
  watch: true,
});
const samples = kernel.bus.topic<number>("samples");
const sampler = kernel.periodic({
  name: "sampler",
  periodMs: 1,
  run: () => void samples.publish(sent++),
});

// Each switch, from the telemetry ring.
const abort = new AbortController();
const printed = (async () => {
  for await (
    const e of kernel.plugins.telemetry.events({ from: "next", signal: abort.signal })
  ) {
    if (e.kind !== "reload") continue;
    const steps = Object.entries((e as TelemetryEvent).phases ?? {})
      .map(([step, ms]) => `${step} ${ms.toFixed(1)}`).join(", ");
    console.log(
      `switch (${e.reason}) in ${
        e.durationMs?.toFixed(1)
      } ms [${steps}] | sent ${sent}, received ${received}, last output ${lastOutput}`,
    );
  }
})().catch(() => {});

let factor = 1;
const rewrite = setInterval(() => {
  factor++;
  void Deno.writeTextFile(entry, source(factor));
}, 2000);
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
clearInterval(rewrite);

// A rollback. The sampler pauses first: a crash loses what its instance had
// not handled yet, and the totals must still agree.
sampler.pause();
for (let i = 0; i < 200 && received < sent; i++) await new Promise((r) => setTimeout(r, 10));
const brokenEntry = `${folder}/broken.ts`;
await Deno.writeTextFile(
  brokenEntry,
  source(factor + 1).replace("const CRASH_AFTER_MS = 0;", "const CRASH_AFTER_MS = 300;"),
);
const broken = await kernel.plugins.reload("consumer", {
  entry: `file://${brokenEntry}`,
  version: "2.0.0-broken",
  probationMs: 5000,
});
console.log(`switch to the broken version: ok ${broken.ok}, old instance kept ${broken.oldKept}`);
for (let i = 0; i < 500 && kernel.plugins.get("consumer")?.version === "2.0.0-broken"; i++) {
  await new Promise((r) => setTimeout(r, 10));
}
await kernel.plugins.whenIdle();
const rollback = kernel.plugins.telemetry.snapshot().findLast((e) => e.kind === "rollback");
console.log(`rollback: ${rollback?.reason ?? "none"}`);
const back = kernel.plugins.get("consumer");
console.log(`running: ${back?.version} (${back?.state})`);
sampler.resume();
await new Promise((resolve) => setTimeout(resolve, 500));
sampler.cancel();
// Let the last acknowledgements arrive, then compare.
for (let i = 0; i < 200 && received < sent; i++) await new Promise((r) => setTimeout(r, 10));
const hot = kernel.plugins.stats().hotReload;
console.log(
  `done: sent ${sent}, received ${received} (${sent === received ? "equal" : "NOT equal"}); ` +
    `switches ${hot.success} ok, ${hot.failed} failed`,
);
abort.abort();
await printed;
await kernel.shutdown({ graceMs: 3000 });
await Deno.remove(folder, { recursive: true });
if (sent !== received) Deno.exit(1);
