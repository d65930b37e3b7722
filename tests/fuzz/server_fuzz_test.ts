// Seeded fuzz of the diagnostics server's input surfaces: request paths
// (ids, collections, traversal attempts, encodings), query strings (data
// categories, include-schema, fault filters, name[]), headers
// (Authorization, Last-Event-ID, Accept, Origin), methods and bodies, and the
// options of createServer(). Every request gets an answer with a known
// status; every error body is a GenericError without a stack trace (401:
// empty); a 200 on an entity path names an entity of the tree; no request
// ever gets a 500. Options either work or throw a clean Deno-style error.
import { assert, assertEquals } from "@std/assert";
import { check, cleanCall, fc, hostile } from "./_hostile.ts";
import { fixture, TOKEN } from "../server/_fixture.ts";
import { createServer } from "../../src/server/mod.ts";
import { Kernel } from "../../src/kernel.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { SILENT_LOGGER } from "../_util/logger.ts";

const STATUSES = new Set([200, 202, 204, 400, 401, 403, 404, 405, 409, 413, 429, 501]);
const ERROR_CODES = new Set([
  "incomplete-request",
  "insufficient-access-rights",
  "vendor-specific",
  "precondition-not-fulfilled",
  "not-implemented",
  "not-responding",
]);

const segment = fc.oneof(
  fc.constantFrom(
    "sovd",
    "v1",
    "api",
    "components",
    "apps",
    "areas",
    "functions",
    "hosts",
    "kernel",
    "executor",
    "sampler",
    "pump",
    "boiler",
    "cell",
    "data",
    "faults",
    "stream",
    "status",
    "restart",
    "logs",
    "entries",
    "config",
    "operations",
    "docs",
    "health",
    "metrics",
    "version-info",
    "data-categories",
    "is-located-on",
    "flow",
    "timing",
    "PUMP_LEAK",
    "..",
    ".",
    "%2e%2e",
    "%2F",
    "a:b",
    "%00",
    "x".repeat(300),
  ),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/),
);
const path = fc.oneof(
  fc.array(segment, { minLength: 1, maxLength: 7 }).map((s) => `/${s.join("/")}`),
  fc.tuple(fc.constantFrom("/sovd/v1", "/api/v1"), fc.array(segment, { maxLength: 5 })).map((
    [m, s],
  ) => `${m}/${s.join("/")}`),
);
const queryValue = fc.oneof(
  fc.constantFrom("currentData", "identData", "true", "false", "active", "passive", "1", "4", "0"),
  fc.string({ maxLength: 10 }),
);
const query = fc.array(
  fc.tuple(
    fc.constantFrom(
      "category",
      "include-schema",
      "status[aggregatedStatus]",
      "severity",
      "name[]",
      "x",
    ),
    queryValue,
  ),
  { maxLength: 4 },
).map((pairs) => new URLSearchParams(pairs).toString());
const header = fc.oneof(
  fc.constant(undefined),
  fc.string({ maxLength: 40 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
);
const request = fc.record({
  method: fc.constantFrom("GET", "GET", "GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD"),
  path,
  query,
  auth: fc.oneof(
    fc.constant(undefined),
    fc.constant(`Bearer ${TOKEN}`),
    header,
  ),
  lastEventId: header,
  accept: header,
  origin: fc.oneof(fc.constant(undefined), fc.constantFrom("http://localhost:3000", "null")),
  body: fc.oneof(
    fc.constant(undefined),
    fc.string({ maxLength: 64 }),
    fc.constant("x".repeat(2048)),
  ),
});

Deno.test("fuzz: the server answers every request with a known status and a clean GenericError", async () => {
  await using f = await fixture({ cors: ["http://localhost:3000"], bodyLimitBytes: 1024 });
  f.plant.leaking = true;
  f.clock.advance(100);
  const entities = new Set(
    f.server.registry.entities().map((e) =>
      `${e.type === "function" ? "functions" : `${e.type}s`}/${e.id}`
    ),
  );
  await check(
    fc.asyncProperty(request, async (r) => {
      const headers = new Headers();
      if (r.auth !== undefined) headers.set("authorization", r.auth);
      if (r.lastEventId !== undefined) headers.set("last-event-id", r.lastEventId);
      if (r.accept !== undefined) headers.set("accept", r.accept);
      if (r.origin !== undefined) headers.set("origin", r.origin);
      const withBody = r.body !== undefined && !["GET", "HEAD"].includes(r.method);
      const url = `${r.path}${r.query === "" ? "" : `?${r.query}`}`;
      let response: Response;
      try {
        response = await f.server.request(url, {
          method: r.method,
          headers,
          ...(withBody ? { body: r.body } : {}),
        });
      } catch (error) {
        // Only the Request constructor may refuse (an invalid URL): never the server.
        assert(error instanceof TypeError, `${r.method} ${url}: ${error}`);
        return;
      }
      assert(STATUSES.has(response.status), `${r.method} ${url}: status ${response.status}`);
      const text = r.method === "HEAD" ? "" : await readSome(response);
      if (response.status >= 400 && r.method !== "HEAD") {
        if (response.status === 401) {
          assertEquals(text, "");
          assert(response.headers.get("www-authenticate")?.startsWith("Bearer"));
        } else {
          const body = JSON.parse(text);
          assert(ERROR_CODES.has(body.error_code), `${url}: ${text}`);
          assertEquals(typeof body.message, "string");
          assert(!/\n\s+at /.test(text), `${url}: a stack trace leaked`);
        }
      }
      const m = /^\/(?:sovd|api)\/v1\/((?:areas|components|apps|functions)\/[^/]+)$/.exec(r.path);
      if (m !== null && response.status === 200 && r.method === "GET") {
        assert(entities.has(decodeURIComponent(m[1]!)), `${url} answered 200 for no entity`);
      }
    }),
    300,
  );
  assertEquals(f.server.stats().responses["5xx"], 0);
});

async function readSome(response: Response): Promise<string> {
  if (response.headers.get("content-type")?.startsWith("text/event-stream")) {
    await response.body?.cancel();
    return "";
  }
  return await response.text();
}

Deno.test("fuzz: createServer() options either work or throw a clean error naming the option", async () => {
  await using kernel = await Kernel.start({ clock: new VirtualClock(), logger: SILENT_LOGGER });
  const option = fc.constantFrom(
    "token",
    "authenticateReads",
    "cors",
    "basePath",
    "bodyLimitBytes",
    "providers",
    "dialect",
    "faults",
    "stream",
    "logEntries",
    "name",
  );
  await check(fc.asyncProperty(option, hostile(), async (name, value) => {
    const server = cleanCall(
      () => createServer(kernel, { logger: SILENT_LOGGER, [name]: value }),
      [
        name,
        `${name}[0]`,
        `${name}.evaluateEveryMs`,
        `${name}.keepAliveMs`,
        `${name}.maxPerClient`,
      ],
    );
    await server?.close();
  }));
});
