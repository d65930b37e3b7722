// The dashboard's routes without a browser: the snapshot's shape (checked
// against the schema /docs declares) and its per-interval figures on a
// virtual clock, the page and its files (types, caching, ETags), the token
// and the base path, the `dashboard: false` option, and Deno-style 400s.
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { Ajv2020 } from "./_ajv.ts";
import { bearer, fixture, TOKEN } from "./_fixture.ts";
import { createServer } from "../../src/server/mod.ts";
import { Kernel } from "../../src/kernel.ts";
import { DataPort } from "../../src/data/data_port.ts";
import { WOULD_BLOCK } from "../../src/data/backpressure.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { quantileMs } from "../../src/server/_dashboard_sampler.ts";
import { mulberry32, testSeeds } from "../_util/prng.ts";
import type { DashboardPoint } from "../../src/server/_dashboard_sampler.ts";
import { SILENT_LOGGER } from "../_util/logger.ts";

type Json = Record<string, unknown>;
type Point = DashboardPoint;

async function json(response: Response): Promise<Json> {
  return await response.json() as Json;
}

Deno.test("GET /dashboard/api/snapshot takes a point per interval, with interval figures, matching its /docs schema", async () => {
  await using f = await fixture();
  const port = new DataPort({ name: "frames", credit: 4, metrics: f.kernel.metrics });
  try {
    const docs = await json(await f.server.request("/sovd/v1/docs"));
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    ajv.addSchema({ $id: "urn:chronetix:docs", components: docs.components });
    const validate = ajv.getSchema("urn:chronetix:docs#/components/schemas/DashboardSnapshot")!;
    const paths = docs.paths as Record<string, { get?: { operationId: string } }>;
    assertEquals(paths["/dashboard/api/snapshot"]?.get?.operationId, "getDashboardSnapshot");

    // The first request only takes the first look: no point yet.
    const first = await json(await f.server.request("/dashboard/api/snapshot"));
    assert(validate(first), ajv.errorsText(validate.errors));
    assertEquals([first.seq, first.points], [0, []]);
    assertEquals(first.kernel, { name: "kernel", state: "running" });
    assertEquals(first.mounts, ["/sovd/v1", "/api/v1"]);

    f.clock.advance(1000);
    // Credit 4, nobody recycling: 4 frames in flight, 2 sends refused.
    for (let i = 0; i < 6; i++) assertEquals(port.send(new Uint8Array(8)) === WOULD_BLOCK, i >= 4);
    const second = await f.server.request("/dashboard/api/snapshot");
    assertEquals(second.headers.get("cache-control"), "no-store");
    const snap = await json(second);
    assert(validate(snap), ajv.errorsText(validate.errors));
    const [point] = snap.points as Point[];
    assertEquals([snap.seq, point!.seq, point!.intervalMs], [1, 1, 1000]);
    const sampler = point!.tasks.find((t) => t.id === "executor/sampler")!;
    // 10 ms period over 1 s on a virtual clock: 100 runs, each started on time.
    assertEquals(sampler, {
      id: "executor/sampler",
      name: "sampler",
      island: null,
      runs: 100,
      p50Ms: 0,
      p99Ms: 0,
      misses: 0,
      missesTotal: 0,
      tier: 0,
    });
    assertEquals(point!.ports, [{
      id: "dataport/frames",
      name: "frames",
      kind: "dataport",
      utilization: 1,
      peak: 1,
      wouldBlock: 2,
      wouldBlockTotal: 2,
    }]);

    // Within the minimum interval no new point is taken; `after` is a cursor.
    f.clock.advance(500);
    assertEquals(
      (await json(await f.server.request("/dashboard/api/snapshot?after=1"))).points,
      [],
    );
    f.clock.advance(500);
    const third = await json(await f.server.request("/dashboard/api/snapshot?after=1"));
    const points = third.points as Point[];
    assertEquals(points.map((p) => [p.seq, p.intervalMs]), [[2, 1000]]);
    // Interval figures, not since start: 100 runs again, no new would-block.
    assertEquals(points[0]!.tasks.find((t) => t.name === "sampler")!.runs, 100);
    assertEquals(points[0]!.ports[0]!.wouldBlock, 0);
    assertEquals(points[0]!.ports[0]!.wouldBlockTotal, 2);
    const all = await json(await f.server.request("/dashboard/api/snapshot?after=0&limit=1"));
    assertEquals((all.points as Point[]).map((p) => p.seq), [2]);
  } finally {
    port.close();
  }
});

