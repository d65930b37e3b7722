// Real islands (real threads) in the diagnostics server's SOVD tree, through
// request(): an island started after the server appears as an app on the
// kernel component with its per-task timing; its status and controls
// (shutdown with 202 and Location, restart 501 while Island has no
// restart()); its faults from failed runs and a crash. No timing bound is
// asserted; waits are on conditions.

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { Kernel } from "../../mod.ts";
import { createServer } from "../../src/server/mod.ts";
import { SILENT_LOGGER } from "../_util/logger.ts";
import { Ajv2020 } from "../server/_ajv.ts";

const FIXTURES = new URL("_fixtures/", import.meta.url);
const TOKEN = "island-token-0123456789";
const auth = { authorization: `Bearer ${TOKEN}` };

/** Waits until `condition()` holds, looking again every few ms (no bound asserted). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return await response.json();
}

Deno.test("An island started after the server is an app on the kernel with its tasks' timing; shutdown is a 202", async () => {
  await using kernel = await Kernel.start({ profile: "efficient", logger: SILENT_LOGGER });
  await using server = createServer(kernel, { logger: SILENT_LOGGER, token: TOKEN });
  assertEquals((await json(await server.request("/api/v1/apps"))).items, []);
  const island = await kernel.island({
    name: "echo",
    module: new URL("counter.ts", FIXTURES),
    tasks: [{ name: "tick", periodMs: 1 }],
    values: { out: ["ticks", "inits", "disposed"] },
  });
  await until(() => island.stats().runs >= 3);

  const apps = await json(await server.request("/api/v1/apps"));
  assertEquals(apps.items, [{ id: "echo", name: "echo", href: "/api/v1/apps/echo", type: "app" }]);
  const hosts = await json(await server.request("/api/v1/components/kernel/hosts"));
  assertEquals((hosts.items as { id: string }[]).map((e) => e.id), ["echo"]);
  const located = await json(await server.request("/sovd/v1/apps/echo/is-located-on"));
  assertEquals((located.items as { id: string }[]).map((e) => e.id), ["kernel"]);

  const data = await json(await server.request("/api/v1/apps/echo/data"));
  assertEquals((data.items as { id: string }[]).map((d) => d.id), [
    "island",
    "task-tick",
    "identity",
  ]);
  const tick = (await json(await server.request("/api/v1/apps/echo/data/task-tick")))
    .data as Record<
      string,
      unknown
    >;
  assertEquals([tick.name, tick.liveness, tick.task_state === "failed"], [
    "tick",
    "running",
    false,
  ]);
  assert((tick.runs as number) >= 3, `runs ${tick.runs}`);
  assert((tick.executions as number) >= 2, `executions ${tick.executions}`);
  assertEquals(typeof tick.max_us, "number");
  for (const id of ["island", "task-tick", "identity"]) {
    const withSchema = await json(
      await server.request(`/api/v1/apps/echo/data/${id}?include-schema=true`),
    );
    const ajv = new Ajv2020({ strict: false });
    const valid = ajv.validate(withSchema.schema as object, withSchema.data);
    assert(valid, `${id}: ${ajv.errorsText(ajv.errors)}`);
    if (id !== "task-tick") continue;
    const properties =
      (withSchema.schema as { properties: Record<string, Record<string, unknown>> })
        .properties;
    assertEquals(properties.ewma_us!["x-sovd-unit"], {
      display_name: "µs",
      factor_si_to_unit: 1e6,
    });
  }
  const state = (await json(await server.request("/api/v1/apps/echo/data/island"))).data;
  assertEquals((state as { state: string }).state, "running");

  const status = await json(await server.request("/api/v1/apps/echo/status"));
  const restartable = typeof (island as { restart?: unknown }).restart === "function";
  assertEquals(status.status, "ready");
  assertEquals(status.shutdown, "/api/v1/apps/echo/status/shutdown");
  assertEquals(status["force-shutdown"], "/api/v1/apps/echo/status/force-shutdown");
  assertEquals("restart" in status, restartable);
  if (!restartable) {
    const restart = await server.request("/api/v1/apps/echo/status/restart", {
      method: "PUT",
      headers: auth,
    });
    assertEquals(restart.status, 501);
    assertEquals((await json(restart)).error_code, "not-implemented");
  }
  const anonymous = await server.request("/api/v1/apps/echo/status/shutdown", { method: "PUT" });
  assertEquals(anonymous.status, 401);
  await anonymous.body?.cancel();
  assertEquals(island.state, "running");

  const shutdown = await server.request("/api/v1/apps/echo/status/shutdown", {
    method: "PUT",
    headers: auth,
  });
  assertEquals(shutdown.status, 202);
  const location = shutdown.headers.get("location")!;
  assertEquals(location, "/api/v1/apps/echo/status");
  await shutdown.body?.cancel();
  await until(() => island.state === "closed");
  assertEquals(island.values.out!.get("disposed"), 1); // a graceful close ran dispose()
  assertEquals(kernel.islands, []);
  const after = await json(await server.request(location));
  // Still listed, no controls left.
  assertEquals(after, { status: "notReady", "x-medkit": { reason: "the island is closed" } });
  const apps2 = await json(await server.request("/api/v1/apps"));
  assertEquals((apps2.items as { id: string }[]).map((a) => a.id), ["echo"]);
});

Deno.test("An island's failed runs and its crash are faults of its app", async () => {
  await using kernel = await Kernel.start({ profile: "efficient", logger: SILENT_LOGGER });
  await using server = createServer(kernel, {
    logger: SILENT_LOGGER,
    faults: { evaluateEveryMs: 3_600_000 }, // evaluated by hand below
  });
  const faulty = await kernel.island({
    name: "faulty",
    module: new URL("faults.ts", FIXTURES),
    tasks: [{ name: "throws", periodMs: 1 }],
  });
  const exits = await kernel.island({
    name: "exits",
    module: new URL("faults.ts", FIXTURES),
    tasks: [{ name: "exits", periodMs: 1 }],
    values: { out: ["starts"] },
    restart: { policy: "on-failure", maxRestarts: 1, backoffMs: 0 },
  });
  await until(() => faulty.stats().failures >= 2);
  await until(() => exits.values.out!.get("starts") === 2 && exits.state === "running");
  server.monitor.evaluate();

  const faults = await json(await server.request("/api/v1/apps/faulty/faults"));
  const failed = (faults.items as { code: string; fault_name: string }[])
    .find((f) => f.code === "TASK_RUN_FAILURES");
  assert(failed !== undefined, JSON.stringify(faults));
  const detail = await json(await server.request("/api/v1/apps/faulty/faults/TASK_RUN_FAILURES"));
  assertStringIncludes(JSON.stringify(detail), "throws");

  const crash = await json(await server.request("/api/v1/apps/exits/faults/ISLAND_CRASH"));
  assertStringIncludes(JSON.stringify(crash), "exit code 3");
  const global = await json(await server.request("/api/v1/faults"));
  const codes = (global.items as { code: string }[]).map((f) => f.code);
  assert(codes.includes("ISLAND_CRASH") && codes.includes("TASK_RUN_FAILURES"), codes.join());
  const island = (await json(await server.request("/api/v1/apps/exits/data/island"))).data as {
    crashes: number;
    restarts: number;
    last_error_code: string;
  };
  assertEquals([island.crashes, island.restarts, island.last_error_code], [
    1,
    1,
    "E_ISLAND_CRASHED",
  ]);
});
