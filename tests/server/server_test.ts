import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { bearer, body, fixture, TOKEN } from "./_fixture.ts";
import { createServer } from "../../src/server/mod.ts";
import { CHRONETIX_VERSION } from "../../src/server/_version.ts";
import { Kernel } from "../../src/kernel.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { recordingLogger, SILENT_LOGGER } from "../_util/logger.ts";
import type { Provider } from "../../src/sovd/provider.ts";

const MOUNTS = ["/sovd/v1", "/api/v1"];
const COLLECTIONS = ["areas", "components", "apps", "functions"];

type Ref = { id: string; name: string; href: string; type: string };

Deno.test("createServer() serves a HATEOAS tree whose every href stays on the mount asked and resolves", async () => {
  await using f = await fixture();
  f.clock.advance(100);
  for (const mount of MOUNTS) {
    const root = await body(await f.server.request(`${mount}/`));
    assertEquals(root.api_base, mount);
    for (const c of COLLECTIONS) assertEquals(root[c], `${mount}/${c}`);
    let resolved = 0;
    for (const c of COLLECTIONS) {
      const list = await body(await f.server.request(`${mount}/${c}`));
      const items = list.items as Ref[];
      assert(items.length > 0, `${mount}/${c} is empty`);
      assertEquals((list["x-medkit"] as { total_count: number }).total_count, items.length);
      for (const ref of items) {
        assertEquals(ref.href, `${mount}/${c}/${ref.id}`);
        const detail = await f.server.request(ref.href);
        assertEquals(detail.status, 200, ref.href);
        const d = await body(detail);
        assertEquals([d.id, d.type], [ref.id, ref.type]);
        const caps = d.capabilities as { name: string; href: string }[];
        assert(caps.length >= 6);
        for (const cap of caps) {
          assertEquals(cap.href, `${ref.href}/${cap.name}`);
          assertEquals(d[cap.name], cap.href);
          const r = await f.server.request(cap.href);
          assertEquals(r.status, 200, cap.href);
          await r.body?.cancel();
          resolved++;
        }
      }
    }
    assert(resolved > 30, `only ${resolved} capability hrefs`);
  }
});

Deno.test("createServer() keeps hosts and is-located-on, contains and belongs-to in agreement", async () => {
  await using f = await fixture();
  const get = async (path: string) => await body(await f.server.request(`/api/v1${path}`));
  const apps = (await get("/apps")).items as Ref[];
  assertEquals(apps.map((a) => a.id).sort(), ["flaky", "pump", "sampler"]);
  for (const app of apps) {
    const on = (await get(`/apps/${app.id}/is-located-on`)).items as Ref[];
    assertEquals(on.length, 1, app.id);
    const hosts = (await get(`/components/${on[0]!.id}/hosts`)).items as Ref[];
    assert(hosts.some((h) => h.id === app.id), `${on[0]!.id} does not host ${app.id}`);
  }
  const contains = (await get("/areas/cell/contains")).items as Ref[];
  assertEquals(contains.map((e) => `${e.type}:${e.id}`).sort(), [
    "app:pump",
    "component:boiler",
    "function:monitoring",
  ]);
  for (const e of contains) {
    const collection = `${e.type === "function" ? "functions" : `${e.type}s`}`;
    const belongs = (await get(`/${collection}/${e.id}/belongs-to`)).items as Ref[];
    assertEquals(belongs.map((b) => b.href), ["/api/v1/areas/cell"]);
  }
  const pump = await get("/apps/pump");
  assertEquals(pump["x-medkit"], {
    is_online: true,
    health: "OK",
    component_id: "boiler",
    source: "chronetix",
    seam_id: "pump/main",
  });
});