Deno.test("quantileMs() answers within the bucket holding the true quantile, capped by the mean (seeded, against a sorted list)", () => {
  const bounds = [0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, Infinity];
  for (const seed of testSeeds([1, 2, 3, 4, 5])) {
    const random = mulberry32(seed);
    const n = 1 + Math.floor(random() * 500);
    const values = Array.from({ length: n }, () => random() ** 3 * 0.002);
    const counts = bounds.map(() => 0);
    for (const v of values) counts[bounds.findIndex((b) => v <= b)]!++;
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0.5, 0.99]) {
      const truth = sorted[Math.max(0, Math.ceil(q * n) - 1)]!;
      const i = bounds.findIndex((b) => truth <= b);
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const upper = Number.isFinite(bounds[i]!) ? bounds[i]! : lower;
      const sum = values.reduce((a, b) => a + b, 0);
      const got = quantileMs(bounds, counts, q, sum)!;
      assert(
        got >= lower * 1000 - 1e-9 && got <= upper * 1000 + 1e-9,
        `seed ${seed}, q ${q}: ${got} ms outside [${lower * 1000}, ${upper * 1000}]`,
      );
    }
  }
  assertEquals(quantileMs(bounds, bounds.map(() => 0), 0.5), null);
  // Zeros only: 0, not half the first bucket.
  assertEquals(quantileMs(bounds, [7, 0, 0, 0, 0, 0, 0, 0, 0], 0.99, 0), 0);
  assertEquals(quantileMs(bounds, [7, 0, 0, 0, 0, 0, 0, 0, 0], 0.99), 0.00495);
});

Deno.test("The dashboard page and files are served with their types, cache policy and ETags", async (t) => {
  await using f = await fixture();
  const page = await f.server.request("/");
  assertEquals(page.status, 200);
  assertEquals(page.headers.get("content-type"), "text/html; charset=utf-8");
  assertEquals(page.headers.get("cache-control"), "no-cache");
  assertStringIncludes(page.headers.get("content-security-policy")!, "script-src 'self'");
  assertEquals(page.headers.get("x-content-type-options"), "nosniff");
  const html = await page.text();
  assertStringIncludes(html, '<meta name="chronetix-mount" content="/api/v1">');
  const links = [...html.matchAll(/(?:href|src)="(\/dashboard\/[^"]+)"/g)].map((m) => m[1]!);
  assertEquals(links.map((l) => l.replace(/\?v=[0-9a-f]{8}$/, "")).sort(), [
    "/dashboard/app.css",
    "/dashboard/app.js",
    "/dashboard/uPlot.iife.min.js",
    "/dashboard/uPlot.min.css",
  ]);
  for (const link of links) {
    await t.step(link, async () => {
      const r = await f.server.request(link);
      assertEquals(r.status, 200);
      assertMatch(r.headers.get("content-type")!, /^text\/(javascript|css); charset=utf-8$/);
      assertEquals(r.headers.get("cache-control"), "public, max-age=31536000, immutable");
      const text = await r.text();
      if (link.includes("uPlot.iife")) assertStringIncludes(text, "uPlot (v1.6.32)");
      const etag = r.headers.get("etag")!;
      const again = await f.server.request(link, { headers: { "if-none-match": etag } });
      assertEquals([again.status, again.headers.get("etag")], [304, etag]);
      await again.body?.cancel();
    });
  }
  const head = await f.server.request("/dashboard/app.js", { method: "HEAD" });
  assertEquals(head.status, 200);
  await head.body?.cancel();
  const post = await f.server.request("/", { method: "POST" });
  assertEquals([post.status, post.headers.get("allow")], [405, "GET, HEAD, OPTIONS"]);
  await post.body?.cancel();
});

