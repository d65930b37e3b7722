// Seeded fuzz of plugin manifests. Hostile values (random JSON, proxies whose
// traps throw, getters, cycles, prototype keys, wrong types at every depth)
// go to validateManifest(): it returns a complete, frozen manifest or throws
// ONE clean ManifestError listing its problems, never an engine error and
// never a partly filled result. Mutating one field of a valid manifest at a
// time is checked against a reference model: a valid value is kept, a bad one
// gives exactly one problem on that field's path. Random file contents go to
// loadManifest(), and every manifest that validates maps onto Worker
// permissions and subprocess flags without a throw.
import { assert, assertEquals } from "@std/assert";
import { assertCleanError, check, fc, hostile, maybe } from "./_hostile.ts";
import { loadManifest, ManifestError, validateManifest } from "../../src/plugin/manifest.ts";
import { PERMISSION_KINDS, type ResolvedManifest } from "../../src/plugin/manifest_types.ts";
import { permissionFlags, workerPermissions } from "../../src/plugin/permissions.ts";

const BASE = new URL("file:///opt/plugins/fuzz/");
const VALID = { name: "fuzz", version: "1.0.0", entry: "mod.ts" };
const TOP = [
  "name",
  "version",
  "entry",
  "description",
  "isolation",
  "permissions",
  "capabilities",
  "allowImports",
  "restart",
  "budgets",
  "limits",
  "watch",
];

/** Validates; returns the result, or undefined after checking the error is one clean ManifestError. */
function validate(value: unknown): ResolvedManifest | undefined {
  try {
    const manifest = validateManifest(value, { baseUrl: BASE });
    assertComplete(manifest);
    return manifest;
  } catch (error) {
    assertCleanError(error);
    assert(error instanceof ManifestError, `Expected a ManifestError, got ${error}`);
    assert(error.problems.length > 0, "a ManifestError without problems");
    for (const problem of error.problems) {
      assert(typeof problem === "string" && problem.length > 0, `empty problem`);
    }
    return undefined;
  }
}

/** A resolved manifest is whole: every field present and of its type, frozen. */
function assertComplete(m: ResolvedManifest): void {
  assert(Object.isFrozen(m) && Object.isFrozen(m.permissions) && Object.isFrozen(m.restart));
  assert(/^[a-z][a-z0-9-]{0,62}$/.test(m.name));
  assert(typeof m.version === "string" && m.entryUrl instanceof URL);
  assertEquals(Object.keys(m.permissions).sort(), [...PERMISSION_KINDS].sort());
  for (const kind of PERMISSION_KINDS) {
    const grant = m.permissions[kind];
    assert(
      typeof grant === "boolean" || grant === "inherit" ||
        (Array.isArray(grant) && grant.every((item) => typeof item === "string")),
      `permissions.${kind} is ${String(grant)}`,
    );
  }
  for (const value of [...Object.values(m.restart), ...Object.values(m.budgets)]) {
    assert(typeof value === "boolean" || typeof value === "string" || Number.isFinite(value));
  }
  assert(m.limits.maxHeapMb === null || Number.isInteger(m.limits.maxHeapMb));
  assert(typeof m.watch === "boolean" && Array.isArray(m.capabilities));
  assert(m.importRoots.length >= 1);
  // Every manifest that validates maps onto both host forms.
  assertEquals(Object.keys(workerPermissions(m)).length, PERMISSION_KINDS.length);
  assertEquals(permissionFlags(m).length, PERMISSION_KINDS.length + 1);
}

/** Values made to break a reader: proxies that throw, getters, cycles, odd prototypes. */
const trap: fc.Arbitrary<unknown> = fc.constantFrom(
  new Proxy({}, {
    ownKeys() {
      throw new Error("ownKeys trap");
    },
  }),
  new Proxy({}, {
    getPrototypeOf() {
      throw new Error("prototype trap");
    },
  }),
  new Proxy({ ...VALID }, {
    getOwnPropertyDescriptor() {
      throw new Error("descriptor trap");
    },
  }),
  new Proxy([1, 2], {
    getOwnPropertyDescriptor() {
      throw new Error("array trap");
    },
  }),
  Object.defineProperty({ ...VALID }, "watch", {
    get() {
      throw new Error("getter ran");
    },
    enumerable: true,
  }),
  (() => {
    const cyclic: Record<string, unknown> = { ...VALID };
    cyclic.restart = cyclic;
    cyclic.permissions = { read: [cyclic] };
    return cyclic;
  })(),
  JSON.parse('{"name":"x","version":"1.0.0","entry":"m.ts","__proto__":{"polluted":true}}'),
  Object.assign(Object.create({ inherited: 1 }), VALID),
  new Array(5000).fill(VALID),
);

Deno.test("validateManifest() reports revoked proxies at every depth", () => {
  const revoked = () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  };
  // Not through fast-check: it cannot even clone a revoked proxy.
  for (
    const value of [
      revoked(),
      { ...VALID, permissions: revoked() },
      { ...VALID, permissions: { read: revoked() } },
      { ...VALID, restart: revoked(), budgets: revoked(), capabilities: revoked() },
    ]
  ) {
    assertEquals(validate(value), undefined);
  }
});

/** Any JSON value, as a parsed file would hold. */
const json: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 4 });

