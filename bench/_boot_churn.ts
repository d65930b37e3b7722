// A stand-in for a crash-looping plugin, in its own process, for the
// `crash-loop` case of `bench:plugins`: it boots what the plugin's host
// would boot (a Deno process, or a Web Worker) with the same module graph
// (the plugin's module and the host's entry for it), lets each one throw 25
// ms after it started, and boots the next, at the rate it is given and at
// most one at a time, as the supervisor restarts a plugin. No kernel runs
// here: a 1 kHz kernel task's lateness while this process churns is what
// the boots themselves cost on the same cores, so the crash-looping plugin
// beyond it is the kernel's own share.
//
//   deno run --allow-read --allow-run bench/_boot_churn.ts <process|worker> <plugin module URL>
//
// Switched over stdin (bench/_switched_process.ts): `on <boots per second>`
// starts the churn, `off` ends it and prints `{ boots, seconds }`.

import { serveSwitched } from "./_switched_process.ts";

const [kind, plugin] = Deno.args;
if ((kind !== "process" && kind !== "worker") || plugin === undefined) {
  console.error("usage: _boot_churn.ts <process|worker> <plugin module URL>");
  Deno.exit(2);
}
const entry = new URL(
  kind === "process" ? "../src/plugin/_process_entry.ts" : "../src/plugin/_worker_entry.ts",
  import.meta.url,
).href;
// The plugin's module graph and the host's entry, loaded and not served;
// then the crash the bench's plugin makes 25 ms after it started, contained
// as the host contains it: the process exits, the Worker says so and is
// terminated.
const crash = kind === "process" ? "Deno.exit(1)" : 'self.postMessage("crash")';
const source = `import * as plugin from ${JSON.stringify(plugin)};\n` +
  `import * as entry from ${JSON.stringify(entry)};\n` +
  `void plugin; void entry;\n` +
  `setTimeout(() => ${crash}, 25);\n`;
const program = `data:application/javascript,${encodeURIComponent(source)}`;

/** One boot, until the booted thing ended. */
async function boot(): Promise<void> {
  if (kind === "process") {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--no-prompt", program],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await child.output(); // reads stdout and stderr to their ends
    await child.stdin.close().catch(() => {});
    return;
  }
  const { promise, resolve } = Promise.withResolvers<void>();
  const worker = new Worker(program, { type: "module" });
  worker.onmessage = () => {
    worker.terminate();
    resolve();
  };
  await promise;
}

await serveSwitched(async (stop, argument) => {
  const rate = Number(argument);
  if (!(rate > 0)) {
    throw new Error(`_boot_churn.ts: 'on' needs boots per second: got "${argument}"`);
  }
  const t0 = performance.now();
  let boots = 0;
  while (!stop.aborted) {
    const due = t0 + (boots * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (stop.aborted) break;
    await boot();
    boots++;
  }
  return { boots, seconds: (performance.now() - t0) / 1000 };
});
