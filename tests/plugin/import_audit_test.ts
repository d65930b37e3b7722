import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { auditImports, ImportAuditError } from "../../src/plugin/import_audit.ts";
import { validateManifest } from "../../src/plugin/manifest.ts";
import type { PluginManifest, ResolvedManifest } from "../../src/plugin/manifest_types.ts";

const FIXTURES = new URL("./_fixtures/audit/", import.meta.url);
const SHARED = new URL("shared/", FIXTURES).href;

function fixture(folder: string, fields: Partial<PluginManifest> = {}): ResolvedManifest {
  return validateManifest({
    name: folder.replaceAll("_", "-"),
    version: "1.0.0",
    entry: "mod.ts",
    ...fields,
  }, {
    baseUrl: new URL(`${folder}/`, FIXTURES),
  });
}

async function refused(
  manifest: ResolvedManifest,
  options: Parameters<typeof auditImports>[1] = { config: false },
): Promise<ImportAuditError> {
  const error = await assertRejects(() => auditImports(manifest, options), ImportAuditError);
  assertEquals(error.plugin, manifest.name);
  return error;
}

/** A plugin folder made for one test, inside the repository (the tests may write only there). */
async function withPlugin(
  files: Record<string, string>,
  fn: (folder: URL) => Promise<void>,
): Promise<void> {
  const path = await Deno.realPath(await Deno.makeTempDir({ dir: "." }));
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${path}/${name}`, text);
    }
    await fn(new URL(`file://${path}/`));
  } finally {
    await Deno.remove(path, { recursive: true });
  }
}

function inFolder(folder: URL, fields: Partial<PluginManifest> = {}): ResolvedManifest {
  return validateManifest({ name: "made", version: "1.0.0", entry: "mod.ts", ...fields }, {
    baseUrl: folder,
  });
}

Deno.test("auditImports() passes a graph that stays in the entry's folder", async () => {
  const manifest = fixture("clean");
  const audit = await auditImports(manifest, { config: false });
  const folder = new URL("clean/", FIXTURES).href;
  assertEquals(audit.entry, `${folder}mod.ts`);
  assertEquals(
    audit.modules,
    ["lib/a.ts", "lib/b.ts", "lib/lazy.ts", "mod.ts", "notes.txt", "settings.json"].map((f) =>
      `${folder}${f}`
    ),
  );
  assertEquals(audit.npmPackages, []);
  assertEquals(audit.builtins, []);
  assertEquals(audit.unresolved, []);
});

Deno.test("auditImports() uses the project's configuration by default", async () => {
  const audit = await auditImports(fixture("clean"));
  assertEquals(audit.modules.length, 6);
});

Deno.test("auditImports() refuses an escape through a static import", async () => {
  const error = await refused(fixture("escape_static"));
  assertEquals(error.code, "E_IMPORT_OUTSIDE_ROOTS");
  assertEquals(error.specifier, `${SHARED}outside.ts`);
  assertEquals(error.chain, [
    new URL("escape_static/mod.ts", FIXTURES).href,
    `${SHARED}outside.ts`,
  ]);
  assertEquals(error.violations.length, 1);
  assertStringIncludes(
    error.message,
    `Cannot load plugin "escape-static" as it imports "${SHARED}outside.ts" from outside its allowed roots: mod.ts -> ${
      new URL("outside.ts", SHARED).pathname
    }`,
  );
});

Deno.test("auditImports() refuses an escape through a dynamic import", async () => {
  const error = await refused(fixture("escape_dynamic"));
  assertEquals(error.specifier, `${SHARED}outside.ts`);
  assertEquals(error.chain.length, 2);
});

Deno.test("auditImports() refuses an escape through a JSON import", async () => {
  const error = await refused(fixture("escape_json"));
  assertEquals(error.specifier, `${SHARED}secret.json`);
});

Deno.test("auditImports() refuses an escape through a text import", async () => {
  const error = await refused(fixture("escape_text"));
  assertEquals(error.specifier, `${SHARED}secret.txt`);
});

Deno.test("auditImports() names the whole chain of a transitive escape", async () => {
  const error = await refused(fixture("escape_transitive"));
  const folder = new URL("escape_transitive/", FIXTURES).href;
  assertEquals(error.chain, [
    `${folder}mod.ts`,
    `${folder}a.ts`,
    `${folder}b.ts`,
    `${SHARED}outside.ts`,
  ]);
  assertStringIncludes(error.message, ": mod.ts -> a.ts -> b.ts -> /");
});

Deno.test("auditImports() allows a root that allowImports lists", async () => {
  const audit = await auditImports(fixture("escape_transitive", { allowImports: ["../shared"] }), {
    config: false,
  });
  assert(audit.modules.includes(`${SHARED}outside.ts`));
  const file = await auditImports(
    fixture("escape_static", { allowImports: ["../shared/outside.ts"] }),
    { config: false },
  );
  assertEquals(file.modules.length, 2);
  // A root is a path boundary: "../shar" does not allow "../shared/".
  await refused(fixture("escape_static", { allowImports: ["../shar"] }));
});

