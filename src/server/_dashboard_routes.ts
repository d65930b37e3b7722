// The dashboard's JSON route, `GET {basePath}/dashboard/api/snapshot`: the
// points of the DashboardSampler after a cursor, with the kernel's name and
// state and where the SOVD mounts are. One request a second carries
// everything the plots need; the fault list and the entity tree use the
// SOVD routes.

import type { Kernel } from "../kernel.ts";
import type { OffloadPool } from "../exec/offload_pool.ts";
import type { RouteSpec } from "./_routes.ts";
import { badRequest, parseInput } from "./_errors.ts";
import { json } from "./_sovd_routes.ts";
import type { DashboardSampler } from "./_dashboard_sampler.ts";

/** Points returned at most per request, and kept. */
export const DASHBOARD_POINTS = 600;

const ACTION = "read the dashboard snapshot";

/**
 * Reads an integer query parameter; a Deno-style `TypeError`/`RangeError`
 * naming it when it is not one in `[min, max]` or is given more than once.
 */
export function queryInteger(
  params: URLSearchParams,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const values = params.getAll(name);
  if (values.length === 0) return fallback;
  if (values.length > 1) {
    throw new TypeError(
      `Cannot ${ACTION} as '${name}' must be given at most once: current count is ${values.length}`,
    );
  }
  const text = values[0]!;
  if (!/^-?[0-9]{1,16}$/.test(text)) {
    throw new TypeError(
      `Cannot ${ACTION} as '${name}' must be an integer: current value is ${
        JSON.stringify(text.slice(0, 64))
      }`,
    );
  }
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Cannot ${ACTION} as '${name}' must be an integer in [${min}, ${max}]: current value is ${text}`,
    );
  }
  return value;
}

const KNOWN = new Set(["after", "limit"]);

/** The dashboard's routes (root scope). */
export function dashboardRoutes(
  kernel: Kernel<OffloadPool | undefined>,
  sampler: DashboardSampler,
  mounts: readonly string[],
): RouteSpec[] {
  return [{
    method: "GET",
    path: "/dashboard/api/snapshot",
    scope: "root",
    operationId: "getDashboardSnapshot",
    summary:
      "The dashboard's points after a cursor: per-interval task start lateness, misses, tiers, wake-ups, plugins, ports",
    tag: "dashboard",
    write: false,
    parameters: [
      {
        name: "after",
        in: "query",
        description: "Only points with a larger seq (0: every point kept)",
        schema: { type: "integer", minimum: 0 },
      },
      {
        name: "limit",
        in: "query",
        description: `At most this many points, the newest (1 to ${DASHBOARD_POINTS})`,
        schema: { type: "integer", minimum: 1, maximum: DASHBOARD_POINTS },
      },
    ],
    success: { status: 200, description: "The snapshot", schema: "DashboardSnapshot" },
    errors: [400],
    handle: (r) => {
      const params = r.url.searchParams;
      for (const key of params.keys()) {
        if (!KNOWN.has(key)) {
          throw badRequest(
            `Cannot ${ACTION} as '${
              key.slice(0, 64)
            }' must be one of 'after' and 'limit': current value is ${
              JSON.stringify(params.get(key)?.slice(0, 64))
            }`,
            key.slice(0, 64),
          );
        }
      }
      const after = parseInput(
        () => queryInteger(params, "after", 0, 0, Number.MAX_SAFE_INTEGER),
        "after",
      );
      const limit = parseInput(
        () => queryInteger(params, "limit", DASHBOARD_POINTS, 1, DASHBOARD_POINTS),
        "limit",
      );
      const points = sampler.pointsAfter(after, limit);
      return json(
        {
          kernel: { name: kernel.name, state: kernel.state },
          mounts: [...mounts],
          seq: sampler.seq,
          points,
        },
        200,
        { "cache-control": "no-store" },
      );
    },
  }];
}

const COUNT = { type: "integer", minimum: 0 };
const NULLABLE_MS = { type: ["number", "null"], minimum: 0 };
const NULLABLE_TEXT = { type: ["string", "null"] };

function object(properties: Record<string, unknown>): Record<string, unknown> {
  return {
    type: "object",
    properties,
    required: Object.keys(properties),
    additionalProperties: false,
  };
}

/** The JSON Schemas of the dashboard's route, for `/docs`. */
export const DASHBOARD_SCHEMAS: Readonly<Record<string, unknown>> = {
  DashboardSnapshot: object({
    kernel: object({
      name: { type: "string" },
      state: { enum: ["running", "draining", "stopped"] },
    }),
    mounts: { type: "array", items: { type: "string" } },
    seq: COUNT,
    points: { type: "array", items: { $ref: "#/components/schemas/DashboardPoint" } },
  }),
  DashboardPoint: object({
    seq: COUNT,
    t: { type: "number" },
    intervalMs: { type: "number", minimum: 0 },
    tasks: {
      type: "array",
      items: object({
        id: { type: "string" },
        name: { type: "string" },
        island: NULLABLE_TEXT,
        runs: COUNT,
        p50Ms: NULLABLE_MS,
        p99Ms: NULLABLE_MS,
        misses: COUNT,
        missesTotal: COUNT,
        tier: { type: "integer", minimum: 0, maximum: 3 },
      }),
    },
    wakeups: object({ far: COUNT, near: COUNT, block: COUNT, imminent: COUNT, early: COUNT }),
    plugins: {
      type: "array",
      items: object({
        name: { type: "string" },
        state: { type: "string" },
        restarts: COUNT,
        giveUps: COUNT,
      }),
    },
    events: {
      type: "array",
      items: object({
        seq: COUNT,
        t: { type: "number" },
        kind: { type: "string" },
        plugin: { type: "string" },
        from: NULLABLE_TEXT,
        to: NULLABLE_TEXT,
        reason: NULLABLE_TEXT,
      }),
    },
    ports: {
      type: "array",
      items: object({
        id: { type: "string" },
        name: { type: "string" },
        kind: { enum: ["dataport", "ring"] },
        utilization: { type: "number" },
        peak: { type: "number" },
        wouldBlock: COUNT,
        wouldBlockTotal: COUNT,
      }),
    },
  }),
};
