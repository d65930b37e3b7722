// createServer(): the diagnostics server of a kernel as a fetch function.
// It builds a ProviderRegistry over the kernel's parts (plus the providers
// given), owns a FaultMonitor evaluated on a driver timer of the kernel, and
// serves the SOVD tree on both mounts (with health and docs), and /metrics.

import type { Kernel } from "../kernel.ts";
import type { OffloadPool } from "../exec/offload_pool.ts";
import { type Provider, ProviderRegistry } from "../sovd/provider.ts";
import { FaultMonitor } from "../sovd/fault_monitor.ts";
import { FaultEventLog } from "../sovd/fault_log.ts";
import { ExecutorProvider } from "../sovd/executor_provider.ts";
import { IslandProvider } from "../sovd/island_provider.ts";
import { TaskSink } from "../sovd/task_sink.ts";
import { kernelProvider, offloadProvider } from "../sovd/part_providers.ts";
import { versionInfo } from "../sovd/wire_faults.ts";
import { SOVD_DIALECTS, type SovdDialect } from "../sovd/wire.ts";
import type { Timer } from "../time/timer.ts";
import { CONSOLE_LOGGER, type Logger } from "../logger.ts";
import {
  requireBoolean,
  requireInteger,
  requireLogger,
  requireName,
  requireNonNegative,
  requireOneOf,
  requireOptions,
  requirePositive,
  show,
} from "../internal/validate.ts";
import { BearerCheck } from "./_auth.ts";
import { buildApp } from "./_app.ts";
import { FaultStreams } from "./_fault_streams.ts";
import { MetricsEndpoint } from "./_metrics.ts";
import { openApiDocument, type RouteSpec } from "./_routes.ts";
import { json, sovdRoutes } from "./_sovd_routes.ts";
import { CHRONETIX_VERSION } from "./_version.ts";
import { dashboardAssets } from "./_dashboard_assets.ts";
import { DASHBOARD_POINTS, DASHBOARD_SCHEMAS, dashboardRoutes } from "./_dashboard_routes.ts";
import { DashboardSampler } from "./_dashboard_sampler.ts";

/** Options of the fault monitor a server owns. */
export interface ServerFaultOptions {
  /** How often the monitor evaluates its detectors, ms (a kernel driver timer). @default {1000} */
  evaluateEveryMs?: number;
  /** How long a condition must stay absent before its fault heals, ms. @default {10000} */
  healAfterMs?: number;
  /** Fault events kept for `Last-Event-ID` replay. @default {1024} */
  logCapacity?: number;
  /** Wall time for fault timestamps, ms since the Unix epoch (inject in tests). @default {Date.now} */
  wallClock?: () => number;
}

/** Options of the SSE fault stream. */
export interface ServerStreamOptions {
  /** A keep-alive comment this often, ms (a kernel driver timer). @default {15000} */
  keepAliveMs?: number;
  /** Open streams per client address. @default {4} */
  maxPerClient?: number;
  /** Open streams in total. @default {64} */
  maxStreams?: number;
  /** Frames queued for a client that does not read before it is closed (it replays on reconnect). @default {256} */
  maxQueuedFrames?: number;
}

/** Options of {@linkcode createServer}. */
export interface ServerOptions {
  /** The server's name in log lines. @default {"diagnostics"} */
  name?: string;
  /** Where warnings and server failures go. @default {console} */
  logger?: Logger;
  /**
   * The bearer token state-changing routes need (`DELETE` of faults,
   * status controls). Without one, those routes answer `403`.
   */
  token?: string;
  /** Require the token for reads too (`/metrics`, `health` and `docs` included). @default {false} */
  authenticateReads?: boolean;
  /** Origins allowed by CORS (exact `scheme://host[:port]`); none: no CORS headers. @default {[]} */
  cors?: readonly string[];
  /** A path prefix for everything served, e.g. `/diag`. @default {""} */
  basePath?: string;
  /** The largest request body accepted, bytes (`413` beyond). @default {65536} */
  bodyLimitBytes?: number;
  /** Providers to add to the tree (plugins, components of your own; the kernel's islands are added by the server). @default {[]} */
  providers?: readonly Provider[];
  /** Which keys to write: `"medkit"` (ISO plus ros2_medkit's) or `"iso"`. @default {"medkit"} */
  dialect?: SovdDialect;
  /** The fault monitor. */
  faults?: ServerFaultOptions;
  /** The SSE fault stream. */
  stream?: ServerStreamOptions;
  /** Log entries served per entity at most. @default {200} */
  logEntries?: number;
  /**
   * Scrapes of `/metrics` within this many ms of the last encoding share
   * its bytes (per format), so a scrape storm costs one encoding per period;
   * `0` encodes every scrape. Kernel clock.
   *
   * @default {250}
   */
  metricsMaxAgeMs?: number;
  /**
   * Serve the live dashboard: the page at `{basePath}/`, its files under
   * `{basePath}/dashboard/` (public: they hold no data) and its data at
   * `GET {basePath}/dashboard/api/snapshot` (a read like any other). Its
   * figures are computed only while a client polls, at most once a second.
   *
   * @default {true}
   */
  dashboard?: boolean;
}

