// A process plugin that writes raw bytes to stdout (its console is redirected
// to stderr; Deno.stdout is not): it breaks the framing 20 ms after start.
import { definePlugin } from "../../../../src/plugin/author.ts";

export default definePlugin({
  init(ctx) {
    ctx.after({
      name: "scribble",
      delayMs: 20,
      run: () => void Deno.stdout.writeSync(new TextEncoder().encode("hello, host\n")),
    });
  },
});
