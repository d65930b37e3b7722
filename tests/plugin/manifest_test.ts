import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { ChronetixError } from "../../src/errors.ts";
import {
  loadManifest,
  ManifestError,
  MAX_MANIFEST_BYTES,
  validateManifest,
} from "../../src/plugin/manifest.ts";
import { MANIFEST_DEFAULTS, type ResolvedManifest } from "../../src/plugin/manifest_types.ts";

const BASE = new URL("file:///opt/plugins/sampler/");
const MINIMAL = { name: "sampler", version: "1.0.0", entry: "./mod.ts" };

function problemsOf(value: unknown, baseUrl: URL = BASE): readonly string[] {
  const error = assertThrows(() => validateManifest(value, { baseUrl }), ManifestError);
  assertInstanceOf(error, ChronetixError);
  assertEquals(error.code, "E_MANIFEST_INVALID");
  assertEquals(error.name, "ManifestError");
  assert(error.message.startsWith("Cannot load the plugin manifest as it has "), error.message);
  for (const problem of error.problems) assertStringIncludes(error.message, `  - ${problem}`);
  return error.problems;
}

function only(value: unknown): string {
  const problems = problemsOf(value);
  assertEquals(problems.length, 1, problems.join("\n"));
  return problems[0]!;
}

function withField(key: string, value: unknown): Record<string, unknown> {
  return { ...MINIMAL, [key]: value };
}

Deno.test("validateManifest() fills every default of a minimal manifest", () => {
  const m = validateManifest(MINIMAL, { baseUrl: BASE });
  assertEquals(m.name, "sampler");
  assertEquals(m.version, "1.0.0");
  assertEquals(m.entry, "./mod.ts");
  assertEquals(m.entryUrl.href, "file:///opt/plugins/sampler/mod.ts");
  assertEquals(m.baseUrl.href, BASE.href);
  assertEquals(m.manifestUrl, undefined);
  assertEquals(m.description, "");
  assertEquals(m.isolation, "worker");
  assertEquals(m.permissions, {
    read: false,
    write: false,
    net: false,
    env: false,
    run: false,
    ffi: false,
    sys: false,
    import: false,
  });
  assertEquals(m.capabilities, []);
  assertEquals(m.allowImports, []);
  assertEquals(m.importRoots, ["file:///opt/plugins/sampler/"]);
  assertEquals(m.restart, MANIFEST_DEFAULTS.restart);
  assertEquals(m.budgets, MANIFEST_DEFAULTS.budgets);
  assertEquals(m.limits, { maxHeapMb: null });
  assertEquals(m.watch, false);
  assertEquals(MANIFEST_DEFAULTS.restart, {
    restartEnabled: true,
    restartType: "permanent",
    maxRetries: 5,
    retryWindowMs: 60_000,
    backoffInitialMs: 100,
    backoffMaxMs: 30_000,
    backoffMultiplier: 2,
    backoffJitterRatio: 0.1,
    resetAfterMs: 60_000,
    autoUnloadFailed: false,
    escalate: false,
  });
  assertEquals(MANIFEST_DEFAULTS.budgets, {
    taskBudgetMs: 1000,
    heartbeatMs: 100,
    hangMs: 1000,
    stopTimeoutMs: 5000,
    initTimeoutMs: 10_000,
  });
});

Deno.test("validateManifest() returns a deeply frozen copy, not the input", () => {
  const input = {
    ...MINIMAL,
    permissions: { read: ["/data"] },
    capabilities: ["publish"],
    restart: { maxRetries: 2 },
  };
  const m = validateManifest(input, { baseUrl: BASE });
  assert(Object.isFrozen(m));
  assert(Object.isFrozen(m.permissions));
  assert(Object.isFrozen(m.permissions.read));
  assert(Object.isFrozen(m.capabilities));
  assert(Object.isFrozen(m.restart));
  assert(Object.isFrozen(m.budgets));
  input.permissions.read.push("/etc");
  input.capabilities.push("dataport");
  assertEquals(m.permissions.read, ["/data"]);
  assertEquals(m.capabilities, ["publish"]);
});