Deno.test("createServer() answers version-info on both keys with the absolute base URI of the mount", async () => {
  await using f = await fixture();
  const sovd = await body(
    await f.server.request("http://diag.local:9000/sovd/version-info"),
  );
  assertEquals(sovd.sovd_info, sovd.items);
  assertEquals(
    (sovd.items as { base_uri: string }[])[0]!.base_uri,
    "http://diag.local:9000/sovd/v1",
  );
  const api = await body(await f.server.request("/api/v1/version-info"));
  assertEquals(api.items, [{
    version: "1.1",
    base_uri: "http://localhost/api/v1",
    vendor_info: { name: "chronetix", version: CHRONETIX_VERSION },
  }]);
  const missing = await f.server.request("/sovd/v1/version-info");
  assertEquals(missing.status, 404);
  await missing.body?.cancel();
});

Deno.test("CHRONETIX_VERSION equals the version in deno.json", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  assertEquals(CHRONETIX_VERSION, config.version);
});

Deno.test("createServer() serves data lists by category and data items with units in their schema", async () => {
  await using f = await fixture();
  f.clock.advance(50);
  const cats = await body(await f.server.request("/sovd/v1/apps/pump/data-categories"));
  assertEquals(cats, { items: [{ item: "currentData" }, { item: "identData" }] });
  const current = await body(
    await f.server.request("/sovd/v1/apps/pump/data?category=currentData"),
  );
  assertEquals(current, { items: [{ id: "flow", name: "Flow", category: "currentData" }] });
  const both = await body(
    await f.server.request("/sovd/v1/apps/pump/data?category=currentData&category=identData"),
  );
  assertEquals((both.items as unknown[]).length, 2);
  const plain = await body(await f.server.request("/sovd/v1/apps/pump/data/flow"));
  assertEquals(plain, { id: "flow", data: { rate_hz: 12.5, lag_us: null } });
  const withSchema = await body(
    await f.server.request("/sovd/v1/apps/pump/data/flow?include-schema=true"),
  );
  const props = (withSchema.schema as { properties: Record<string, Record<string, unknown>> })
    .properties;
  assertEquals(props.lag_us!["x-sovd-unit"], { display_name: "µs", factor_si_to_unit: 1e6 });
  const timing = await body(await f.server.request("/api/v1/apps/sampler/data/timing"));
  assertEquals((timing.data as { executions: number }).executions, 5);
  const groups = await body(await f.server.request("/api/v1/apps/pump/data-groups"));
  assertEquals(groups, { items: [] });
});

Deno.test("createServer() answers bad parameters with 400 and unknown things with 404 GenericErrors", async () => {
  await using f = await fixture();
  const cases: [string, number, string, string | undefined][] = [
    ["/sovd/v1/apps/pump/data?category=bogus", 400, "incomplete-request", undefined],
    ["/sovd/v1/apps/pump/data/flow?include-schema=yes", 400, "incomplete-request", undefined],
    ["/sovd/v1/apps/pump/faults?severity=9", 400, "incomplete-request", undefined],
    [
      "/sovd/v1/apps/pump/faults?status[aggregatedStatus]=gone",
      400,
      "incomplete-request",
      undefined,
    ],
    ["/sovd/v1/apps/a:b", 400, "incomplete-request", undefined],
    ["/sovd/v1/apps/bad%20id", 400, "incomplete-request", undefined],
    ["/sovd/v1/apps/..%2F..%2Fetc%2Fpasswd", 400, "incomplete-request", undefined],
    [`/sovd/v1/apps/${"x".repeat(257)}`, 400, "incomplete-request", undefined],
    ["/sovd/v1/apps/nobody", 404, "vendor-specific", "entity-not-found"],
    ["/sovd/v1/components/pump", 404, "vendor-specific", "entity-not-found"],
    ["/sovd/v1/apps/pump/data/nothing", 404, "vendor-specific", "resource-not-found"],
    ["/sovd/v1/apps/pump/faults/NO_SUCH", 404, "vendor-specific", "resource-not-found"],
    ["/sovd/v1/hosts", 404, "vendor-specific", "resource-not-found"],
    ["/sovd/v2/components", 404, "vendor-specific", "resource-not-found"],
    ["/../../etc/passwd", 404, "vendor-specific", "resource-not-found"],
    ["/metrics?name[]=bad-name", 400, "incomplete-request", undefined],
  ];
  for (const [path, status, code, vendor] of cases) {
    const response = await f.server.request(path);
    assertEquals(response.status, status, path);
    assertMatch(response.headers.get("content-type") ?? "", /^application\/json/);
    const b = await body(response);
    assertEquals(b.error_code, code, path);
    assertEquals(b.vendor_code, vendor, path);
    assertEquals(typeof b.message, "string");
  }
  const bad = await body(await f.server.request("/sovd/v1/apps/pump/data?category=bogus"));
  assertStringIncludes(bad.message as string, "'category'");
  assertEquals(bad.parameters, { name: "category" });
});