Deno.test("auditImports() allows an npm: import only when allowImports lists the package", async () => {
  const error = await refused(fixture("npm"));
  assertEquals(error.specifier, "npm:deno-std@1.4.0/assert/mod.js");
  await refused(fixture("npm", { allowImports: ["npm:zod"] }));
  const audit = await auditImports(fixture("npm", { allowImports: ["npm:deno-std"] }), {
    config: false,
  });
  assertEquals(audit.npmPackages, ["deno-std@1.4.0"]);
  const any = await auditImports(fixture("npm", { allowImports: ["npm:"] }), { config: false });
  assertEquals(any.npmPackages, ["deno-std@1.4.0"]);
});

Deno.test("auditImports() refuses a remote import outside the listed prefixes", async () => {
  await withPlugin({
    "mod.ts": 'import "https://example.com/lib/x.ts";\nexport default 1;\n',
  }, async (folder) => {
    const error = await refused(inFolder(folder));
    assertEquals(error.specifier, "https://example.com/lib/x.ts");
    assertEquals(error.chain, [`${folder.href}mod.ts`, "https://example.com/lib/x.ts"]);
    await refused(inFolder(folder, { allowImports: ["https://example.com/other/"] }));
  });
});

Deno.test("auditImports() refuses a jsr: import that allowImports does not list", async () => {
  await withPlugin(
    { "mod.ts": 'import "jsr:@std/path@^1";\nexport default 1;\n' },
    async (folder) => {
      const error = await refused(inFolder(folder, { allowImports: ["jsr:@std/fs"] }));
      assertEquals(error.specifier, "jsr:@std/path@^1");
    },
  );
});

Deno.test("auditImports() allows node: built-ins and lists them", async () => {
  await withPlugin({ "mod.ts": 'import "node:path";\nexport default 1;\n' }, async (folder) => {
    const audit = await auditImports(inFolder(folder), { config: false });
    assertEquals(audit.builtins, ["node:path"]);
  });
});

Deno.test("auditImports() follows a symbolic link to where it points", async () => {
  await withPlugin({ "mod.ts": 'import "./link.ts";\nexport default 1;\n' }, async (folder) => {
    // Deno.symlink needs unscoped read and write; the tests have --allow-run.
    const link = await new Deno.Command("ln", {
      args: ["-s", new URL("outside.ts", SHARED).pathname, `${folder.pathname}link.ts`],
    }).output();
    assert(link.success);
    const error = await refused(inFolder(folder));
    assertEquals(error.specifier, `${folder.href}link.ts`);
  });
});

Deno.test("auditImports() trusts Chronetix's own source unless told otherwise", async () => {
  await withPlugin({
    "mod.ts": 'import "../src/plugin/manifest_types.ts";\nexport default 1;\n',
  }, async (folder) => {
    const audit = await auditImports(inFolder(folder), { config: false });
    assertEquals(audit.modules, [`${folder.href}mod.ts`]);
    const error = await refused(inFolder(folder), { config: false, trustedRoots: [] });
    assertEquals(error.specifier, new URL("../src/plugin/manifest_types.ts", folder).href);
  });
});

Deno.test("auditImports() lists modules of its roots that do not load", async () => {
  await withPlugin({ "mod.ts": 'import "./missing.ts";\nexport default 1;\n' }, async (folder) => {
    const audit = await auditImports(inFolder(folder), { config: false });
    assertEquals(audit.unresolved.map((u) => u.specifier), [`${folder.href}missing.ts`]);
    assertStringIncludes(audit.unresolved[0]!.error, "Module not found");
  });
});

Deno.test("auditImports() fails clearly when the graph cannot be read", async () => {
  await withPlugin({}, async (folder) => {
    const missing = await refused(inFolder(folder));
    assertEquals(missing.code, "E_IMPORT_AUDIT_FAILED");
    assertEquals(missing.specifier, `${folder.href}mod.ts`);
    assertStringIncludes(
      missing.message,
      'Cannot audit the imports of plugin "made" as its entry does not load: Module not found',
    );
  });
  const noDeno = await refused(fixture("clean"), {
    config: false,
    denoPath: "./no-such-deno-binary",
  });
  assertEquals(noDeno.code, "E_IMPORT_AUDIT_FAILED");
  assertStringIncludes(noDeno.message, "'deno info' could not run");
  const badConfig = await refused(fixture("clean"), { config: "./no-such-config.json" });
  assertEquals(badConfig.code, "E_IMPORT_AUDIT_FAILED");
  assertStringIncludes(badConfig.message, "'deno info' exited with code");
});

Deno.test("auditImports() rejects malformed arguments", async () => {
  await assertRejects(
    () => auditImports({} as ResolvedManifest),
    TypeError,
    "Cannot audit plugin imports as 'manifest' must be a resolved manifest",
  );
  await assertRejects(
    () => auditImports(fixture("clean"), { timeoutMs: 0 }),
    RangeError,
    "'timeoutMs' must be from 1 to 600000",
  );
});
