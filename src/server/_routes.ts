// The route table: every route the server serves, described once. The app
// registers exactly these, and /docs (OpenAPI 3.1) is written from them, so
// the docs cannot drift from what is served.

import { SCHEMAS } from "./_schemas.ts";

/** A request as a route handler sees it (no Hono types past this line). */
export interface RouteRequest {
  /** The mount asked (`/sovd/v1`, `/api/v1`), or the base path for root routes. */
  readonly base: string;
  /** The URL. */
  readonly url: URL;
  /** A path parameter (already percent-decoded). */
  param(name: string): string;
  /** A request header. */
  header(name: string): string | null;
  /** The client's address (for the per-client stream limit). */
  readonly client: string;
}

/** A query parameter or a header a route reads. */
export interface RouteParameter {
  readonly name: string;
  readonly in: "query" | "header";
  readonly description: string;
  readonly schema: Record<string, unknown>;
}

/** Where a route is mounted: under each SOVD mount, above them, or at the base path. */
export type RouteScope = "sovd" | "version" | "root";

/** One route. */
export interface RouteSpec {
  readonly method: "GET" | "PUT" | "POST" | "DELETE";
  /** Hono syntax, relative to the scope: `/components/:entityId/data/:dataId`. */
  readonly path: string;
  readonly scope: RouteScope;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  /** State-changing: needs the bearer token. */
  readonly write: boolean;
  readonly parameters?: readonly RouteParameter[];
  readonly success: {
    readonly status: number;
    readonly description: string;
    /** A name in `components.schemas`; left out for an empty or a text body. */
    readonly schema?: string;
    readonly contentType?: string;
  };
  /** Error statuses it may answer (GenericError bodies, 401 empty). */
  readonly errors: readonly number[];
  readonly handle: (request: RouteRequest) => Response | Promise<Response>;
}

const ERROR_TEXT: Readonly<Record<number, string>> = {
  400: "A path or query parameter is invalid",
  401: "No bearer token (empty body, WWW-Authenticate)",
  403: "Wrong token, or the server has no token",
  404: "Unknown entity or resource",
  405: "Method not allowed",
  409: "The fault is still active",
  413: "Body too large",
  429: "Too many streams",
  500: "Server failure",
  501: "Not implemented",
  503: "The server is closing",
};

/** Converts a Hono path (`:name`) to an OpenAPI one (`{name}`). */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

/** What {@linkcode openApiDocument} needs besides the routes. */
export interface OpenApiContext {
  readonly version: string;
  readonly basePath: string;
  readonly mounts: readonly string[];
  readonly versionMounts: readonly string[];
  readonly authenticateReads: boolean;
  /** Schemas besides the SOVD ones (the dashboard's), by name. */
  readonly schemas?: Readonly<Record<string, unknown>>;
}

/** Writes the OpenAPI 3.1 document of exactly these routes. */
export function openApiDocument(
  routes: readonly RouteSpec[],
  context: OpenApiContext,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const scopes = new Map<string, string>();
  for (const route of routes) {
    const key = openApiPath(route.path);
    const item = paths[key] ??= {};
    // One OpenAPI path per key: two scopes (or two routes of one method) on
    // one key would make the document lie about what is served.
    if ((scopes.get(key) ?? route.scope) !== route.scope || route.method.toLowerCase() in item) {
      throw new Error(
        `Route ${route.method} ${route.path} (${route.scope}) clashes in the OpenAPI document`,
      );
    }
    scopes.set(key, route.scope);
    if (route.scope === "version") {
      item.servers = context.versionMounts.map((url) => ({ url }));
    } else if (route.scope === "root") {
      item.servers = [{ url: context.basePath === "" ? "/" : context.basePath }];
    }
    const pathParams = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: "string", pattern: "^[A-Za-z0-9_-]{1,256}$" },
    }));
    const responses: Record<string, unknown> = {};
    const s = route.success;
    responses[String(s.status)] = s.schema === undefined && s.contentType === undefined
      ? { description: s.description }
      : {
        description: s.description,
        content: {
          [s.contentType ?? "application/json"]: {
            schema: s.schema === undefined
              ? { type: "string" }
              : { $ref: `#/components/schemas/${s.schema}` },
          },
        },
      };
    const secured = route.write || context.authenticateReads;
    const errors = new Set(route.errors);
    if (secured) {
      errors.add(401);
      errors.add(403);
    }
    errors.add(500);
    for (const status of [...errors].sort((a, b) => a - b)) {
      responses[String(status)] = status === 401 ? { description: ERROR_TEXT[401] } : {
        description: ERROR_TEXT[status] ?? "Error",
        content: {
          "application/json": { schema: { $ref: "#/components/schemas/GenericError" } },
        },
      };
    }
    item[route.method.toLowerCase()] = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      parameters: [
        ...pathParams,
        ...(route.parameters ?? []).map((p) => ({
          name: p.name,
          in: p.in,
          required: false,
          description: p.description,
          schema: p.schema,
        })),
      ],
      responses,
      ...(secured ? { security: [{ bearer: [] }] } : {}),
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Chronetix diagnostics (SOVD)",
      version: context.version,
      "x-sovd-version": "1.1",
      description:
        "The SOVD entity tree of a Chronetix kernel (ISO 17978 keys plus ros2_medkit's), its faults and fault stream, and its metrics. Every href stays on the mount asked.",
    },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    servers: context.mounts.map((url) => ({ url })),
    paths,
    components: {
      schemas: { ...SCHEMAS, ...context.schemas },
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
  };
}
