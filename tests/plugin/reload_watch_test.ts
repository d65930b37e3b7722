// Watch mode: `"watch": true` in a manifest reloads the plugin when a file of
// its folder changes (Deno.watchFs, debounced on the kernel's driver); a
// change that does not load leaves the old version running and says why.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { validateManifest } from "../../src/plugin/manifest.ts";
import { manager, type Parts, parts } from "./_setup.ts";

const API = new URL("../../src/plugin/author.ts", import.meta.url).href;

function source(factor: number): string {
  return `import { definePlugin } from ${JSON.stringify(API)};
let count = 0;
export default definePlugin({
  stateVersion: 1,
  init(ctx) {
    count = 0;
    ctx.subscribe("w.in", (n) => { count++; ctx.publish("w.out", [n * ${factor}, count]); });
  },
  exportState: () => ({ count }),
  importState(state) { count = state.value.count; },
});
`;
}

/** Lets real file-system events in and moves the virtual clock, until `condition()`. */
async function until(p: Parts, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) {
    await new Promise<void>((resolve) => setTimeout(resolve, 5));
    p.clock.advance(50);
  }
  assert(condition(), "the condition did not hold");
}

Deno.test("watch mode reloads a plugin when its source changes, and keeps it when the change fails", async () => {
  const folder = await Deno.makeTempDir({ dir: ".", prefix: ".reload-watch-" });
  try {
    const entry = `${Deno.realPathSync(folder)}/plugin.ts`;
    await Deno.writeTextFile(entry, source(1));
    using p = parts();
    const plugins = manager(p);
    await plugins.load(validateManifest({
      name: "watched",
      version: "1.0.0",
      entry: `file://${entry}`,
      isolation: "inline",
      capabilities: ["subscribe", "publish"],
      watch: true,
    }));
    const out: [number, number][] = [];
    using _out = p.bus.topic<[number, number]>("w.out").subscribe((v) => void out.push(v));
    p.bus.topic<number>("w.in").publish(1);
    await Deno.writeTextFile(entry, source(10));
    await until(p, () => plugins.stats().hotReload.switches >= 1);
    await plugins.whenIdle();
    p.bus.topic<number>("w.in").publish(2);
    assertEquals(out, [[1, 1], [20, 2]]); // the new source, the count handed over
    // A change that does not compile: the reload fails, the old version runs on.
    await Deno.writeTextFile(entry, "export default definePlugin({ oops");
    await until(p, () => plugins.stats().hotReload.failed >= 1);
    await plugins.whenIdle();
    p.bus.topic<number>("w.in").publish(3);
    assertEquals(out.at(-1), [30, 3]);
    assert(
      p.logger.lines.some((l) => l.includes('Plugin "watched" was not reloaded after a change')),
      p.logger.lines.join("\n"),
    );
    const failed = plugins.telemetry.snapshot().findLast((e) => e.kind === "reload");
    assertStringIncludes(failed?.reason ?? "", "failed in prepare");
    await plugins.close();
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("watch mode reloads only the plugin whose own files changed, not its folder's neighbours", async () => {
  const folder = await Deno.makeTempDir({ dir: ".", prefix: ".reload-watch-" });
  try {
    const real = Deno.realPathSync(folder);
    await Deno.writeTextFile(`${real}/a.ts`, source(1));
    await Deno.writeTextFile(`${real}/b.ts`, source(2));
    using p = parts();
    const plugins = manager(p);
    for (const name of ["a", "b"]) {
      await plugins.load(validateManifest({
        name,
        version: "1.0.0",
        entry: `file://${real}/${name}.ts`,
        isolation: "inline",
        capabilities: ["subscribe", "publish"],
        watch: true,
      }));
    }
    const reloaded = (name: string) =>
      plugins.telemetry.snapshot().filter((e) => e.kind === "reload" && e.plugin === name).length;
    // A file that is no plugin's (notes, an editor's swap file), then a's own source.
    await Deno.writeTextFile(`${real}/notes.txt`, "not code\n");
    await Deno.writeTextFile(`${real}/a.ts`, source(10));
    await until(p, () => reloaded("a") >= 1);
    await plugins.whenIdle();
    // Then b's own source: b reloads, a does not (again).
    await Deno.writeTextFile(`${real}/b.ts`, source(20));
    await until(p, () => reloaded("b") >= 1);
    await plugins.whenIdle();
    assertEquals([reloaded("a"), reloaded("b")], [1, 1]);
    await plugins.close();
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});