/** Where a request came from (the per-client stream limit counts by `address`). */
export interface ClientInfo {
  /** The client's address. @default {"local"} */
  address: string;
}

/** A server's figures. */
export interface ServerStats {
  /** Responses sent, by status class. */
  responses: { "2xx": number; "3xx": number; "4xx": number; "5xx": number };
  /** Fault streams open now. */
  streamsOpen: number;
  /** Fault streams opened so far. */
  streamsOpened: number;
  /** Fault streams refused by a limit. */
  streamsRefused: number;
  /** Fault streams closed because their client stopped reading. */
  streamsSlowClosed: number;
  /** Fault monitor evaluations run. */
  evaluations: number;
}

/**
 * The diagnostics server of a kernel as a fetch function, built by
 * {@linkcode createServer}. Serve it with {@linkcode serve} or any server
 * that takes a `fetch`.
 */
export interface DiagnosticsServer extends AsyncDisposable {
  /**
   * Answers a request.
   *
   * @param request The request.
   * @param client Where it came from.
   * @returns The response.
   */
  fetch(request: Request, client?: ClientInfo): Promise<Response>;
  /**
   * Answers a request built from a path or URL, like Hono's `app.request()`
   * (for tests): a path is resolved against `http://localhost`.
   *
   * @param input A path, a URL or a request.
   * @param init Method, headers, body.
   * @param client Where it came from.
   * @returns The response.
   */
  request(
    input: string | URL | Request,
    init?: RequestInit,
    client?: ClientInfo,
  ): Promise<Response>;
  /** The entity tree: register more providers here at any time. */
  readonly registry: ProviderRegistry;
  /** The fault monitor (evaluated on a kernel driver timer). */
  readonly monitor: FaultMonitor;
  /** The SOVD mounts served (`{basePath}/sovd/v1`, `{basePath}/api/v1`). */
  readonly mounts: readonly string[];
  /** Whether a token is configured. */
  readonly authenticated: boolean;
  /** The server's figures. */
  stats(): ServerStats;
  /**
   * Stops evaluating faults, ends every fault stream and unregisters the
   * detectors. Idempotent. The kernel is left running.
   */
  close(): Promise<void>;
}

const BASE_PATH = /^(\/[A-Za-z0-9._~-]+)*$/;

