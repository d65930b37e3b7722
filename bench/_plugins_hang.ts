// The plugin of bench:plugins case `hang`: on the event "hang.go" ({ file })
// an event task writes the wall-clock time it starts (ms since the epoch,
// `performance.timeOrigin + performance.now()`) to `file`, then spins
// forever in synchronous code. The manifest grants `write` of the file's
// folder and capability "subscribe".
import { definePlugin } from "../src/plugin/author.ts";

export default definePlugin({
  init(ctx) {
    ctx.onEvent<{ file: string }>({
      name: "spin",
      topic: "hang.go",
      run: (run) => {
        const startedAt = performance.timeOrigin + performance.now();
        Deno.writeTextFileSync(run.event.file, String(startedAt));
        while (true) { /* never returns */ }
      },
    });
  },
});
