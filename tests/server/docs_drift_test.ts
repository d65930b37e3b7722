// The server's /docs must describe exactly what it serves: every GET path
// declared there is fetched (path parameters filled in from the tree), and
// every JSON body is validated against its declared schema with a JSON
// Schema 2020-12 validator (ajv). Data items fetched with include-schema are
// also validated against the schema they embed (OpenSOVD's traversal test).
import { assert, assertEquals } from "@std/assert";
import { Ajv2020 } from "./_ajv.ts";
import { fixture } from "./_fixture.ts";

type Operation = {
  operationId: string;
  parameters?: { name: string; in: string }[];
  responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
};
type Docs = {
  servers: { url: string }[];
  paths: Record<string, { servers?: { url: string }[]; get?: Operation }>;
  components: { schemas: Record<string, unknown> };
};

function validator(docs: Docs) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema({ $id: "urn:chronetix:docs", components: docs.components });
  return (name: string, value: unknown): string | undefined => {
    const validate = ajv.getSchema(`urn:chronetix:docs#/components/schemas/${name}`);
    if (validate === undefined) return `no schema ${name}`;
    return validate(value) ? undefined : ajv.errorsText(validate.errors);
  };
}

Deno.test("GET /docs declares every served GET, and every body matches its declared schema", async () => {
  await using f = await fixture();
  f.plant.leaking = true;
  f.fail.on = true;
  f.clock.advance(200);
  const docs = await (await f.server.request("/sovd/v1/docs")).json() as Docs;
  const check = validator(docs);
  const get = async (path: string) => {
    const r = await f.server.request(path);
    return {
      status: r.status,
      body: r.headers.get("content-type")?.startsWith("application/json")
        ? await r.json()
        : await r.text(),
    };
  };
  // Values for path parameters, read from the tree itself.
  const values = async (
    mount: string,
    template: string,
    name: string,
    filled: string,
  ): Promise<string[]> => {
    if (name === "entityId") {
      const collection = template.split("/")[1]!;
      return ((await get(`${mount}/${collection}`)).body.items as { id: string }[]).map((i) =>
        i.id
      );
    }
    if (name === "dataId") {
      return ((await get(filled)).body.items as { id: string }[]).map((i) => i.id);
    }
    if (name === "faultCode") {
      return ((await get(filled)).body.items as { code: string }[]).map((i) => i.code);
    }
    throw new Error(`no values for {${name}} in ${template}`);
  };
  let validated = 0;
  const operations = new Set<string>();
  for (const [template, item] of Object.entries(docs.paths)) {
    const op = item.get;
    if (op === undefined) continue;
    for (const server of item.servers ?? docs.servers) {
      const base = server.url === "/" ? "" : server.url;
      // Expand {params} left to right.
      let urls = [base + template];
      for (const m of template.matchAll(/\{([A-Za-z]+)\}/g)) {
        const next: string[] = [];
        for (const url of urls) {
          const head = url.slice(0, url.indexOf(`{${m[1]}}`) - 1);
          for (const v of await values(base, template, m[1]!, head)) {
            next.push(url.replace(`{${m[1]}}`, v));
          }
        }
        urls = next;
      }
      for (const url of urls) {
        if (op.operationId === "streamFaults") continue; // an endless SSE body: tests/server/fault_stream_test.ts
        const { status, body } = await get(url);
        assertEquals(status, 200, `${url} (${op.operationId})`);
        const content = op.responses["200"]?.content ?? {};
        const ref = content["application/json"]?.schema.$ref;
        if (ref === undefined) {
          assert("text/plain" in content, `${op.operationId} declares no body`);
          assertEquals(typeof body, "string");
          continue;
        }
        const problem = check(ref.split("/").pop()!, body);
        assertEquals(problem, undefined, `${url}: ${problem}`);
        validated++;
        operations.add(op.operationId);
        if (op.operationId.startsWith("read") && op.operationId.endsWith("Data")) {
          const withSchema = (await get(`${url}?include-schema=true`)).body;
          const ajv = new Ajv2020({ strict: false });
          const ok = ajv.validate(withSchema.schema, withSchema.data);
          assert(
            ok,
            `${url}: data does not match its embedded schema: ${ajv.errorsText(ajv.errors)}`,
          );
        }
      }
    }
  }
  // Every collection, every kind of resource, on both mounts.
  for (
    const id of [
      "getRoot",
      "listAreas",
      "getFunction",
      "readAppData",
      "getAppFault",
      "getVersionInfo",
      "getMetrics",
      "getHealth",
      "listComponentLogEntries",
      "getAreaContains",
    ]
  ) {
    assert(operations.has(id) || id === "getMetrics", `${id} was never validated`);
  }
  assert(validated > 150, `only ${validated} bodies validated`);
});

Deno.test("GET /docs error responses match GenericError", async () => {
  await using f = await fixture();
  const docs = await (await f.server.request("/api/v1/docs")).json() as Docs;
  const check = validator(docs);
  for (
    const path of [
      "/api/v1/apps/nobody",
      "/api/v1/apps/a:b",
      "/nowhere",
      "/api/v1/apps/pump/data/x",
    ]
  ) {
    const r = await f.server.request(path);
    assertEquals(check("GenericError", await r.json()), undefined, path);
  }
  const bogus = check("GenericError", { error_code: "nope", message: "x" });
  assert(bogus !== undefined, "the validator accepts anything");
});