/**
 * Creates the diagnostics server of a kernel: the SOVD entity tree at
 * `/sovd/v1` and `/api/v1` (the kernel, its executor and each task, its
 * offload pool, each of its islands, and the providers given), `GET /sovd/version-info` and
 * `GET /api/v1/version-info`, `/metrics` (Prometheus 0.0.4 or OpenMetrics
 * 1.0 by `Accept`, `?name[]=` filters), `{mount}/health`, `{mount}/docs` (OpenAPI
 * 3.1), the SSE fault stream `{mount}/faults/stream`, and the live
 * dashboard at `{basePath}/` (uPlot plots of per-interval task lateness,
 * misses, wake-ups, tiers, plugin states and ports, the fault list and
 * the entity tree; `dashboard: false` turns it off). It owns a
 * {@linkcode FaultMonitor} evaluated on a timer of the kernel's driver, so
 * reads never run on the control path. Every error is a SOVD
 * `GenericError`; state-changing routes need the bearer token.
 *
 * @example Reading the tree in a test
 * ```ts
 * import { Kernel } from "@chronetix/core";
 * import { createServer } from "@chronetix/core/server";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * await using kernel = await Kernel.start({ clock });
 * kernel.periodic({ name: "sampler", periodMs: 10, run: () => {} });
 * await using server = createServer(kernel, { logger: { error() {}, warn() {}, info() {} } });
 * clock.advance(100);
 * const apps = await (await server.request("/api/v1/apps")).json();
 * assertEquals(apps.items[0], { id: "sampler", name: "sampler", href: "/api/v1/apps/sampler", type: "app" });
 * const missing = await server.request("/sovd/v1/apps/nobody");
 * assertEquals([missing.status, (await missing.json()).vendor_code], [404, "entity-not-found"]);
 * ```
 *
 * @param kernel The kernel to serve.
 * @param options Token, CORS, base path, limits, providers, fault and stream options.
 * @returns The server.
 * @throws {TypeError} when `kernel` is not a kernel or an option has the wrong type.
 * @throws {RangeError} when a limit or period is out of range.
 */
