// serve(): the diagnostics server on Deno.serve, bound to 127.0.0.1 unless
// told otherwise, with a warning when it is reachable from elsewhere without
// a token.

import type { Kernel } from "../kernel.ts";
import type { OffloadPool } from "../exec/offload_pool.ts";
import { CONSOLE_LOGGER, type Logger } from "../logger.ts";
import { requireInteger, requireNonEmptyString, requireOptions } from "../internal/validate.ts";
import { createServer, type DiagnosticsServer, type ServerOptions } from "./server.ts";

/** Options of {@linkcode serve}. */
export interface ServeOptions extends ServerOptions {
  /** The address to bind. Anything but a loopback address without a `token` logs a warning. @default {"127.0.0.1"} */
  hostname?: string;
  /** The port; `0` picks a free one (read it from `addr`). @default {8080} */
  port?: number;
}

/** A running diagnostics server. */
export interface ServeHandle extends AsyncDisposable {
  /** The address it listens on. */
  readonly addr: Deno.NetAddr;
  /** The server (its registry, monitor and stats). */
  readonly server: DiagnosticsServer;
  /** Resolves once the HTTP server has stopped. */
  readonly finished: Promise<void>;
  /**
   * Closes the diagnostics server (fault streams end), then stops the HTTP
   * server once in-flight requests are answered. Idempotent. The kernel
   * is left running.
   */
  shutdown(): Promise<void>;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;

/**
 * Serves a kernel's diagnostics server (see {@linkcode createServer}) on
 * `Deno.serve`: `127.0.0.1:8080` by default. Bound anywhere else without a
 * `token`, it warns through the logger, since every read is then open to the
 * network. Needs `--allow-net`.
 *
 * @example Serving a kernel on a free port
 * ```ts
 * import { Kernel } from "@chronetix/core";
 * import { serve } from "@chronetix/core/server";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals, assertStringIncludes } from "@std/assert";
 *
 * await using kernel = await Kernel.start({ clock: new VirtualClock() });
 * await using handle = serve(kernel, { port: 0, logger: { error() {}, warn() {}, info() {} } });
 * const response = await fetch(`http://127.0.0.1:${handle.addr.port}/metrics`);
 * assertEquals(response.status, 200);
 * assertStringIncludes(await response.text(), "# TYPE");
 * ```
 *
 * @param kernel The kernel to serve.
 * @param options Address, port and every {@linkcode ServerOptions} option.
 * @returns The running server.
 * @throws {TypeError} when an option has the wrong type.
 * @throws {RangeError} when `port` is not an integer in [0, 65535].
 */
export function serve(
  kernel: Kernel<OffloadPool | undefined>,
  options: ServeOptions = {},
): ServeHandle {
  const action = "serve diagnostics";
  requireOptions(action, "options", options);
  const hostname = requireNonEmptyString(action, "hostname", options.hostname ?? "127.0.0.1");
  const port = requireInteger(action, "port", options.port ?? 8080, 0, 65535);
  const { hostname: _h, port: _p, ...serverOptions } = options;
  const logger: Logger = options.logger ?? CONSOLE_LOGGER;
  const server = createServer(kernel, serverOptions);
  if (!LOOPBACK.test(hostname) && !server.authenticated) {
    try {
      logger.warn(
        `Diagnostics server bound to ${hostname} without a token: every read is open to the network; pass 'token' (and 'authenticateReads') or bind 127.0.0.1`,
      );
    } catch {
      // A throwing logger does not stop the server.
    }
  }
  let http: Deno.HttpServer<Deno.NetAddr>;
  try {
    http = Deno.serve({
      hostname,
      port,
      onListen: () => {},
      onError: () => new Response(null, { status: 500 }),
    }, (request, info) => server.fetch(request, { address: info.remoteAddr.hostname }));
  } catch (error) {
    void server.close();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      await server.close();
      await http.shutdown();
    })();
    return stopping;
  };
  return {
    addr: http.addr,
    server,
    finished: http.finished,
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}
