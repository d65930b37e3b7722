// A greedy plugin: in init it tries every way out of its sandbox (read,
// write, net, env, run, ffi, sys, a computed import of code and of JSON
// outside its folder) and logs each outcome. Its manifest grants nothing
// ("permissions": "none") and it runs in a Worker, so each attempt is denied.
// (A STATIC import outside its folder would not even load: the host audits
// the import graph before the Worker starts.) Given the "publish" capability
// (the demo's examples/demo/plugins/greedy.json), it also publishes the
// running tally on "greedy.escapes" as { rounds, attempts, denied, escaped };
// `greedyPlugin({ retryEveryMs })` makes one that tries again that often (one
// log line per round).
import { definePlugin, type Plugin, type PluginContext } from "../../src/plugin/author.ts";

const repo = new URL("../../", import.meta.url);

const attempts: [string, () => unknown][] = [
  ["read deno.json", () => Deno.readTextFileSync(new URL("deno.json", repo))],
  ["write a file", () => Deno.writeTextFileSync(new URL("./greedy.out", import.meta.url), "x")],
  ["net 127.0.0.1:9", async () => (await Deno.connect({ hostname: "127.0.0.1", port: 9 })).close()],
  ["env HOME", () => Deno.env.get("HOME")],
  ["run `true`", () => new Deno.Command("true").outputSync()],
  ["ffi dlopen libc", () => Deno.dlopen("libc.so.6", {})],
  ["sys hostname", () => Deno.hostname()],
  ["import code", () => import(new URL(["mod", "ts"].join("."), repo).href)],
  [
    "import JSON",
    () => import(new URL(["deno", "json"].join("."), repo).href, { with: { type: "json" } }),
  ],
];

/** Tries every escape once; logs each outcome when `verbose`, else one line. */
async function tryAll(ctx: PluginContext, verbose: boolean, tally: Tally): Promise<void> {
  let denied = 0;
  for (const [attempt, run] of attempts) {
    tally.attempts++;
    try {
      await run();
      tally.escaped++;
      ctx.log.warn(`ESCAPED: ${attempt} was allowed`);
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      const refused = error instanceof Deno.errors.NotCapable ||
        error instanceof Deno.errors.PermissionDenied || /Requires \w+ access/.test(message);
      if (refused) denied++;
      if (verbose || !refused) {
        ctx.log.info(`${refused ? "denied" : "failed"}: ${attempt} (${message.split("\n")[0]})`);
      }
    }
  }
  tally.denied += denied;
  tally.rounds++;
  ctx.log.info(`round ${tally.rounds}: ${denied} of ${attempts.length} escapes denied`);
  if (ctx.capabilities.includes("publish")) ctx.publish("greedy.escapes", { ...tally });
}

interface Tally {
  rounds: number;
  attempts: number;
  denied: number;
  escaped: number;
}

/** Options of {@linkcode greedyPlugin}. */
export interface GreedyOptions {
  /** Try every escape again this often, ms; 0: only once, in init. @default {0} */
  retryEveryMs?: number;
}

/** A plugin that tries every escape in init, and again every `retryEveryMs`. */
export function greedyPlugin(options: GreedyOptions = {}): Plugin {
  const retryEveryMs = options.retryEveryMs ?? 0;
  return definePlugin({
    async init(ctx) {
      const tally: Tally = { rounds: 0, attempts: 0, denied: 0, escaped: 0 };
      await tryAll(ctx, true, tally);
      if (retryEveryMs > 0) {
        ctx.every({ name: "retry", periodMs: retryEveryMs, run: () => tryAll(ctx, false, tally) });
      }
    },
  });
}

export default greedyPlugin();