export function createServer(
  kernel: Kernel<OffloadPool | undefined>,
  options: ServerOptions = {},
): DiagnosticsServer {
  const action = "create a diagnostics server";
  const k = kernel as Partial<Kernel<OffloadPool | undefined>> | null;
  if (k === null || typeof k !== "object" || typeof k.stats !== "function" || !k.driver) {
    throw new TypeError(
      `Cannot ${action} as 'kernel' must be a Kernel: current value is ${show(kernel)}`,
    );
  }
  requireOptions(action, "options", options);
  const name = requireName(action, "name", options.name ?? "diagnostics");
  const logger = requireLogger(action, "logger", options.logger ?? CONSOLE_LOGGER);
  const token = options.token;
  if (token !== undefined && (typeof token !== "string" || !/^[\x21-\x7e]{16,4096}$/.test(token))) {
    throw new TypeError(
      `Cannot ${action} as 'token' must be 16 to 4096 visible ASCII characters: current value is ${
        typeof token === "string" ? `a string of length ${token.length}` : show(token)
      }`,
    );
  }
  const authenticateReads = requireBoolean(
    action,
    "authenticateReads",
    options.authenticateReads ?? false,
  );
  const corsOrigins = requireOrigins(action, options.cors ?? []);
  const basePath = options.basePath ?? "";
  if (typeof basePath !== "string" || !BASE_PATH.test(basePath) || /\/\.\.?(\/|$)/.test(basePath)) {
    throw new TypeError(
      `Cannot ${action} as 'basePath' must be "" or a path like "/diag": current value is ${
        show(basePath)
      }`,
    );
  }
  const bodyLimitBytes = requireInteger(
    action,
    "bodyLimitBytes",
    options.bodyLimitBytes ?? 65536,
    0,
    2 ** 30,
  );
  const providers = options.providers ?? [];
  if (!Array.isArray(providers)) {
    throw new TypeError(
      `Cannot ${action} as 'providers' must be an array: current value is ${show(providers)}`,
    );
  }
  requireProviders(action, providers, kernel.offload !== undefined, logger);
  const dialect = requireOneOf(action, "dialect", options.dialect ?? "medkit", SOVD_DIALECTS);
  const fo = options.faults ?? {};
  requireOptions(action, "faults", fo);
  const evaluateEveryMs = requirePositive(
    action,
    "faults.evaluateEveryMs",
    fo.evaluateEveryMs ?? 1000,
  );
  const so = options.stream ?? {};
  requireOptions(action, "stream", so);
  const limits = {
    keepAliveMs: requirePositive(action, "stream.keepAliveMs", so.keepAliveMs ?? 15000),
    maxPerClient: requireInteger(action, "stream.maxPerClient", so.maxPerClient ?? 4, 1, 1024),
    maxStreams: requireInteger(action, "stream.maxStreams", so.maxStreams ?? 64, 1, 65536),
    maxQueuedFrames: requireInteger(
      action,
      "stream.maxQueuedFrames",
      so.maxQueuedFrames ?? 256,
      1,
      65536,
    ),
  };
  const metricsEndpoint = new MetricsEndpoint(
    kernel.metrics,
    () => kernel.clock.now(),
    requireNonNegative(action, "metricsMaxAgeMs", options.metricsMaxAgeMs ?? 250),
  );
  const logEntries = requireInteger(action, "logEntries", options.logEntries ?? 200, 1, 100000);
  const dashboard = requireBoolean(action, "dashboard", options.dashboard ?? true);

  const monitor = new FaultMonitor({
    name: `${name}-faults`,
    clock: kernel.clock,
    logger,
    ...(fo.healAfterMs === undefined ? {} : { healAfterMs: fo.healAfterMs }),
    ...(fo.wallClock === undefined ? {} : { wallClock: fo.wallClock }),
    log: new FaultEventLog({ capacity: fo.logCapacity ?? 1024 }),
  });
  const registry = new ProviderRegistry({ name, logger });
  const owned: Disposable[] = [];
  const core = kernelProvider(kernel, { monitor });
  owned.push(core);
  registry.register(core);
  // Liveness and timing from the executor's hooks when the kernel was started
  // with a TaskSink as its hooks (`executor: { hooks: new TaskSink() }`), else polled.
  const hooks = kernel.executor.hooks;
  const executor = new ExecutorProvider(kernel.executor, {
    monitor,
    clock: kernel.clock,
    ...(hooks instanceof TaskSink ? { sink: hooks } : {}),
  });
  owned.push(executor);
  registry.register(executor);
  if (kernel.offload !== undefined) {
    const pool = offloadProvider(kernel.offload, { monitor });
    owned.push(pool);
    registry.register(pool);
  }
  if (Array.isArray((kernel as { islands?: unknown }).islands)) {
    // Islands are read from kernel.islands at every read: one started later appears by itself.
    const islands = new IslandProvider(kernel, { monitor, logger });
    owned.push(islands);
    registry.register(islands);
  }
  for (const provider of providers) registry.register(provider);

  const streams = new FaultStreams(monitor.log, kernel.driver, limits, dialect);
  const auth = new BearerCheck(token, "chronetix");
  const responses = { "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0 };
  const mounts = [`${basePath}/sovd/v1`, `${basePath}/api/v1`];
  const versionMounts = [`${basePath}/sovd`, `${basePath}/api/v1`];
  let docs = "";
  const health = (): Record<string, unknown> => {
    const warnings = [...registry.tree().problems];
    const severe = registry.allFaults().filter((f) => f.status === "active" && f.severity <= 2);
    for (const f of severe) {
      warnings.push(`Fault ${f.code} is active on ${f.entityType} ${f.entityId}`);
    }
    if (kernel.state !== "running") warnings.push(`The kernel is ${kernel.state}`);
    return {
      status: warnings.length === 0 ? "healthy" : "degraded",
      timestamp: Math.round(Date.now()) * 1e6,
      warnings,
    };
  };
  const routes: RouteSpec[] = [
    ...sovdRoutes({
      registry,
      monitor,
      streams,
      dialect,
      version: CHRONETIX_VERSION,
      tokenConfigured: auth.configured,
      logEntries,
      health,
      docs: () => docs,
    }),
    {
      method: "GET",
      path: "/version-info",
      scope: "version",
      operationId: "getVersionInfo",
      summary: "The SOVD versions served, with the absolute base URI of this mount",
      tag: "discovery",
      write: false,
      success: { status: 200, description: "Version info", schema: "VersionInfo" },
      errors: [],
      handle: (r) => {
        const mount = r.base === `${basePath}/sovd` ? `${basePath}/sovd/v1` : r.base;
        return json(versionInfo(`${r.url.protocol}//${r.url.host}${mount}`, CHRONETIX_VERSION));
      },
    },
    {
      method: "GET",
      path: "/metrics",
      scope: "root",
      operationId: "getMetrics",
      summary: "Prometheus text 0.0.4 or OpenMetrics 1.0 (by Accept); ?name[]= filters",
      tag: "metrics",
      write: false,
      parameters: [{
        name: "name[]",
        in: "query",
        description: "Only these metric families or samples (repeatable)",
        schema: { type: "string", pattern: "^[a-zA-Z_:][a-zA-Z0-9_:]*$" },
      }],
      success: { status: 200, description: "The exposition", contentType: "text/plain" },
      errors: [400],
      handle: (r) => metricsEndpoint.respond(r.header("accept"), r.url.searchParams),
    },
    ...(dashboard
      ? dashboardRoutes(
        kernel,
        new DashboardSampler(kernel, {
          minIntervalMs: 900,
          capacity: DASHBOARD_POINTS,
          wallClock: fo.wallClock ?? Date.now,
        }),
        mounts,
      )
      : []),
  ];
  docs = JSON.stringify(openApiDocument(routes, {
    version: CHRONETIX_VERSION,
    basePath,
    mounts,
    versionMounts,
    authenticateReads,
    ...(dashboard ? { schemas: DASHBOARD_SCHEMAS } : {}),
  }));
  const app = buildApp(routes, {
    name,
    logger,
    basePath,
    mounts,
    versionMounts,
    corsOrigins,
    bodyLimitBytes,
    auth,
    authenticateReads,
    ...(dashboard ? { assets: dashboardAssets(basePath, `${basePath}/api/v1`) } : {}),
    onResponse: (status) => {
      const key = `${
        Math.min(5, Math.max(2, Math.floor(status / 100)))
      }xx` as keyof typeof responses;
      responses[key]++;
    },
  });

  let evaluator: Timer | undefined = kernel.driver.every(evaluateEveryMs, () => {
    monitor.evaluate();
  }, { latenessClass: "server" });
  let closing: Promise<void> | undefined;
  const server: DiagnosticsServer = {
    registry,
    monitor,
    mounts,
    authenticated: auth.configured,
    fetch: (request, client) => app(request, { client: clientAddress(client) }),
    request: (input, init, client) => {
      const request = input instanceof Request
        ? new Request(input, init)
        : new Request(new URL(input, "http://localhost"), init);
      return app(request, { client: clientAddress(client) });
    },
    stats: () => {
      const s = streams.counts();
      return {
        responses: { ...responses },
        streamsOpen: s.open,
        streamsOpened: s.opened,
        streamsRefused: s.refused,
        streamsSlowClosed: s.slowClosed,
        evaluations: monitor.stats().evaluations,
      };
    },
    close: () => {
      closing ??= (() => {
        evaluator?.cancel();
        evaluator = undefined;
        streams.close();
        for (const d of owned) d[Symbol.dispose]();
        return Promise.resolve();
      })();
      return closing;
    },
    [Symbol.asyncDispose]: () => server.close(),
  };
  return server;
}

/** Checks the extra providers before anything is built, so a bad one leaks nothing. */
function requireProviders(
  action: string,
  providers: readonly Provider[],
  offload: boolean,
  logger: Logger,
): void {
  const probe = new ProviderRegistry({ logger });
  const stub = (name: string): Provider => ({
    name,
    entities: () => [],
    data: () => [],
    faults: () => [],
    status: () => ({ status: "ready", controls: [] }),
  });
  for (const name of ["kernel", "executor", "islands", ...(offload ? ["offload"] : [])]) {
    probe.register(stub(name));
  }
  providers.forEach((provider, i) => {
    try {
      probe.register(provider);
    } catch (error) {
      throw new TypeError(
        `Cannot ${action} as 'providers[${i}]' must be a provider with a unique name: ${
          (error as Error).message
        }`,
      );
    }
  });
}

function clientAddress(client: ClientInfo | undefined): string {
  return typeof client?.address === "string" && client.address !== "" ? client.address : "local";
}

function requireOrigins(action: string, origins: unknown): string[] {
  if (!Array.isArray(origins)) {
    throw new TypeError(
      `Cannot ${action} as 'cors' must be an array of origins: current value is ${show(origins)}`,
    );
  }
  for (const origin of origins) {
    if (typeof origin !== "string" || !/^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?$/.test(origin)) {
      throw new TypeError(
        `Cannot ${action} as 'cors' must hold origins like "http://localhost:3000": current value is ${
          show(origin)
        }`,
      );
    }
  }
  return [...origins];
}