Deno.test("createServer() answers 405 with Allow for a known path and another method", async () => {
  await using f = await fixture();
  const put = await f.server.request("/sovd/v1/apps/pump/data/flow", {
    method: "PUT",
    body: "{}",
    headers: bearer(),
  });
  assertEquals(put.status, 405);
  assertEquals(put.headers.get("allow"), "GET, HEAD, OPTIONS");
  assertEquals((await body(put)).vendor_code, "method-not-allowed");
  const post = await f.server.request("/metrics", { method: "POST" });
  assertEquals(post.status, 405);
  await post.body?.cancel();
});

Deno.test("createServer() turns a provider failure into a 500 without a stack trace", async () => {
  const logger = recordingLogger();
  await using kernel = await Kernel.start({ clock: new VirtualClock(), logger: SILENT_LOGGER });
  const broken: Provider = {
    name: "broken",
    entities: () => [{ id: "broken", name: "broken", type: "component" }],
    data: () => {
      throw new Error("secret internals at /home/x/file.ts:12");
    },
    faults: () => [],
    status: () => ({ status: "ready", controls: [] }),
  };
  await using server = createServer(kernel, { logger, providers: [broken] });
  const response = await server.request("/sovd/v1/components/broken/data");
  assertEquals(response.status, 500);
  const text = await response.text();
  assertEquals(JSON.parse(text), {
    error_code: "sovd-server-failure",
    message: "The server failed to answer this request",
  });
  assert(!text.includes("secret") && !text.includes("file.ts"));
  assert(logger.lines.some((l) => l.includes("secret internals")));
  assertEquals(server.stats().responses["5xx"], 1);
});

Deno.test("createServer() needs the bearer token for state-changing routes", async (t) => {
  await using f = await fixture();
  await t.step("no token: 401 with an empty body and WWW-Authenticate", async () => {
    const r = await f.server.request("/sovd/v1/faults", { method: "DELETE" });
    assertEquals(r.status, 401);
    assertEquals(r.headers.get("www-authenticate"), 'Bearer realm="chronetix"');
    assertEquals(await r.text(), "");
  });
  await t.step("a wrong token: 403 insufficient-access-rights", async () => {
    for (const token of ["x".repeat(TOKEN.length), TOKEN + "x", TOKEN.slice(1)]) {
      const r = await f.server.request("/sovd/v1/faults", {
        method: "DELETE",
        headers: bearer(token),
      });
      assertEquals(r.status, 403);
      assertEquals((await body(r)).error_code, "insufficient-access-rights");
    }
  });
  await t.step("the right token: 204", async () => {
    const r = await f.server.request("/sovd/v1/faults", { method: "DELETE", headers: bearer() });
    assertEquals(r.status, 204);
    assertEquals(await r.text(), "");
  });
  await t.step("reads stay open", async () => {
    const r = await f.server.request("/metrics");
    assertEquals(r.status, 200);
    await r.body?.cancel();
  });
});

