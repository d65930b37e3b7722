/**
 * The diagnostics server (`@chronetix/core/server`, the only entry that
 * imports Hono): a kernel's SOVD entity tree at `/sovd/v1` and `/api/v1`,
 * its faults and SSE fault stream, Prometheus `/metrics`, `{mount}/health` and
 * an OpenAPI 3.1 `{mount}/docs`, and a live dashboard at `/` (see
 * `docs/dashboard.md`; `dashboard: false` turns it off), with safe defaults
 * (127.0.0.1, a bearer token for every state-changing route, a CORS
 * allow-list, a body limit, ids checked).
 * {@linkcode createServer} gives a fetch function; {@linkcode serve} runs it
 * on `Deno.serve`.
 *
 * @example The fault list of a kernel
 * ```ts
 * import { Kernel } from "@chronetix/core";
 * import { createServer } from "@chronetix/core/server";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * await using kernel = await Kernel.start({ clock: new VirtualClock() });
 * await using server = createServer(kernel, { logger: { error() {}, warn() {}, info() {} } });
 * const faults = await (await server.request("/sovd/v1/faults")).json();
 * assertEquals(faults, { items: [], "x-medkit": { count: 0 } });
 * const denied = await server.request("/sovd/v1/faults", { method: "DELETE" });
 * assertEquals(denied.status, 403); // no token configured: writes are refused
 * await denied.body?.cancel();
 * ```
 *
 * @module
 */
export {
  type ClientInfo,
  createServer,
  type DiagnosticsServer,
  type ServerFaultOptions,
  type ServerOptions,
  type ServerStats,
  type ServerStreamOptions,
} from "./server.ts";
export { serve, type ServeHandle, type ServeOptions } from "./serve.ts";