Deno.test("validateManifest() keeps every field a full manifest sets", () => {
  const m = validateManifest({
    $schema: "https://example.com/plugin.schema.json",
    name: "a-b-9",
    version: "2.0.0-rc.1+build.5",
    entry: "src/main.mts",
    description: "Samples things",
    isolation: "process",
    permissions: {
      read: ["data", "/var/lib/x", "file:///srv/y"],
      write: true,
      net: ["127.0.0.1:9000", "example.com", "[::1]:80", "*.example.org"],
      env: ["HOME", "AWS_*"],
      run: ["git", "./bin/tool"],
      ffi: "inherit",
      sys: ["hostname", "cpus"],
      import: ["esm.sh:443"],
    },
    capabilities: ["publish", "subscribe", "dataport", "metrics", "net-server"],
    allowImports: [
      "../shared",
      "https://cdn.example.com/lib/",
      "npm:zod",
      "npm:@scope/pkg",
      "jsr:",
    ],
    restart: {
      restartEnabled: false,
      restartType: "transient",
      maxRetries: 0,
      retryWindowMs: 1,
      backoffInitialMs: 0,
      backoffMaxMs: 0,
      backoffMultiplier: 1,
      backoffJitterRatio: 1,
      resetAfterMs: 0,
      autoUnloadFailed: true,
      escalate: true,
    },
    budgets: {
      taskBudgetMs: 0.01,
      heartbeatMs: 1,
      hangMs: 2,
      stopTimeoutMs: 1,
      initTimeoutMs: 600_000,
    },
    limits: { maxHeapMb: 64 },
    watch: true,
  }, { baseUrl: BASE });
  assertEquals(m.entryUrl.href, "file:///opt/plugins/sampler/src/main.mts");
  assertEquals(m.description, "Samples things");
  assertEquals(m.isolation, "process");
  assertEquals(m.permissions, {
    read: ["/opt/plugins/sampler/data", "/var/lib/x", "/srv/y"],
    write: true,
    net: ["127.0.0.1:9000", "example.com", "[::1]:80", "*.example.org"],
    env: ["HOME", "AWS_*"],
    run: ["git", "/opt/plugins/sampler/bin/tool"],
    ffi: "inherit",
    sys: ["hostname", "cpus"],
    import: ["esm.sh:443"],
  });
  assertEquals(m.capabilities.length, 5);
  assertEquals(m.importRoots, [
    "file:///opt/plugins/sampler/src/",
    "file:///opt/plugins/shared",
    "https://cdn.example.com/lib/",
    "npm:zod",
    "npm:@scope/pkg",
    "jsr:",
  ]);
  assertEquals(m.restart.restartType, "transient");
  assertEquals(m.restart.maxRetries, 0);
  assertEquals(m.restart.escalate, true);
  assertEquals(m.budgets, {
    taskBudgetMs: 0.01,
    heartbeatMs: 1,
    hangMs: 2,
    stopTimeoutMs: 1,
    initTimeoutMs: 600_000,
  });
  assertEquals(m.limits.maxHeapMb, 64);
  assertEquals(m.watch, true);
});

Deno.test('validateManifest() maps permissions "none" and "inherit" onto every kind', () => {
  const none = validateManifest(withField("permissions", "none"), { baseUrl: BASE });
  assert(Object.values(none.permissions).every((v) => v === false));
  const inherit = validateManifest(withField("permissions", "inherit"), { baseUrl: BASE });
  assertEquals(Object.keys(inherit.permissions).length, 8);
  assert(Object.values(inherit.permissions).every((v) => v === "inherit"));
});