/** A value for each field: valid ones, hostile ones, JSON, traps. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(hostile(), json, trap);

Deno.test("validateManifest() returns a whole manifest or one clean ManifestError for hostile input", () => {
  check(fc.property(fc.oneof(anyValue, json), (value) => {
    validate(value);
  }));
});

Deno.test("validateManifest() survives hostile values at every depth", () => {
  const nested = fc.record({
    name: maybe(fc.oneof(fc.constant("fuzz"), anyValue)),
    version: maybe(fc.oneof(fc.constant("1.0.0"), anyValue)),
    entry: maybe(fc.oneof(fc.constant("mod.ts"), anyValue)),
    isolation: maybe(anyValue),
    permissions: maybe(fc.oneof(
      anyValue,
      fc.dictionary(fc.constantFrom(...PERMISSION_KINDS, "raed", "__proto__"), anyValue),
      fc.dictionary(fc.constantFrom(...PERMISSION_KINDS), fc.array(anyValue, { maxLength: 4 })),
    )),
    capabilities: maybe(fc.array(anyValue, { maxLength: 4 })),
    allowImports: maybe(fc.array(fc.oneof(fc.string(), anyValue), { maxLength: 4 })),
    restart: maybe(fc.dictionary(fc.string({ maxLength: 16 }), anyValue)),
    budgets: maybe(fc.dictionary(fc.constantFrom("hangMs", "heartbeatMs", "x"), anyValue)),
    limits: maybe(fc.dictionary(fc.constantFrom("maxHeapMb"), anyValue)),
    watch: maybe(anyValue),
  }, { requiredKeys: [] });
  check(fc.property(nested, (value) => {
    validate(value);
  }));
});

/** One field of a valid manifest and values for it, each known valid or invalid. */
const FIELD_CASES: [string, unknown, boolean][] = [
  ["isolation", "inline", true],
  ["isolation", "process", true],
  ["isolation", "Worker", false],
  ["watch", true, true],
  ["watch", 0, false],
  ["description", "text", true],
  ["description", null, false],
  ["permissions", "inherit", true],
  ["permissions", { read: true, sys: ["cpus"] }, true],
  ["permissions", { net: ["bad host"] }, false],
  ["permissions", { nett: true }, false],
  ["capabilities", ["metrics", "dataport"], true],
  ["capabilities", ["root"], false],
  ["allowImports", ["npm:", "../lib", "https://x.org/"], true],
  ["allowImports", ["gopher://x"], false],
  ["restart", { restartType: "temporary", maxRetries: 10 }, true],
  ["restart", { maxRetries: 1001 }, false],
  ["budgets", { taskBudgetMs: 5, heartbeatMs: 50 }, true],
  ["budgets", { taskBudgetMs: 60_001 }, false],
  ["limits", { maxHeapMb: 128 }, true],
  ["limits", { maxHeapMb: 15 }, false],
  ["version", "0.0.0-alpha.1", true],
  ["version", "v1.0.0", false],
  ["name", "a-1", true],
  ["name", "-a", false],
  ["entry", "https://x.org/m.js", true],
  ["entry", "m.py", false],
];

Deno.test("validateManifest() matches a reference model field by field", () => {
  check(
    fc.property(fc.subarray(FIELD_CASES, { minLength: 1, maxLength: 4 }), (cases) => {
      const fields = new Map(cases.map(([key, value, ok]) => [key, { value, ok }]));
      const value = { ...VALID, ...Object.fromEntries([...fields].map(([k, v]) => [k, v.value])) };
      const bad = [...fields].filter(([, v]) => !v.ok).map(([k]) => k);
      // The one cross-field rule among these cases: an inline plugin cannot have a heap limit.
      if (fields.get("isolation")?.value === "inline" && fields.get("limits")?.ok) {
        bad.push("limits");
      }
      try {
        const m = validateManifest(value, { baseUrl: BASE });
        assertEquals(bad, [], `accepted bad fields ${bad.join(", ")}`);
        assertComplete(m);
        for (const [key, { value: given }] of fields) {
          if (typeof given === "string" && key !== "entry" && key !== "permissions") {
            assertEquals((m as unknown as Record<string, unknown>)[key], given);
          }
        }
      } catch (error) {
        if (!(error instanceof ManifestError)) throw error;
        assertEquals(error.problems.length, bad.length, error.problems.join("\n"));
        error.problems.forEach((problem, i) => {
          const path = problem.split(/[ .[]/)[0];
          assert(TOP.includes(path!), `unknown path in ${problem}`);
          assert(bad.includes(path!), `problem on a valid field: ${problem}`);
          assert(
            i === 0 || TOP.indexOf(path!) >= TOP.indexOf(error.problems[i - 1]!.split(/[ .[]/)[0]!),
          );
        });
      }
    }),
  );
});

Deno.test("loadManifest() turns any file content into a manifest or a clean ManifestError", async () => {
  const folder = await Deno.realPath(await Deno.makeTempDir({ dir: "." }));
  try {
    const file = `${folder}/plugin.json`;
    const content = fc.oneof(
      fc.string({ maxLength: 200 }),
      json.map((v) => JSON.stringify(v)),
      fc.constantFrom(JSON.stringify(VALID), "{", "\uFEFF{}", "[1,", "\0", '{"name":'),
      fc.record({ name: fc.string(), version: fc.string(), entry: fc.string() }).map((v) =>
        JSON.stringify(v)
      ),
    );
    await check(
      fc.asyncProperty(content, async (text) => {
        await Deno.writeTextFile(file, text);
        try {
          assertComplete(await loadManifest(file));
        } catch (error) {
          assertCleanError(error);
          assert(error instanceof ManifestError, `${error}`);
          assert(error.problems.length > 0);
          if (error.problems[0]!.includes("is not valid JSON")) {
            assert(error.problems[0]!.startsWith(file), error.problems[0]);
          }
        }
      }),
      50,
    );
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});