Deno.test("createServer() without a token refuses writes, and with authenticateReads guards reads", async () => {
  await using kernel = await Kernel.start({ clock: new VirtualClock(), logger: SILENT_LOGGER });
  await using open = createServer(kernel, { logger: SILENT_LOGGER, name: "open" });
  const refused = await open.request("/api/v1/faults", { method: "DELETE", headers: bearer() });
  assertEquals(refused.status, 403);
  assertStringIncludes((await body(refused)).message as string, "no token");
  await using closed = createServer(kernel, {
    logger: SILENT_LOGGER,
    name: "closed",
    token: TOKEN,
    authenticateReads: true,
  });
  for (const path of ["/metrics", "/api/v1/health", "/sovd/v1/components", "/sovd/version-info"]) {
    const denied = await closed.request(path);
    assertEquals(denied.status, 401, path);
    await denied.body?.cancel();
    const allowed = await closed.request(path, { headers: bearer() });
    assertEquals(allowed.status, 200, path);
    await allowed.body?.cancel();
  }
});

Deno.test("createServer() answers CORS preflights for allowed origins only", async () => {
  await using f = await fixture({ cors: ["http://localhost:3000"] });
  const preflight = (origin: string) =>
    f.server.request("/sovd/v1/faults", {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "DELETE",
        "access-control-request-headers": "authorization",
      },
    });
  const ok = await preflight("http://localhost:3000");
  assertEquals(ok.status, 204);
  assertEquals(ok.headers.get("access-control-allow-origin"), "http://localhost:3000");
  assertStringIncludes(ok.headers.get("access-control-allow-methods") ?? "", "DELETE");
  assertStringIncludes(
    (ok.headers.get("access-control-allow-headers") ?? "").toLowerCase(),
    "authorization",
  );
  await ok.body?.cancel();
  const evil = await preflight("http://evil.example");
  assertEquals(evil.headers.get("access-control-allow-origin"), null);
  await evil.body?.cancel();
  const get = await f.server.request("/sovd/v1/components", {
    headers: { origin: "http://localhost:3000" },
  });
  assertEquals(get.headers.get("access-control-allow-origin"), "http://localhost:3000");
  await get.body?.cancel();
  await using g = await fixture();
  const none = await g.server.request("/sovd/v1/components", {
    headers: { origin: "http://localhost:3000" },
  });
  assertEquals(none.headers.get("access-control-allow-origin"), null);
  await none.body?.cancel();
});

Deno.test("createServer() refuses bodies over the limit with 413", async () => {
  await using f = await fixture({ bodyLimitBytes: 1024 });
  const big = await f.server.request("/sovd/v1/apps/pump/status/restart", {
    method: "PUT",
    headers: { ...bearer(), "content-type": "application/json" },
    body: JSON.stringify({ pad: "x".repeat(4096) }),
  });
  assertEquals(big.status, 413);
  assertEquals((await body(big)).vendor_code, "payload-too-large");
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < 8; i++) c.enqueue(new Uint8Array(512));
      c.close();
    },
  });
  const chunked = await f.server.request("/sovd/v1/apps/pump/status/restart", {
    method: "PUT",
    headers: bearer(),
    body: stream,
  });
  assertEquals(chunked.status, 413);
  await chunked.body?.cancel();
  const small = await f.server.request("/sovd/v1/apps/pump/status/restart", {
    method: "PUT",
    headers: bearer(),
    body: "{}",
  });
  assertEquals(small.status, 202);
  await small.body?.cancel();
});

