// A kernel on a VirtualClock with a few tasks, a provider of a small plant
// (an area, a function, a component, an app with status controls, logs and
// a switchable fault), and a diagnostics server over them.

import { Kernel } from "../../src/kernel.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { createServer, type DiagnosticsServer, type ServerOptions } from "../../src/server/mod.ts";
import type { Provider } from "../../src/sovd/provider.ts";
import type { FaultMonitor } from "../../src/sovd/fault_monitor.ts";
import type { StatusControl } from "../../src/sovd/model.ts";
import { SILENT_LOGGER } from "../_util/logger.ts";

export const TOKEN = "test-token-0123456789abcdef";

/** The plant's switches and what it saw. */
export interface Plant {
  /** Whether the pump's fault condition holds. */
  leaking: boolean;
  /** Controls run, as `type/id/control`. */
  readonly controls: string[];
}

export interface Fixture extends AsyncDisposable {
  readonly clock: VirtualClock;
  readonly kernel: Kernel;
  readonly server: DiagnosticsServer;
  readonly plant: Plant;
}

function plantProvider(plant: Plant, monitor: () => FaultMonitor): Provider {
  return {
    name: "plant",
    entities: () => [
      { id: "cell", name: "Cell 1", type: "area" },
      { id: "monitoring", name: "Monitoring", type: "function", belongsTo: "cell" },
      { id: "boiler", name: "Boiler", type: "component", belongsTo: "cell" },
      {
        id: "pump",
        name: "pump/main",
        type: "app",
        locatedOn: "boiler",
        belongsTo: "cell",
        seamId: "pump/main",
      },
    ],
    data: (id) =>
      id === "pump"
        ? [
          {
            id: "flow",
            name: "Flow",
            category: "currentData",
            value: { rate_hz: 12.5, lag_us: NaN },
            schema: {
              type: "object",
              properties: {
                rate_hz: {
                  type: "number",
                  "x-sovd-unit": { display_name: "Hz", factor_si_to_unit: 1 },
                },
                lag_us: {
                  type: ["number", "null"],
                  "x-sovd-unit": { display_name: "µs", factor_si_to_unit: 1e6 },
                },
              },
              required: ["rate_hz", "lag_us"],
              additionalProperties: false,
            },
          },
          {
            id: "model",
            name: "Model",
            category: "identData",
            value: "P-100",
            schema: { type: "string" },
          },
        ]
        : [],
    faults: (id, type) => monitor().faults(type, id),
    clearFault: (id, type, code) => monitor().clear(type, id, code),
    status: (id) =>
      id === "pump"
        ? { status: "ready", controls: ["restart", "shutdown"] }
        : { status: "ready", controls: [] },
    operations: (id) => (id === "pump" ? [{ id: "calibrate", name: "Calibrate" }] : []),
    control: (id, type, control: StatusControl) => {
      plant.controls.push(`${type}/${id}/${control}`);
      return "accepted";
    },
    logs: (
      id,
    ) => (id === "pump"
      ? [{ timestampMs: 1_700_000_000_000, severity: "info", message: "pump primed" }]
      : []),
  };
}

/** Starts the fixture: tasks `sampler` (ok) and `flaky` (throws while `fail` is set). */
export async function fixture(
  options: ServerOptions = {},
): Promise<Fixture & { fail: { on: boolean } }> {
  const clock = new VirtualClock();
  const kernel = await Kernel.start({ clock, logger: SILENT_LOGGER });
  const fail = { on: false };
  kernel.periodic({ name: "sampler", periodMs: 10, run: () => {} });
  kernel.periodic({
    name: "flaky",
    periodMs: 10,
    run: () => {
      if (fail.on) throw new Error("sensor unplugged");
    },
  });
  const plant: Plant = { leaking: false, controls: [] };
  const holder: { server?: DiagnosticsServer } = {};
  const provider = plantProvider(plant, () => holder.server!.monitor);
  const server = holder.server = createServer(kernel, {
    logger: SILENT_LOGGER,
    token: TOKEN,
    providers: [provider],
    faults: {
      evaluateEveryMs: 100,
      healAfterMs: 500,
      wallClock: () => 1_700_000_000_000 + clock.now(),
    },
    ...options,
  });
  server.monitor.addDetector({
    name: "plant",
    detect: (report) => {
      if (plant.leaking) {
        report({
          entityId: "pump",
          entityType: "app",
          code: "PUMP_LEAK",
          name: "Pump leak",
          description: "The pump leaks",
          severity: 2,
          newOccurrences: 1,
          environmentData: { pressure_bar: 1.5 },
        });
      }
    },
  });
  const s = server;
  return {
    clock,
    kernel,
    server: s,
    plant,
    fail,
    [Symbol.asyncDispose]: async () => {
      await s.close();
      await kernel.shutdown({ graceMs: 0 });
    },
  };
}

/** Reads a JSON body (consuming it). */
export async function body(response: Response): Promise<Record<string, unknown>> {
  return await response.json();
}

/** The bearer header. */
export function bearer(token = TOKEN): HeadersInit {
  return { authorization: `Bearer ${token}` };
}