Deno.test("validateManifest() resolves paths with URL syntax characters literally", () => {
  const m = validateManifest(
    withField("permissions", { read: ["a#b", "c?d", "e%20f", "./x/../y"] }),
    { baseUrl: BASE },
  );
  assertEquals(m.permissions.read, [
    "/opt/plugins/sampler/a#b",
    "/opt/plugins/sampler/c?d",
    "/opt/plugins/sampler/e%20f",
    "/opt/plugins/sampler/y",
  ]);
});

Deno.test("validateManifest() drops repeated permission items", () => {
  const m = validateManifest(withField("permissions", { env: ["A", "A", "B"] }), {
    baseUrl: BASE,
  });
  assertEquals(m.permissions.env, ["A", "B"]);
});

Deno.test("validateManifest() derives defaults from related fields", () => {
  const m = validateManifest(
    { ...MINIMAL, budgets: { heartbeatMs: 500 }, restart: { backoffInitialMs: 60_000 } },
    { baseUrl: BASE },
  );
  assertEquals(m.budgets.hangMs, 5000);
  assertEquals(m.restart.backoffMaxMs, 60_000);
});

Deno.test("validateManifest() resolves an entry as a URL or an absolute path", async (t) => {
  await t.step("https entry", () => {
    const m = validateManifest(withField("entry", "https://example.com/p/mod.ts"), {
      baseUrl: BASE,
    });
    assertEquals(m.entryUrl.href, "https://example.com/p/mod.ts");
    assertEquals(m.importRoots[0], "https://example.com/p/");
  });
  await t.step("absolute path", () => {
    const m = validateManifest(withField("entry", "/srv/p/main.js"), { baseUrl: BASE });
    assertEquals(m.entryUrl.href, "file:///srv/p/main.js");
  });
  await t.step("a base that is a file stands for its folder", () => {
    const m = validateManifest(MINIMAL, {
      baseUrl: new URL("file:///opt/plugins/sampler/plugin.json"),
    });
    assertEquals(m.entryUrl.href, "file:///opt/plugins/sampler/mod.ts");
  });
  await t.step("manifestUrl is the base when no baseUrl is given", () => {
    const manifestUrl = new URL("file:///srv/x/plugin.json");
    const m = validateManifest(MINIMAL, { manifestUrl });
    assertEquals(m.entryUrl.href, "file:///srv/x/mod.ts");
    assertEquals(m.manifestUrl?.href, manifestUrl.href);
  });
  await t.step("the working folder is the base when neither is given", () => {
    const m = validateManifest(MINIMAL);
    assertEquals(m.entryUrl.pathname, `${Deno.cwd()}/mod.ts`);
  });
});

Deno.test("validateManifest() reports every bad top-level field by its path", () => {
  const cases: [string, unknown, string][] = [
    ["name", "Sampler", "name must be /^[a-z][a-z0-9-]{0,62}$/"],
    ["name", "a".repeat(64), "name must be /^[a-z][a-z0-9-]{0,62}$/"],
    ["name", "9lives", "name must be /^[a-z][a-z0-9-]{0,62}$/"],
    ["name", "a/b", "name must be /^[a-z][a-z0-9-]{0,62}$/"],
    ["name", 7, "name must be a string: current value is 7"],
    ["name", "", "name must not be empty"],
    [
      "version",
      "1.0",
      'version must be a semantic version such as "1.2.3": current value is "1.0"',
    ],
    ["version", "01.0.0", "version must be a semantic version"],
    ["version", "1.0.0-", "version must be a semantic version"],
    ["entry", "mod.json", "entry must be a module ending with .ts, .mts, .tsx, .js, .mjs, .jsx"],
    ["entry", "data:text/javascript,1", "entry must be a path, a file: URL or an https: URL"],
    ["entry", "http://example.com/mod.ts", "entry must be a path, a file: URL or an https: URL"],
    ["entry", "a\0.ts", "entry must be a string without NUL characters"],
    ["entry", "x".repeat(5000), "entry must have at most 4096 characters: current length is 5000"],
    [
      "description",
      5,
      "description must be a string of at most 500 characters: current value is 5",
    ],
    ["description", "d".repeat(501), "description must be a string of at most 500 characters"],
    [
      "isolation",
      "thread",
      'isolation must be one of "inline", "worker", "process": current value is "thread"',
    ],
    ["watch", "yes", 'watch must be a boolean: current value is "yes"'],
    ["$schema", 1, "$schema must be a string: current value is 1"],
  ];
  for (const [key, value, expected] of cases) {
    const problem = only(withField(key, value));
    assert(problem.startsWith(expected), `${key}=${String(value).slice(0, 20)}: ${problem}`);
  }
});