Deno.test("createServer() runs status controls a provider offers (202, Location) and answers 501 otherwise", async () => {
  await using f = await fixture();
  const status = await body(await f.server.request("/api/v1/apps/pump/status"));
  assertEquals(status, {
    status: "ready",
    restart: "/api/v1/apps/pump/status/restart",
    shutdown: "/api/v1/apps/pump/status/shutdown",
  });
  const restart = await f.server.request("/api/v1/apps/pump/status/restart", {
    method: "PUT",
    headers: bearer(),
  });
  assertEquals(restart.status, 202);
  assertEquals(restart.headers.get("location"), "/api/v1/apps/pump/status");
  assertEquals(await body(restart), { id: "restart", status: "running" });
  const post = await f.server.request("/sovd/v1/apps/pump/status/shutdown", {
    method: "POST",
    headers: bearer(),
  });
  assertEquals(post.status, 202);
  assertEquals(post.headers.get("location"), "/sovd/v1/apps/pump/status");
  await post.body?.cancel();
  assertEquals(f.plant.controls, ["app/pump/restart", "app/pump/shutdown"]);
  const notOffered = await f.server.request("/api/v1/apps/pump/status/force-shutdown", {
    method: "PUT",
    headers: bearer(),
  });
  assertEquals(notOffered.status, 501);
  assertEquals((await body(notOffered)).error_code, "not-implemented");
  const task = await f.server.request("/api/v1/apps/sampler/status/restart", {
    method: "PUT",
    headers: bearer(),
  });
  assertEquals(task.status, 501);
  await task.body?.cancel();
  const bogus = await f.server.request("/api/v1/apps/pump/status/explode", {
    method: "PUT",
    headers: bearer(),
  });
  assertEquals(bogus.status, 400);
  await bogus.body?.cancel();
  const unauthenticated = await f.server.request("/api/v1/apps/pump/status/restart", {
    method: "PUT",
  });
  assertEquals(unauthenticated.status, 401);
  await unauthenticated.body?.cancel();
  assertEquals(f.plant.controls.length, 2);
});

Deno.test("createServer() lists operations and log entries (provider's, then fault events)", async () => {
  await using f = await fixture();
  const ops = await body(await f.server.request("/sovd/v1/apps/pump/operations"));
  assertEquals(ops, {
    items: [{
      id: "calibrate",
      name: "Calibrate",
      proximity_proof_required: false,
      asynchronous_execution: true,
    }],
  });
  const logs = await body(await f.server.request("/sovd/v1/apps/pump/logs"));
  assertEquals(logs, {
    entries: "/sovd/v1/apps/pump/logs/entries",
    config: "/sovd/v1/apps/pump/logs/config",
  });
  f.plant.leaking = true;
  f.clock.advance(100);
  const entries = (await body(await f.server.request("/sovd/v1/apps/pump/logs/entries")))
    .items as { msg: string; severity: string; timestamp: string; context: { type: string } }[];
  assertEquals(entries.map((e) => [e.severity, e.msg]), [
    ["info", "pump primed"],
    ["error", "fault_confirmed PUMP_LEAK: The pump leaks"],
  ]);
  assertEquals(entries[0]!.timestamp, "2023-11-14T22:13:20.000Z");
  assertEquals(entries[0]!.context.type, "RFC5424");
});

Deno.test("createServer() serves the fault lifecycle: raise, filter, detail, 409 while active, clear", async () => {
  await using f = await fixture();
  f.plant.leaking = true;
  f.fail.on = true;
  f.clock.advance(100);
  const all = await body(await f.server.request("/sovd/v1/faults"));
  const codes = (all.items as { code: string }[]).map((i) => i.code).sort();
  assertEquals(codes, ["PUMP_LEAK", "TASK_RUN_FAILURES"]);
  const severe = await body(await f.server.request("/sovd/v1/faults?severity=2"));
  assertEquals((severe.items as { code: string }[]).map((i) => i.code), ["PUMP_LEAK"]);
  const pump = await body(
    await f.server.request("/api/v1/apps/pump/faults?status[aggregatedStatus]=active"),
  );
  assertEquals(pump["x-medkit"], { count: 1, entity_id: "pump" });
  const detail = await body(await f.server.request("/api/v1/apps/pump/faults/PUMP_LEAK"));
  assertEquals(detail.environment_data, { pressure_bar: 1.5 });
  assertEquals((detail.item as { severity_label: string }).severity_label, "ERROR");
  const health = await body(await f.server.request("/sovd/v1/health"));
  assertEquals(health.status, "degraded");
  const unhealthy = await body(await f.server.request("/api/v1/apps/pump"));
  assertEquals((unhealthy["x-medkit"] as { health: string }).health, "ERROR");
  const active = await f.server.request("/api/v1/apps/pump/faults/PUMP_LEAK", {
    method: "DELETE",
    headers: bearer(),
  });
  assertEquals(active.status, 409);
  assertEquals((await body(active)).error_code, "precondition-not-fulfilled");
  f.plant.leaking = false;
  f.clock.advance(100);
  const passive = await body(
    await f.server.request("/api/v1/apps/pump/faults?status[aggregatedStatus]=passive"),
  );
  assertEquals((passive.items as unknown[]).length, 1);
  const cleared = await f.server.request("/api/v1/apps/pump/faults/PUMP_LEAK", {
    method: "DELETE",
    headers: bearer(),
  });
  assertEquals(cleared.status, 204);
  const gone = await f.server.request("/api/v1/apps/pump/faults/PUMP_LEAK");
  assertEquals(gone.status, 404);
  await gone.body?.cancel();
  f.fail.on = false;
  f.clock.advance(1000);
  assertEquals((await body(await f.server.request("/sovd/v1/faults"))).items, []);
  assertEquals((await body(await f.server.request("/sovd/v1/health"))).status, "healthy");
});

