// The fingerprint a hot reload takes of a worker or process plugin's files
// (whether its import audit must run again): one line per file, in sorted
// depth-first order, that changes when a file is added, resized or touched.
import { assert, assertEquals, assertNotEquals } from "@std/assert";
import { fingerprint } from "../../src/plugin/_reload_fingerprint.ts";

async function tree(files: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir({ dir: ".", prefix: ".fingerprint-" });
  for (const [path, text] of Object.entries(files)) {
    const full = `${root}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(full, text);
  }
  return await Deno.realPath(root);
}

const rootUrl = (path: string) => new URL(`file://${path}/`).href;

Deno.test("fingerprint() lists every file under the roots in sorted depth-first order", async () => {
  const root = await tree({ "b.ts": "b", "a/z.ts": "zz", "a/b/c.ts": "ccc", "c.ts": "" });
  try {
    const print = await fingerprint([rootUrl(root)]);
    const paths = print?.split("\n").map((line) => line.split(" ")[0]!.slice(root.length));
    assertEquals(paths, ["/a/b/c.ts", "/a/z.ts", "/b.ts", "/c.ts"]);
    const sizes = print?.split("\n").map((line) => line.split(" ")[1]);
    assertEquals(sizes, ["3", "2", "1", "0"]);
    assertEquals(await fingerprint([rootUrl(root)]), print); // nothing changed
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("fingerprint() changes when a file is added, resized or touched", async () => {
  const root = await tree({ "mod.ts": "export const a = 1;", "lib/util.ts": "x" });
  try {
    const first = await fingerprint([rootUrl(root)]);
    await Deno.writeTextFile(`${root}/lib/more.ts`, "y");
    const added = await fingerprint([rootUrl(root)]);
    assertNotEquals(added, first);
    await Deno.writeTextFile(`${root}/mod.ts`, "export const a = 12;");
    const resized = await fingerprint([rootUrl(root)]);
    assertNotEquals(resized, added);
    const later = new Date(Date.now() + 60_000);
    await Deno.utime(`${root}/lib/util.ts`, later, later);
    assertNotEquals(await fingerprint([rootUrl(root)]), resized);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("fingerprint() is undefined for a root it cannot walk or a tree past its file cap", async () => {
  assertEquals(await fingerprint(["https://example.com/plugin/"]), undefined);
  assertEquals(await fingerprint(["npm:left-pad"]), undefined);
  assertEquals(await fingerprint([rootUrl(`${Deno.cwd()}/.no-such-folder-here`)]), undefined);
  const files: Record<string, string> = {};
  for (let i = 0; i < 2001; i++) files[`f${i}.ts`] = "";
  const root = await tree(files);
  try {
    assertEquals(await fingerprint([rootUrl(root)]), undefined);
    await Deno.remove(`${root}/f0.ts`);
    assert((await fingerprint([rootUrl(root)]))?.split("\n").length === 2000);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
