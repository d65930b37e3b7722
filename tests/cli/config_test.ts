import { assert, assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import fc from "fast-check";
import { Ajv2020 } from "ajv/dist/2020.js";
import { CONFIG_SCHEMA, ConfigError, loadConfig, validateConfig } from "../../src/cli/mod.ts";

const FIXTURE = new URL("./_fixtures/run/chronetix.json", import.meta.url);
const CONFIG_URL = new URL("./_fixtures/run/other.json", import.meta.url);

async function problemsOf(value: unknown): Promise<readonly string[]> {
  const error = await assertRejects(() => validateConfig(value, { configUrl: CONFIG_URL }));
  assertInstanceOf(error, ConfigError);
  assertEquals(error.code, "E_CONFIG_INVALID");
  return error.problems;
}

Deno.test("loadConfig() reads the run fixture and resolves its manifests against the config", async () => {
  const loaded = await loadConfig(FIXTURE);
  assertEquals(loaded.plugins.map((p) => p.name), ["producer", "consumer"]);
  assertEquals(
    loaded.plugins[0]!.entryUrl.href,
    new URL("./_fixtures/run/plugins/producer.ts", import.meta.url).href,
  );
  assertEquals(
    loaded.plugins[1]!.entryUrl.href,
    new URL("./_fixtures/run/plugins/consumer.ts", import.meta.url).href,
  );
  assertEquals(loaded.config.dataPorts?.[0]?.credit, 16);
});

Deno.test("validateConfig() lists every bad field by its path, in one error", async () => {
  const problems = await problemsOf({
    kernel: { profile: "fast", busQueueCap: 0, executor: { tick: "sometimes" } },
    tasks: [
      { name: "a", kind: "periodic", periodMs: 10, module: "./tasks.ts" },
      { name: "b", kind: "event", module: "./tasks.ts" },
      { name: "c", kind: "periodic", periodMs: "x", module: "./tasks.ts", overflow: "drop" },
      { name: "a", kind: "cron", cron: "0 3 * * *", module: "./tasks.ts", periodMS: 4 },
    ],
    islands: [{ module: "./control.ts", tasks: [] }],
    server: { port: 70000, token: "short" },
    status: { table: "yes" },
    shutdown: { graceMs: -5 },
    watch: 1,
    extra: true,
  });
  assertEquals(problems, [
    'kernel.profile must be one of "efficient", "balanced", "precise": current value is "fast"',
    "kernel.busQueueCap must be an integer from 1 to 1073741824: current value is 0",
    'kernel.executor.tick must be "adaptive" or an object: current value is "sometimes"',
    "tasks[1].topic must be a non-empty string: it is missing",
    'tasks[2].periodMs must be a number >= 0.001: current value is "x"',
    'tasks[2].overflow must be one of "drop-newest", "drop-oldest", "defer": current value is "drop"',
    'tasks[3].periodMS is not a known field: did you mean "periodMs"?',
    'tasks[3].name must be unique: "a" is also tasks[0].name',
    "islands[0].tasks must be an array of 1 to 1024 items: current value is []",
    "server.port must be an integer from 0 to 65535: current value is 70000",
    'server.token must be a string matching /^[\\x21-\\x7e]{16,4096}$/: current value is "short"',
    'status.table must be a boolean: current value is "yes"',
    "shutdown.graceMs must be a number from 0 to 3600000: current value is -5",
    "watch must be a boolean: current value is 1",
    "extra is not a known field",
  ]);
});

Deno.test("validateConfig() reports plugin manifest problems under their config path", async (t) => {
  await t.step("an inline manifest object", async () => {
    const problems = await problemsOf({
      plugins: [
        { name: "Sampler", version: "1.0", entry: "./s.ts", restart: { maxRetries: -1 } },
        7,
      ],
    });
    // In config order: plugins[0]'s manifest problems, then plugins[1].
    assertEquals(problems.length, 4);
    assert(problems[0]!.startsWith("plugins[0].name must be /^[a-z]"), problems[0]);
    assertEquals(
      problems[1],
      'plugins[0].version must be a semantic version such as "1.2.3": current value is "1.0"',
    );
    assertEquals(
      problems[2],
      "plugins[0].restart.maxRetries must be an integer from 0 to 1000: current value is -1",
    );
    assertEquals(
      problems[3],
      "plugins[1] must be a non-empty string or an object: current value is 7",
    );
  });
  await t.step("a manifest file that is missing", async () => {
    const problems = await problemsOf({ plugins: ["./plugins/nope.json"] });
    assertEquals(problems.length, 1);
    assert(
      problems[0]!.startsWith('plugins[0] "./plugins/nope.json": ') &&
        problems[0]!.includes("nope.json could not be read"),
      problems[0],
    );
  });
  await t.step(
    "data ports that name unknown plugins or plugins without the capability",
    async () => {
      const problems = await problemsOf({
        plugins: [
          "./plugins/producer.json",
          { name: "plain", version: "1.0.0", entry: "./plain.ts" },
        ],
        dataPorts: [
          { name: "frames", producer: "producer", consumer: "nobody" },
          { name: "more", producer: "producer", consumer: "plain", credit: 0 },
        ],
      });
      assertEquals(problems, [
        'dataPorts[0].consumer must name a plugin of the config: current value is "nobody"',
        "dataPorts[1].credit must be an integer from 1 to 16777216: current value is 0",
        'dataPorts[1].consumer names plugin "plain", whose manifest lacks the "dataport" capability: add it to plugins[1]',
      ]);
    },
  );
  await t.step("two plugins of one name", async () => {
    const problems = await problemsOf({
      plugins: ["./plugins/producer.json", "./plugins/producer.json"],
    });
    assertEquals(problems, [
      'plugins[1] must name a plugin not loaded before: "producer" is also plugins[0]',
    ]);
  });
});

Deno.test("loadConfig() refuses a file that is missing or not JSON, naming line and column", async () => {
  const folder = await Deno.makeTempDir({ dir: "." });
  try {
    const missing = await assertRejects(() => loadConfig(`${folder}/none.json`));
    assertInstanceOf(missing, ConfigError);
    assertEquals(missing.code, "E_CONFIG_UNREADABLE");
    await Deno.writeTextFile(`${folder}/bad.json`, '{\n  "watch": true,\n}\n');
    const bad = await assertRejects(() => loadConfig(`${folder}/bad.json`));
    assertInstanceOf(bad, ConfigError);
    assertEquals(bad.problems.length, 1);
    assert(/bad\.json:3:\d+ is not valid JSON/.test(bad.problems[0]!), bad.problems[0]);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

/** Whether a value holds what only the cross-checks judge: manifests, data ports, repeated names. */
function beyondSchema(input: unknown): boolean {
  if (input === null || typeof input !== "object" || Array.isArray(input)) return false;
  const config = input as Record<string, unknown>;
  if (Array.isArray(config.plugins) && config.plugins.length > 0) return true;
  if (Array.isArray(config.dataPorts) && config.dataPorts.length > 0) return true;
  if (rehearsalProblems(input).length > 0) return true;
  return ["tasks", "islands"].some((key) => {
    const list = config[key];
    if (!Array.isArray(list)) return false;
    const names = list.map((item) => item?.name).filter((n) => typeof n === "string");
    return new Set(names).size !== names.length;
  });
}

/**
 * The reference model of what only the kernel's own code refuses (the
 * rehearsal) or the cross-checks find, for the values the fuzz generates:
 * the paths of the problems expected.
 */
function rehearsalProblems(input: unknown): string[] {
  if (input === null || typeof input !== "object" || Array.isArray(input)) return [];
  const config = input as Record<string, unknown>;
  const paths: string[] = [];
  const offload = (config.kernel as Record<string, unknown> | undefined)?.offload as
    | Record<string, unknown>
    | undefined;
  if (
    typeof offload?.minWorkers === "number" && typeof offload?.maxWorkers === "number" &&
    offload.minWorkers > offload.maxWorkers
  ) paths.push("kernel.offload.minWorkers");
  if (Array.isArray(config.tasks)) {
    const names = config.tasks.map((task) => task?.name);
    config.tasks.forEach((task, i) => {
      // A repeated name is reported as such; that task goes no further.
      if (task?.kind !== "cron" || names.indexOf(task.name) !== i) return;
      // One problem per task: whichever of the two the kernel checks first.
      if (task.cron === "not cron" || task.timezone === "Mars/Olympus") paths.push(`tasks[${i}]`);
    });
  }
  return paths;
}

// Random values over the config's keys: the validator must either accept or
// throw ConfigError, never anything else, and accept exactly what ajv (a
// reference implementation of JSON Schema) accepts when no plugin or name is
// involved (and accept nothing ajv refuses otherwise).
Deno.test("validateConfig() never throws but ConfigError, and agrees with ajv (seeded fuzz)", async () => {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const schemaCheck = ajv.compile(CONFIG_SCHEMA);
  const scalar = fc.oneof(
    fc.integer({ min: -5, max: 70000 }),
    fc.double({ noNaN: true, noDefaultInfinity: true, min: -10, max: 10 }),
    fc.constantFrom("", "x", "adaptive", "periodic", "event", "cron", "skip", "balanced", "a-b"),
    fc.boolean(),
    fc.constant(null),
  );
  const value = fc.letrec((tie) => ({
    any: fc.oneof({ depthSize: "small" }, scalar, tie("array"), tie("object")),
    array: fc.array(tie("any"), { maxLength: 3 }),
    object: fc.dictionary(
      fc.constantFrom(
        "name",
        "kind",
        "module",
        "periodMs",
        "topic",
        "cron",
        "tasks",
        "port",
        "graceMs",
        "table",
        "tick",
        "fixedMs",
        "producer",
        "consumer",
        "credit",
        "jobs",
        "x",
      ),
      tie("any"),
      { maxKeys: 4 },
    ),
  }));
  const config = fc.record({
    kernel: value.object,
    tasks: fc.array(value.object, { maxLength: 3 }),
    islands: fc.array(value.object, { maxLength: 2 }),
    plugins: fc.array(
      fc.oneof(value.any, fc.constantFrom("./plugins/producer.json", "./nope.json")),
      { maxLength: 2 },
    ),
    dataPorts: value.any,
    scripts: value.any,
    server: value.object,
    status: value.object,
    shutdown: value.object,
    watch: value.any,
  }, { requiredKeys: [] });
  // Configs near valid ones, each field valid or off by a little.
  const maybe = <T>(good: fc.Arbitrary<T>) =>
    fc.oneof({ arbitrary: good, weight: 4 }, { arbitrary: scalar, weight: 1 });
  const near = fc.record({
    kernel: fc.record({
      name: maybe(fc.constantFrom("k", "plant")),
      profile: maybe(fc.constantFrom("efficient", "balanced", "precise")),
      busQueueCap: maybe(fc.integer({ min: 1, max: 100 })),
      executor: fc.record({ tick: maybe(fc.constantFrom("adaptive")) }, { requiredKeys: [] }),
      offload: fc.record({
        jobs: maybe(fc.constant({ crc: "./tasks.ts" })),
        minWorkers: maybe(fc.integer({ min: 0, max: 3 })),
        maxWorkers: maybe(fc.integer({ min: 1, max: 3 })),
      }, { requiredKeys: ["jobs"] }),
    }, { requiredKeys: [] }),
    tasks: fc.array(
      fc.record({
        name: fc.constantFrom("a", "b", "c"),
        kind: maybe(fc.constantFrom("periodic", "event", "cron")),
        module: maybe(fc.constantFrom("./tasks.ts")),
        periodMs: maybe(fc.double({ min: 0.5, max: 100, noNaN: true })),
        topic: maybe(fc.constantFrom("t.x")),
        cron: maybe(fc.constantFrom("0 3 * * *", "@daily", "not cron")),
        timezone: maybe(fc.constantFrom("UTC", "Europe/Berlin", "Mars/Olympus")),
        priority: maybe(fc.integer()),
      }, { requiredKeys: ["name", "module"] }),
      { maxLength: 3 },
    ),
    server: fc.record({
      port: maybe(fc.integer({ min: 0, max: 65535 })),
      hostname: maybe(fc.constantFrom("127.0.0.1", "::1")),
      dashboard: maybe(fc.boolean()),
    }, { requiredKeys: [] }),
    status: fc.record({
      table: maybe(fc.boolean()),
      intervalMs: maybe(fc.integer({ min: 100, max: 5000 })),
    }, { requiredKeys: [] }),
    shutdown: fc.record({ graceMs: maybe(fc.integer({ min: 0, max: 10000 })) }, {
      requiredKeys: [],
    }),
    watch: maybe(fc.boolean()),
  }, { requiredKeys: [] });
  // Configs whose schema passes but whose cron tasks or pool sizes may not.
  const rehearsal = fc.record({
    kernel: fc.record({
      offload: fc.record({
        jobs: fc.constant({ crc: "./tasks.ts" }),
        minWorkers: fc.integer({ min: 0, max: 3 }),
        maxWorkers: fc.integer({ min: 1, max: 3 }),
      }, { requiredKeys: ["jobs"] }),
    }),
    tasks: fc.array(
      fc.record({
        name: fc.constantFrom("a", "b", "c"),
        kind: fc.constant("cron"),
        module: fc.constant("./tasks.ts"),
        cron: fc.constantFrom("0 3 * * *", "@daily", "not cron"),
        timezone: fc.constantFrom("UTC", "Europe/Berlin", "Mars/Olympus"),
      }, { requiredKeys: ["name", "kind", "module", "cron"] }),
      { maxLength: 3 },
    ),
  }, { requiredKeys: [] });
  const seed = 0x15c11;
  const seen = { accepted: 0, rejected: 0, rehearsed: 0 };
  try {
    await fc.assert(
      fc.asyncProperty(fc.oneof(near, near, rehearsal, config, value.any), async (input) => {
        let accepted = true;
        let problems: readonly string[] = [];
        try {
          await validateConfig(input, { configUrl: CONFIG_URL });
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
          accepted = false;
          problems = error.problems;
          assert(problems.length > 0);
        }
        // What the rehearsal must find once the schema is satisfied.
        if (schemaCheck(input)) {
          if (rehearsalProblems(input).length > 0) seen.rehearsed++;
          for (const path of rehearsalProblems(input)) {
            assert(
              problems.some((p) => p.startsWith(path) && " .".includes(p[path.length]!)),
              `${path}: ${problems}`,
            );
          }
        }
        seen[accepted ? "accepted" : "rejected"]++;
        // Manifests, duplicate names and data-port cross-checks are beyond the schema.
        if (!beyondSchema(input)) assertEquals(accepted, schemaCheck(input), JSON.stringify(input));
        else if (accepted) assert(schemaCheck(input), JSON.stringify(input));
      }),
      { seed, numRuns: 400 },
    );
  } catch (error) {
    throw new Error(`fuzz failed with seed ${seed}: ${error}`);
  }
  // Both outcomes must be exercised for the comparison with ajv to mean anything.
  assert(
    seen.accepted >= 20 && seen.rejected >= 20 && seen.rehearsed >= 5,
    JSON.stringify(seen),
  );
});

Deno.test("validateConfig() hands tasks, kernel and server options to the kernel's own checks, with paths", async () => {
  const problems = await problemsOf({
    kernel: { offload: { jobs: { crc: "./tasks.ts" }, minWorkers: 3, maxWorkers: 2 } },
    tasks: [
      { name: "a", kind: "cron", cron: "every day", module: "./tasks.ts" },
      { name: "b", kind: "cron", cron: "@daily", timezone: "Mars/Olympus", module: "./tasks.ts" },
      { name: "c", kind: "periodic", periodMs: 1e300, module: "./tasks.ts" },
      { name: "d", kind: "event", topic: "t", module: "./tasks.ts" },
    ],
    islands: [{
      module: "./control.ts",
      leadUs: 250,
      maxLeadUs: 100,
      values: { out: ["x", "x"] },
      tasks: [{ name: "init", periodMs: 1 }, { name: "step", periodMs: 1 }, {
        name: "step",
        periodMs: 2,
      }],
    }],
    dataPorts: [{ name: "p", producer: "a-b", consumer: "c-d", credit: 8, lowWatermark: 8 }],
    server: { cors: ["not an origin"] },
  });
  assertEquals(problems, [
    "kernel.offload.minWorkers must be <= kernel.offload.maxWorkers (2): current value is 3",
    `tasks[0].cron must be a cron expression (5 or 6 fields) or a nickname such as "@daily" (invalid configuration format ('every day'), exactly five, six, or seven space separated parts are required.): current value is "every day"`,
    'tasks[1].timezone must be an IANA time zone name such as "Europe/Berlin": current value is "Mars/Olympus"',
    "tasks[2].periodMs must be at most 4503599627370496 (the driver's horizon): current value is 1e+300",
    "islands[0].maxLeadUs must be >= islands[0].leadUs (250): current value is 100",
    'islands[0].tasks[0].name must not be "init" or "dispose" (the module\'s hooks): current value is "init"',
    'islands[0].tasks[2].name must be unique in the island: current value is "step"',
    'islands[0].values.out must hold distinct field names: "x" is there twice',
    'dataPorts[0].producer must name a plugin of the config: current value is "a-b"',
    'dataPorts[0].consumer must name a plugin of the config: current value is "c-d"',
    "dataPorts[0].lowWatermark must be < the port's credit (8): current value is 8",
    'server.cors must hold origins like "http://localhost:3000": current value is "not an origin"',
  ]);
});

Deno.test("loadConfig() names the position of any JSON error and refuses what is not a file", async (t) => {
  const folder = await Deno.makeTempDir({ dir: "." });
  const problemOf = async (path: string) => {
    const error = await assertRejects(() => loadConfig(path));
    assertInstanceOf(error, ConfigError);
    assertEquals(error.problems.length, 1);
    return error.problems[0]!.slice(error.problems[0]!.lastIndexOf("/") + 1);
  };
  try {
    const cases: [string, string, string][] = [
      ["empty", "", "empty.json:1:1 is not valid JSON: Unexpected end of JSON input"],
      ["words", "\n  hello", "words.json:2:3 is not valid JSON: Unexpected token 'h'"],
      ["comment", '{\n  // the kernel\n  "watch": true\n}', "comment.json:2:3 is not valid JSON"],
      ["bom", '\uFEFF{ "watch": true }', ""],
    ];
    for (const [name, text, expected] of cases) {
      await t.step(name, async () => {
        await Deno.writeTextFile(`${folder}/${name}.json`, text);
        if (expected === "") {
          assertEquals((await loadConfig(`${folder}/${name}.json`)).config.watch, true);
        } else assert((await problemOf(`${folder}/${name}.json`)).startsWith(expected));
      });
    }
    await t.step("a folder", async () => {
      assertEquals(
        await problemOf(folder),
        `${folder.slice(2)} could not be read: it is not a file`,
      );
    });
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("validateConfig() refuses module paths that do not resolve to a URL", async () => {
  const problems = await problemsOf({
    kernel: { offload: { jobs: { "a b": "http://[z" } } },
    tasks: [{ name: "t", kind: "periodic", periodMs: 5, module: "http://[bad" }],
    islands: [{ module: "http://[x", tasks: [{ name: "a", periodMs: 1 }] }],
    scripts: ["./ok.ts", "http://[y"],
  });
  assertEquals(problems, [
    'kernel.offload.jobs["a b"] must be a path or URL: current value is "http://[z"',
    'tasks[0].module must be a path or URL: current value is "http://[bad"',
    'islands[0].module must be a path or URL: current value is "http://[x"',
    'scripts[1] must be a path or URL: current value is "http://[y"',
  ]);
});