Deno.test("createServer() serves /metrics by Accept, filtered by name[]", async () => {
  await using f = await fixture();
  f.clock.advance(50);
  const text = await f.server.request("/metrics");
  assertEquals(text.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const t = await text.text();
  assertStringIncludes(t, "# TYPE chronetix_exec_runs_total counter");
  const om = await f.server.request("/metrics", {
    headers: {
      accept: "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
    },
  });
  assertEquals(
    om.headers.get("content-type"),
    "application/openmetrics-text; version=1.0.0; charset=utf-8",
  );
  assert((await om.text()).endsWith("# EOF\n"));
  const filtered = await (await f.server.request("/metrics?name[]=chronetix_exec_runs_total"))
    .text();
  const families = filtered.split("\n").filter((l) => l.startsWith("# TYPE"));
  assertEquals(families, ["# TYPE chronetix_exec_runs_total counter"]);
  assertMatch(filtered, /chronetix_exec_runs_total\{[^}]*task="sampler"[^}]*\} 5\n/);
  const omFiltered = await (await f.server.request(
    "/metrics?name[]=chronetix_exec_runs&name[]=nothing_here",
    { headers: { accept: "application/openmetrics-text" } },
  )).text();
  assertEquals(omFiltered.split("\n").filter((l) => l.startsWith("# TYPE")), [
    "# TYPE chronetix_exec_runs counter",
  ]);
  assert(omFiltered.endsWith("# EOF\n"));
  const empty = await (await f.server.request("/metrics?name[]=nothing_here")).text();
  assertEquals(empty, "");
});

Deno.test("createServer() serves /docs as OpenAPI 3.1 with named schemas and unique operation ids", async () => {
  await using f = await fixture();
  for (const mount of MOUNTS) {
    const docs = await body(await f.server.request(`${mount}/docs`));
    assertEquals(docs.openapi, "3.1.0");
    assertEquals((docs.info as Record<string, unknown>)["x-sovd-version"], "1.1");
    assertEquals(docs.servers, [{ url: "/sovd/v1" }, { url: "/api/v1" }]);
    const ids: string[] = [];
    for (const item of Object.values(docs.paths as Record<string, Record<string, unknown>>)) {
      for (const [method, op] of Object.entries(item)) {
        if (method === "servers") continue;
        ids.push((op as { operationId: string }).operationId);
      }
    }
    assertEquals(new Set(ids).size, ids.length);
    assert(
      ids.includes("getMetrics") && ids.includes("streamFaults") && ids.includes("readAppData"),
    );
    const schemas = (docs.components as { schemas: Record<string, unknown> }).schemas;
    for (const name of ["GenericError", "EntityCollection", "FaultList", "ReadValue", "Health"]) {
      assert(name in schemas, name);
    }
  }
});