Deno.test("validateManifest() reports missing required fields", () => {
  assertEquals(problemsOf({}), [
    "name is required: it is missing",
    "version is required: it is missing",
    "entry is required: it is missing",
  ]);
  assertEquals(only({ ...MINIMAL, name: undefined }), "name is required: it is missing");
});

Deno.test("validateManifest() refuses values that are not plain objects", () => {
  for (const value of [null, 7, "x", [], new Date(0), new Map(), () => {}]) {
    const problem = only(value);
    assert(problem.startsWith("manifest must be an object: current value is "), problem);
  }
});

Deno.test("validateManifest() names unknown keys with a suggestion for a close one", () => {
  assertEquals(
    only(withField("isolaton", "worker")),
    'isolaton is not a known field: did you mean "isolation"?',
  );
  assertEquals(only(withField("Name", "x")), 'Name is not a known field: did you mean "name"?');
  assertEquals(only(withField("frobnicate", 1)), "frobnicate is not a known field");
  assertEquals(only(withField("a b", 1)), '["a b"] is not a known field');
  assertEquals(
    only(withField("permissions", { raed: true })),
    'permissions.raed is not a known permission kind: did you mean "read"?',
  );
  assertEquals(
    only(withField("restart", { maxRetry: 3 })),
    'restart.maxRetry is not a known restart field: did you mean "maxRetries"?',
  );
  assertEquals(
    only(withField("budgets", { hangMS: 3 })),
    'budgets.hangMS is not a known budget: did you mean "hangMs"?',
  );
  assertEquals(
    only(withField("limits", { maxHeap: 64 })),
    'limits.maxHeap is not a known limit: did you mean "maxHeapMb"?',
  );
});

Deno.test("validateManifest() reports bad permissions by their paths", () => {
  assertEquals(
    only(withField("permissions", { read: ["a", "b", 7] })),
    "permissions.read[2] must be a string: current value is 7",
  );
  const cases: [unknown, string][] = [
    ["all", 'permissions must be "none", "inherit" or an object of permission kinds'],
    [5, 'permissions must be "none", "inherit" or an object of permission kinds'],
    [{ net: "yes" }, 'permissions.net must be true, false, "inherit" or a list of strings'],
    [{ net: ["a b"] }, 'permissions.net[0] must be a host as "<host>[:<port>]"'],
    [{ net: ["h:99999"] }, 'permissions.net[0] must be a host as "<host>[:<port>]"'],
    [{ import: ["https://x"] }, 'permissions.import[0] must be a host as "<host>[:<port>]"'],
    [{ env: ["A=B"] }, 'permissions.env[0] must be an environment variable name without "="'],
    [{ sys: ["bogus"] }, 'permissions.sys[0] must be one of "loadavg"'],
    [{ read: ["https://x/y"] }, "permissions.read[0] must be a path or a file: URL"],
    [{ write: [""] }, "permissions.write[0] must not be empty"],
    [{ ffi: [null] }, "permissions.ffi[0] must be a string: current value is null"],
    [{ run: [{}] }, "permissions.run[0] must be a string: current value is {}"],
    [{ read: new Array(1025).fill("x") }, "permissions.read must have at most 1024 items"],
  ];
  for (const [value, expected] of cases) {
    const problem = only(withField("permissions", value));
    assert(problem.startsWith(expected), problem);
  }
});

