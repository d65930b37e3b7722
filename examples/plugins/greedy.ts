// A greedy plugin: in init it tries every way out of its sandbox (read,
// write, net, env, run, ffi, sys, a computed import of code and of JSON
// outside its folder) and logs each outcome. Its manifest grants nothing
// ("permissions": "none") and it runs in a Worker, so each attempt is denied.
// (A STATIC import outside its folder would not even load: the host audits
// the import graph before the Worker starts.)
import { definePlugin } from "../../src/plugin/author.ts";

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

export default definePlugin({
  async init(ctx) {
    let denied = 0;
    for (const [attempt, run] of attempts) {
      try {
        await run();
        ctx.log.warn(`ESCAPED: ${attempt} was allowed`);
      } catch (error) {
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        const refused = error instanceof Deno.errors.NotCapable ||
          error instanceof Deno.errors.PermissionDenied || /Requires \w+ access/.test(message);
        if (refused) denied++;
        ctx.log.info(`${refused ? "denied" : "failed"}: ${attempt} (${message.split("\n")[0]})`);
      }
    }
    ctx.log.info(`${denied} of ${attempts.length} escapes denied`);
  },
});
