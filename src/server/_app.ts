// The Hono wiring: CORS, the body limit, auth per route, the route table
// registered under each mount, 405 for a known path with another method,
// 404 for anything else, and one onError. Only this file touches Hono.

import { Hono } from "hono";
import { cors } from "hono/cors";
import { bodyLimit } from "hono/body-limit";
import type { RouteRequest, RouteSpec } from "./_routes.ts";
import { errorResponse, httpError, notFound } from "./_errors.ts";
import type { BearerCheck } from "./_auth.ts";
import type { Logger } from "../logger.ts";
import type { StaticAsset } from "./_dashboard_assets.ts";

/** The env a request carries through Hono. */
export interface AppEnv {
  client?: string;
}

/** What the app needs besides the routes. */
export interface AppOptions {
  readonly name: string;
  readonly logger: Logger;
  readonly basePath: string;
  readonly mounts: readonly string[];
  readonly versionMounts: readonly string[];
  readonly corsOrigins: readonly string[];
  readonly bodyLimitBytes: number;
  readonly auth: BearerCheck;
  readonly authenticateReads: boolean;
  readonly onResponse: (status: number) => void;
  /** Files served as they are below the base path, without the token (the dashboard's). */
  readonly assets?: readonly StaticAsset[];
}

/** A fetch function: the app, without its type. */
export type AppFetch = (request: Request, env: AppEnv) => Promise<Response>;

/** Builds the app from the route table. */
export function buildApp(routes: readonly RouteSpec[], options: AppOptions): AppFetch {
  const app = new Hono<{ Bindings: AppEnv }>({ strict: true });
  app.onError((error) => errorResponse(error, options.logger, options.name));
  app.notFound((c) =>
    errorResponse(
      notFound(
        `No resource at '${new URL(c.req.url).pathname.slice(0, 256)}'`,
        "resource-not-found",
      ),
      options.logger,
      options.name,
    )
  );
  app.use("*", async (c, next) => {
    await next();
    options.onResponse(c.res.status);
  });
  if (options.corsOrigins.length > 0) {
    const allowed = new Set(options.corsOrigins);
    app.use(
      "*",
      cors({
        origin: (origin) => (allowed.has(origin) ? origin : null),
        allowMethods: ["GET", "PUT", "POST", "DELETE", "OPTIONS"],
        allowHeaders: ["Authorization", "Content-Type", "Last-Event-ID"],
        exposeHeaders: ["Location", "WWW-Authenticate", "Retry-After"],
        maxAge: 600,
      }),
    );
  }
  app.use(
    "*",
    bodyLimit({
      maxSize: options.bodyLimitBytes,
      onError: () => {
        throw httpError(
          413,
          "vendor-specific",
          `Cannot read the request as its body must be at most ${options.bodyLimitBytes} bytes`,
          { vendorCode: "payload-too-large" },
        );
      },
    }),
  );

  const allowed = new Map<string, Set<string>>();
  for (const asset of options.assets ?? []) {
    const prefix = options.basePath;
    const paths = asset.path === "/" ? [prefix === "" ? "/" : prefix, `${prefix}/`] : [
      `${prefix}${asset.path}`,
    ];
    for (const path of new Set(paths)) {
      allowed.set(path, new Set(["GET", "HEAD"]));
      // Public on purpose: the files hold no data, and a browser cannot send
      // a bearer token with a navigation; every data request of the page does.
      app.get(path, (c) => {
        const headers: Record<string, string> = {
          "content-type": asset.contentType,
          "cache-control": asset.cacheControl,
          etag: asset.etag,
          "x-content-type-options": "nosniff",
          ...asset.headers,
        };
        const match = c.req.header("if-none-match");
        if (match !== undefined && match.split(",").some((tag) => tag.trim() === asset.etag)) {
          return new Response(null, { status: 304, headers });
        }
        return new Response(asset.body, { status: 200, headers });
      });
    }
  }
  for (const route of routes) {
    const prefixes = route.scope === "sovd"
      ? options.mounts
      : route.scope === "version"
      ? options.versionMounts
      : [options.basePath];
    for (const prefix of prefixes) {
      const paths = route.path === "/" ? [prefix === "" ? "/" : prefix, `${prefix}/`] : [
        `${prefix}${route.path}`,
      ];
      for (const path of new Set(paths)) {
        const methods = allowed.get(path) ?? new Set<string>();
        methods.add(route.method);
        if (route.method === "GET") methods.add("HEAD");
        allowed.set(path, methods);
        app.on(route.method, path, async (c) => {
          if (route.write || options.authenticateReads) {
            await options.auth.require(
              c.req.header("authorization"),
              `${route.method} ${route.path}`,
            );
          }
          const request: RouteRequest = {
            base: route.scope === "root" ? options.basePath : prefix,
            url: new URL(c.req.url),
            param: (name) => c.req.param(name) ?? "",
            header: (name) => c.req.header(name) ?? null,
            client: c.env?.client ?? "local",
          };
          return await route.handle(request);
        });
      }
    }
  }
  for (const [path, methods] of allowed) {
    app.all(path, () => {
      const allow = [...methods, "OPTIONS"].join(", ");
      throw httpError(
        405,
        "vendor-specific",
        `Cannot answer this method here: allowed are ${allow}`,
        { vendorCode: "method-not-allowed" },
        { allow },
      );
    });
  }
  return async (request, env) => await app.fetch(request, env);
}