Deno.test("The dashboard keeps to the token and the base path, and `dashboard: false` turns it off", async (t) => {
  await t.step("authenticateReads: the snapshot needs the token, the files do not", async () => {
    await using f = await fixture({ authenticateReads: true });
    const denied = await f.server.request("/dashboard/api/snapshot");
    assertEquals([denied.status, denied.headers.get("www-authenticate")?.startsWith("Bearer")], [
      401,
      true,
    ]);
    await denied.body?.cancel();
    const wrong = await f.server.request("/dashboard/api/snapshot", {
      headers: { authorization: "Bearer wrong-token-0123456789" },
    });
    assertEquals(wrong.status, 403);
    await wrong.body?.cancel();
    const ok = await f.server.request("/dashboard/api/snapshot", { headers: bearer() });
    assertEquals(ok.status, 200);
    await ok.body?.cancel();
    const page = await f.server.request("/");
    assertEquals(page.status, 200);
    await page.body?.cancel();
    assertEquals(TOKEN.length > 16, true);
  });
  await t.step("basePath: everything moves under it", async () => {
    await using f = await fixture({ basePath: "/diag" });
    for (const path of ["/diag", "/diag/"]) {
      const page = await f.server.request(path);
      assertEquals(page.status, 200);
      const html = await page.text();
      assertStringIncludes(html, '<meta name="chronetix-base" content="/diag">');
      assertStringIncludes(html, '<meta name="chronetix-mount" content="/diag/api/v1">');
      assertMatch(html, /src="\/diag\/dashboard\/app\.js\?v=[0-9a-f]{8}"/);
    }
    const snap = await f.server.request("/diag/dashboard/api/snapshot");
    assertEquals(snap.status, 200);
    await snap.body?.cancel();
    for (const path of ["/", "/dashboard/app.js", "/dashboard/api/snapshot"]) {
      const r = await f.server.request(path);
      assertEquals(r.status, 404, path);
      await r.body?.cancel();
    }
  });
  await t.step("dashboard: false: no page, no files, no route, nothing in /docs", async () => {
    await using f = await fixture({ dashboard: false });
    for (
      const path of [
        "/",
        "/dashboard/app.js",
        "/dashboard/uPlot.min.css",
        "/dashboard/api/snapshot",
      ]
    ) {
      const r = await f.server.request(path);
      assertEquals(r.status, 404, path);
      assertEquals((await r.json()).vendor_code, "resource-not-found");
    }
    const docs = await json(await f.server.request("/api/v1/docs"));
    assertEquals("/dashboard/api/snapshot" in (docs.paths as Json), false);
    assertEquals("DashboardSnapshot" in ((docs.components as Json).schemas as Json), false);
  });
  await t.step("a dashboard option that is not a boolean is a TypeError naming it", async () => {
    await using kernel = await Kernel.start({ clock: new VirtualClock(), logger: SILENT_LOGGER });
    let message = "";
    try {
      createServer(kernel, { logger: SILENT_LOGGER, dashboard: "yes" as unknown as boolean });
    } catch (error) {
      assert(error instanceof TypeError);
      message = error.message;
    }
    assertStringIncludes(message, "'dashboard'");
    assertStringIncludes(message, "current value is");
  });
});

Deno.test("GET /dashboard/api/snapshot answers bad query input with a Deno-style 400 naming the parameter", async () => {
  await using f = await fixture();
  const cases: [string, string, string][] = [
    ["after=x", "after", `'after' must be an integer: current value is "x"`],
    [
      "after=-1",
      "after",
      "'after' must be an integer in [0, 9007199254740991]: current value is -1",
    ],
    ["limit=0", "limit", "'limit' must be an integer in [1, 600]: current value is 0"],
    ["limit=601", "limit", "'limit' must be an integer in [1, 600]: current value is 601"],
    ["limit=1.5", "limit", `'limit' must be an integer: current value is "1.5"`],
    ["after=1&after=2", "after", "'after' must be given at most once: current count is 2"],
    ["since=3", "since", `'since' must be one of 'after' and 'limit': current value is "3"`],
  ];
  for (const [query, name, text] of cases) {
    const r = await f.server.request(`/dashboard/api/snapshot?${query}`);
    assertEquals(r.status, 400, query);
    const body = await json(r);
    assertEquals(body.error_code, "incomplete-request");
    assertEquals(body.parameters, { name });
    assertEquals(body.message, `Cannot read the dashboard snapshot as ${text}`);
  }
});