Deno.test("validateManifest() needs a local folder for relative permission paths", () => {
  const problems = problemsOf(
    { ...MINIMAL, permissions: { read: ["data"] } },
    new URL("https://example.com/p/"),
  );
  assertEquals(problems, [
    'permissions.read[0] must be an absolute path, as the manifest\'s folder is not local: current value is "data"',
  ]);
});

Deno.test("validateManifest() reports bad capabilities and import roots", () => {
  const cases: [string, unknown, string][] = [
    [
      "capabilities",
      "publish",
      'capabilities must be a list of capabilities: current value is "publish"',
    ],
    ["capabilities", ["fly"], 'capabilities[0] must be one of "publish", "subscribe"'],
    ["capabilities", ["publish", "publish"], 'capabilities[1] repeats "publish"'],
    [
      "capabilities",
      ["net-server"],
      'capabilities asks for "net-server" but permissions.net is false',
    ],
    ["allowImports", "x", 'allowImports must be a list of strings: current value is "x"'],
    ["allowImports", ["npm:zod@3"], 'allowImports[0] must be "npm:" or "npm:<package>"'],
    ["allowImports", ["jsr:std/path"], 'allowImports[0] must be "jsr:" or "jsr:<package>"'],
    ["allowImports", ["ftp://x/"], "allowImports[0] must be a path, a file: or https: URL prefix"],
    ["allowImports", [3], "allowImports[0] must be a string: current value is 3"],
  ];
  for (const [key, value, expected] of cases) {
    const problem = only(withField(key, value));
    assert(problem.startsWith(expected), problem);
  }
});

Deno.test("validateManifest() reports restart, budget and limit values out of range", () => {
  const cases: [string, unknown, string][] = [
    ["restart", 5, "restart must be an object: current value is 5"],
    [
      "restart",
      { restartEnabled: 1 },
      "restart.restartEnabled must be a boolean: current value is 1",
    ],
    [
      "restart",
      { restartType: "always" },
      'restart.restartType must be one of "permanent", "transient", "temporary"',
    ],
    [
      "restart",
      { maxRetries: 1.5 },
      "restart.maxRetries must be an integer from 0 to 1000: current value is 1.5",
    ],
    ["restart", { maxRetries: -1 }, "restart.maxRetries must be an integer from 0 to 1000"],
    ["restart", { retryWindowMs: 0 }, "restart.retryWindowMs must be a number from 1 to 86400000"],
    [
      "restart",
      { backoffMultiplier: 0.5 },
      "restart.backoffMultiplier must be a number from 1 to 100",
    ],
    [
      "restart",
      { backoffJitterRatio: 2 },
      "restart.backoffJitterRatio must be a number from 0 to 1",
    ],
    [
      "restart",
      { backoffInitialMs: NaN },
      "restart.backoffInitialMs must be a number from 0 to 3600000: current value is NaN",
    ],
    [
      "restart",
      { resetAfterMs: "1" },
      'restart.resetAfterMs must be a number from 0 to 86400000: current value is "1"',
    ],
    ["restart", { autoUnloadFailed: null }, "restart.autoUnloadFailed must be a boolean"],
    ["restart", { escalate: "no" }, "restart.escalate must be a boolean"],
    [
      "restart",
      { backoffInitialMs: 500, backoffMaxMs: 10 },
      "restart.backoffMaxMs must be >= restart.backoffInitialMs (500): current value is 10",
    ],
    ["budgets", [], "budgets must be an object: current value is []"],
    ["budgets", { taskBudgetMs: 0 }, "budgets.taskBudgetMs must be a number from 0.01 to 60000"],
    ["budgets", { heartbeatMs: Infinity }, "budgets.heartbeatMs must be a number from 1 to 60000"],
    [
      "budgets",
      { stopTimeoutMs: 600_001 },
      "budgets.stopTimeoutMs must be a number from 1 to 600000",
    ],
    ["budgets", { initTimeoutMs: -1 }, "budgets.initTimeoutMs must be a number from 1 to 600000"],
    [
      "budgets",
      { heartbeatMs: 100, hangMs: 100 },
      "budgets.hangMs must be > budgets.heartbeatMs (100): current value is 100",
    ],
    ["limits", "big", 'limits must be an object: current value is "big"'],
    [
      "limits",
      { maxHeapMb: 8 },
      "limits.maxHeapMb must be an integer from 16 to 65536: current value is 8",
    ],
    ["limits", { maxHeapMb: 64.5 }, "limits.maxHeapMb must be an integer from 16 to 65536"],
  ];
  for (const [key, value, expected] of cases) {
    const problem = only(withField(key, value));
    assert(problem.startsWith(expected), problem);
  }
  assertEquals(
    only({ ...MINIMAL, isolation: "inline", limits: { maxHeapMb: 64 } }),
    'limits.maxHeapMb cannot be set for isolation "inline": an inline plugin shares the kernel\'s heap',
  );
  const nullHeap = validateManifest(withField("limits", { maxHeapMb: null }), { baseUrl: BASE });
  assertEquals(nullHeap.limits.maxHeapMb, null);
});

