/**
 * A fault detector for plugins, added by the demo script to the server's
 * fault monitor: it reads the plugin manager's telemetry ring since its last
 * evaluation and reports, per plugin (an SOVD `app`),
 *
 * - `PLUGIN_CRASHED` (WARN): instances that crashed or ran out of heap;
 * - `PLUGIN_HUNG` (ERROR): instances the watchdog found hung, with the
 *   zombies their kill left (a Worker stuck in synchronous code);
 *
 * both as occurrences, so each heals `healAfterMs` after the last one; and
 * `PLUGIN_GAVE_UP` (ERROR), held while the supervisor has given up on the
 * plugin (until it is loaded again).
 *
 * @module
 */
import type { FaultCondition, FaultDetector } from "../../src/sovd/mod.ts";
import { toSovdId } from "../../src/sovd/mod.ts";
import type { TelemetryEvent } from "../../mod.ts";
import { trouble } from "./_plugin_events.ts";

/** Options of {@linkcode pluginFaultDetector}. */
export interface PluginFaultDetectorOptions {
  /** How long a crash or hang fault stays passive before it heals, ms. @default {2000} */
  healAfterMs?: number;
}

/** What the detector reads: the plugin manager's telemetry ring. */
export interface TelemetrySource {
  /** The ring. */
  readonly telemetry: { snapshot(): TelemetryEvent[] };
}

/** Reports crashed, hung and given-up plugins from the telemetry ring. */
export function pluginFaultDetector(
  plugins: TelemetrySource,
  options: PluginFaultDetectorOptions = {},
): FaultDetector {
  const healAfterMs = options.healAfterMs ?? 2000;
  const gaveUp = new Map<string, string>();
  let lastSeq = -1;
  return {
    name: "plugins",
    detect(report: (condition: FaultCondition) => void): void {
      const crashes = new Map<string, { n: number; reason: string }>();
      const hangs = new Map<string, { n: number; zombies: number; reason: string }>();
      for (const e of plugins.telemetry.snapshot()) {
        if (e.seq <= lastSeq) continue;
        lastSeq = e.seq;
        const reason = e.reason ?? "";
        const what = trouble(e);
        if (what === "crash") {
          const c = crashes.get(e.plugin) ?? { n: 0, reason };
          crashes.set(e.plugin, { n: c.n + 1, reason });
        } else if (what === "hang") {
          const h = hangs.get(e.plugin) ?? { n: 0, zombies: 0, reason };
          hangs.set(e.plugin, { ...h, n: h.n + 1, reason });
        } else if (what === "zombie") {
          const h = hangs.get(e.plugin) ?? { n: 0, zombies: 0, reason };
          hangs.set(e.plugin, { ...h, zombies: h.zombies + 1 });
        } else if (e.kind === "restart_give_up") {
          gaveUp.set(e.plugin, reason);
        } else if (e.kind === "load" || e.kind === "restart_loaded") {
          gaveUp.delete(e.plugin);
        }
      }
      const app = (plugin: string) => ({ entityId: toSovdId(plugin), entityType: "app" as const });
      for (const [plugin, c] of crashes) {
        report({
          ...app(plugin),
          code: "PLUGIN_CRASHED",
          name: "Plugin crashed",
          description: `Plugin "${plugin}" crashed ${c.n} time(s): ${c.reason.slice(0, 200)}`,
          severity: 3,
          newOccurrences: c.n,
          healAfterMs,
        });
      }
      for (const [plugin, h] of hangs) {
        report({
          ...app(plugin),
          code: "PLUGIN_HUNG",
          name: "Plugin hung",
          description: `Plugin "${plugin}" hung and was replaced, ${h.zombies} zombie thread(s): ${
            h.reason.slice(0, 200)
          }`,
          severity: 2,
          newOccurrences: Math.max(h.n, h.zombies),
          environmentData: { zombies: h.zombies },
          healAfterMs,
        });
      }
      for (const [plugin, reason] of gaveUp) {
        report({
          ...app(plugin),
          code: "PLUGIN_GAVE_UP",
          name: "Plugin given up",
          description: `The supervisor gave up on plugin "${plugin}": ${reason.slice(0, 200)}`,
          severity: 2,
        });
      }
    },
  };
}