Deno.test("createServer() checks its arguments with Deno-style errors", async () => {
  await using kernel = await Kernel.start({ clock: new VirtualClock(), logger: SILENT_LOGGER });
  const bad: [unknown, string][] = [
    [{ token: "short" }, "'token'"],
    [{ cors: ["*"] }, "'cors'"],
    [{ basePath: "/a/../b" }, "'basePath'"],
    [{ basePath: "diag" }, "'basePath'"],
    [{ bodyLimitBytes: -1 }, "'bodyLimitBytes'"],
    [{ dialect: "x" }, "'dialect'"],
    [{ faults: { evaluateEveryMs: 0 } }, "'faults.evaluateEveryMs'"],
    [{ stream: { maxPerClient: 0 } }, "'stream.maxPerClient'"],
    [{ providers: "no" }, "'providers'"],
    [{ authenticateReads: "yes" }, "'authenticateReads'"],
  ];
  for (const [options, name] of bad) {
    let message = "";
    try {
      // deno-lint-ignore no-explicit-any
      createServer(kernel, options as any);
    } catch (error) {
      assert(error instanceof TypeError || error instanceof RangeError);
      message = error.message;
    }
    assertStringIncludes(message, name);
    assertMatch(message, /^Cannot create a diagnostics server as /);
  }
  let thrown: unknown;
  try {
    // deno-lint-ignore no-explicit-any
    createServer({} as any);
  } catch (error) {
    thrown = error;
  }
  assert(thrown instanceof TypeError);
});

Deno.test("createServer() serves everything under a base path", async () => {
  await using f = await fixture({ basePath: "/diag" });
  const components = await body(await f.server.request("/diag/api/v1/components"));
  assert((components.items as Ref[]).every((c) => c.href.startsWith("/diag/api/v1/components/")));
  const metrics = await f.server.request("/diag/metrics");
  assertEquals(metrics.status, 200);
  await metrics.body?.cancel();
  const version = await body(await f.server.request("/diag/sovd/version-info"));
  assertEquals(
    (version.items as { base_uri: string }[])[0]!.base_uri,
    "http://localhost/diag/sovd/v1",
  );
  const outside = await f.server.request("/metrics");
  assertEquals(outside.status, 404);
  await outside.body?.cancel();
});

Deno.test("DiagnosticsServer.close() stops evaluating faults and is idempotent", async () => {
  await using f = await fixture();
  f.clock.advance(300);
  const before = f.server.stats().evaluations;
  assertEquals(before, 3);
  await f.server.close();
  await f.server.close();
  f.clock.advance(1000);
  assertEquals(f.server.stats().evaluations, before);
  const stream = await f.server.request("/sovd/v1/faults/stream");
  assertEquals(stream.status, 503);
  await stream.body?.cancel();
});

Deno.test("createServer() shares one /metrics encoding between scrapes within metricsMaxAgeMs", async () => {
  await using f = await fixture({ metricsMaxAgeMs: 250 });
  const gauge = f.kernel.metrics.gauge({ name: "chronetix_test_level", help: "A level" }).labels();
  const scrape = async () =>
    (await (await f.server.request("/metrics?name[]=chronetix_test_level")).text()).split("\n")
      .find((l) => l.startsWith("chronetix_test_level "));
  gauge.set(1);
  assertEquals(await scrape(), "chronetix_test_level 1");
  gauge.set(2);
  assertEquals(await scrape(), "chronetix_test_level 1"); // within 250 ms: the same encoding
  f.clock.advance(250);
  assertEquals(await scrape(), "chronetix_test_level 2");
  await using g = await fixture({ metricsMaxAgeMs: 0 });
  const other = g.kernel.metrics.gauge({ name: "chronetix_test_level", help: "A level" }).labels();
  other.set(3);
  await (await g.server.request("/metrics")).body?.cancel();
  other.set(4);
  assertStringIncludes(
    await (await g.server.request("/metrics")).text(),
    "chronetix_test_level 4\n",
  );
});