Deno.test("validateManifest() lists every problem at once, in field order", () => {
  const problems = problemsOf({
    name: "Bad",
    version: 1,
    entry: "mod.ts",
    isolation: "x",
    permissions: { read: [7], net: true },
    restart: { maxRetries: -1 },
  });
  assertEquals(problems, [
    'name must be /^[a-z][a-z0-9-]{0,62}$/ (a lowercase letter, then lowercase letters, digits or "-", at most 63 characters): current value is "Bad"',
    "version must be a string: current value is 1",
    'isolation must be one of "inline", "worker", "process": current value is "x"',
    "permissions.read[0] must be a string: current value is 7",
    "restart.maxRetries must be an integer from 0 to 1000: current value is -1",
  ]);
});

Deno.test("validateManifest() caps the problems it lists and counts the rest", () => {
  const problems = problemsOf(withField("permissions", { env: new Array(300).fill(1) }));
  assertEquals(problems.length, 101);
  assertEquals(problems[100], "... and 200 more problems");
});

Deno.test("validateManifest() never runs a getter of the manifest", () => {
  let called = 0;
  const value = {
    ...MINIMAL,
    get isolation() {
      called++;
      return "worker";
    },
  };
  assertEquals(only(value), "isolation must be a plain value: it is a getter or setter");
  assertEquals(called, 0);
});

Deno.test("validateManifest() reports a proxy that throws instead of crashing", () => {
  const hostile = new Proxy({}, {
    ownKeys() {
      throw new Error("boom");
    },
  });
  assertEquals(only(hostile), "manifest could not be read: boom");
});

Deno.test("validateManifest() rejects malformed options with a TypeError", () => {
  assertThrows(
    () => validateManifest(MINIMAL, { baseUrl: "file:///x/" as unknown as URL }),
    TypeError,
    "Cannot validate plugin manifest as 'baseUrl' must be a URL",
  );
  assertThrows(
    () => validateManifest(MINIMAL, { manifestUrl: 5 as unknown as URL }),
    TypeError,
    "'manifestUrl' must be a URL",
  );
});

Deno.test("ManifestError names the manifest file and counts its problems", () => {
  const manifestUrl = new URL("file:///srv/p/plugin.json");
  const error = new ManifestError(["name is required: it is missing"], { manifestUrl });
  assertEquals(
    error.message,
    'Cannot load plugin manifest "/srv/p/plugin.json" as it has 1 problem:\n  - name is required: it is missing',
  );
  assertEquals(error.manifestUrl?.href, manifestUrl.href);
  assert(Object.isFrozen(error.problems));
});

