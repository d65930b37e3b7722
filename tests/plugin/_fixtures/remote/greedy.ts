// Tries the escape its name names ("escape-read", ...) in init and publishes
// the outcome on "escape": { attempt, outcome: "allowed" | "denied" | "failed", error }.
import { definePlugin } from "../../../../src/plugin/author.ts";

const here = new URL(".", import.meta.url);
const repo = new URL("../../../../", import.meta.url);

const attempts: Record<string, () => unknown> = {
  read: () => Deno.readTextFileSync(new URL("deno.json", repo)),
  write: () => Deno.writeTextFileSync(new URL(".escape-write", here), "x"),
  net: async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(Deno.args[0] ?? 9) });
    conn.close();
  },
  env: () => Deno.env.get("HOME"),
  run: () => new Deno.Command("true").outputSync(),
  ffi: () => Deno.dlopen("libc.so.6", {}),
  sys: () => Deno.hostname(),
  "import-code": () => import(new URL("../" + ["counter", "ts"].join("."), here).href),
  "import-json": () =>
    import(new URL("../" + ["ticker", "json"].join("."), here).href, { with: { type: "json" } }),
};

export default definePlugin({
  async init(ctx) {
    const attempt = ctx.name.slice("escape-".length);
    let outcome = "allowed";
    let error: string | undefined;
    try {
      await attempts[attempt]!();
    } catch (e) {
      error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      // A computed import() that is refused is a TypeError naming the access it lacks.
      outcome = e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied ||
          /Requires \w+ access/.test(error)
        ? "denied"
        : "failed";
    }
    ctx.publish("escape", { attempt, outcome, error, isolation: ctx.isolation });
  },
});