async function withFolder(fn: (folder: string) => Promise<void>): Promise<void> {
  const folder = await Deno.realPath(await Deno.makeTempDir({ dir: "." }));
  try {
    await fn(folder);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
}

Deno.test("loadManifest() reads a JSON file and resolves against its folder", async () => {
  await withFolder(async (folder) => {
    await Deno.writeTextFile(
      `${folder}/plugin.json`,
      "\uFEFF" + JSON.stringify({ ...MINIMAL, permissions: { read: ["data"] } }),
    );
    const byPath: ResolvedManifest = await loadManifest(`${folder}/plugin.json`);
    assertEquals(byPath.entryUrl.pathname, `${folder}/mod.ts`);
    assertEquals(byPath.permissions.read, [`${folder}/data`]);
    assertEquals(byPath.manifestUrl?.pathname, `${folder}/plugin.json`);
    const byUrl = await loadManifest(new URL(`file://${folder}/plugin.json`));
    assertEquals(byUrl.entryUrl.href, byPath.entryUrl.href);
    const relative = `${folder.slice(Deno.cwd().length + 1)}/plugin.json`;
    assertEquals((await loadManifest(relative)).entryUrl.href, byPath.entryUrl.href);
  });
});

Deno.test("loadManifest() names the file, line and column of a JSON error", async () => {
  await withFolder(async (folder) => {
    const file = `${folder}/plugin.json`;
    await Deno.writeTextFile(file, '{\n  "name": "x",\n  "version" "1.0.0"\n}');
    const error = await assertRejects(() => loadManifest(file), ManifestError);
    assertEquals(error.code, "E_MANIFEST_INVALID");
    assertEquals(error.problems, [
      `${file}:3:13 is not valid JSON: Expected ':' after property name`,
    ]);
    assertStringIncludes(error.message, `plugin manifest "${file}"`);
    await Deno.writeTextFile(file, '{\n  "name": ');
    const truncated = await assertRejects(() => loadManifest(file), ManifestError);
    assertEquals(truncated.problems, [
      `${file}:2:11 is not valid JSON: Unexpected end of JSON input`,
    ]);
  });
});

Deno.test("loadManifest() reports bad fields with the file's name", async () => {
  await withFolder(async (folder) => {
    const file = `${folder}/plugin.json`;
    await Deno.writeTextFile(file, JSON.stringify({ ...MINIMAL, watch: 1 }));
    const error = await assertRejects(() => loadManifest(file), ManifestError);
    assertEquals(error.problems, ["watch must be a boolean: current value is 1"]);
    assertEquals(error.manifestUrl?.pathname, file);
  });
});

Deno.test("loadManifest() reports a file it cannot read as E_MANIFEST_UNREADABLE", async () => {
  await withFolder(async (folder) => {
    const missing = await assertRejects(() => loadManifest(`${folder}/nope.json`), ManifestError);
    assertEquals(missing.code, "E_MANIFEST_UNREADABLE");
    assert(missing.problems[0]!.startsWith(`${folder}/nope.json could not be read: `));
    assertInstanceOf(missing.cause, Deno.errors.NotFound);
    const dir = await assertRejects(() => loadManifest(folder), ManifestError);
    assertEquals(dir.problems, [`${folder} could not be read: it is not a file`]);
    await Deno.writeTextFile(`${folder}/big.json`, " ".repeat(MAX_MANIFEST_BYTES + 1));
    const big = await assertRejects(() => loadManifest(`${folder}/big.json`), ManifestError);
    assertEquals(big.code, "E_MANIFEST_UNREADABLE");
    assertStringIncludes(big.problems[0]!, `more than ${MAX_MANIFEST_BYTES}`);
  });
});

Deno.test("loadManifest() rejects what is neither a path nor a file: URL", async () => {
  for (const bad of ["", "https://example.com/plugin.json", new URL("https://x/"), 5]) {
    await assertRejects(
      () => loadManifest(bad as string),
      TypeError,
      "Cannot load plugin manifest as 'pathOrUrl' must be a file path or a file: URL",
    );
  }
});
