// The shutdown report `chronetix run` prints: one line for the kernel, one
// per island and plugin.

import type { ShutdownReport } from "../kernel_types.ts";

/**
 * Renders a kernel's shutdown report as lines for people.
 *
 * @example Rendering a report
 * ```ts
 * import { formatShutdownReport } from "@chronetix/core/cli";
 * import { assertEquals } from "@std/assert";
 *
 * const lines = formatShutdownReport({
 *   graceful: true, durationMs: 12.3, eventsFlushed: 2, eventsDropped: 0, releasesDropped: 0,
 *   runsCutOff: 0, offloadDrained: 0, offloadCutOff: 0, islands: [], plugins: undefined,
 * });
 * assertEquals(lines[0], "Shutdown report: graceful in 12 ms");
 * ```
 *
 * @param report The kernel's report.
 * @returns The lines, without line ends.
 */
export function formatShutdownReport(report: ShutdownReport): string[] {
  const lines = [
    `Shutdown report: ${report.graceful ? "graceful" : "NOT graceful"} in ${
      Math.round(report.durationMs)
    } ms`,
    `  events: ${report.eventsFlushed} flushed, ${report.eventsDropped} dropped; releases dropped: ${report.releasesDropped}; runs cut off: ${report.runsCutOff}`,
    `  offload: ${report.offloadDrained} drained, ${report.offloadCutOff} cut off`,
  ];
  for (const island of report.islands) {
    lines.push(
      `  island ${island.name}: ${island.graceful ? "graceful" : "NOT graceful"}${
        island.terminated ? ", terminated" : ""
      }, ${island.runs} runs, ${island.failures} failures, ${island.restarts} restarts`,
    );
  }
  if (report.plugins === undefined) {
    lines.push("  plugins: killed (emergency stop)");
  } else {
    for (const plugin of report.plugins.plugins) {
      const how = plugin.graceful ? "graceful" : plugin.killed ? "killed" : "NOT graceful";
      lines.push(
        `  plugin ${plugin.name}: ${how} in ${Math.round(plugin.durationMs)} ms (${plugin.state})${
          plugin.zombie ? ", zombie" : ""
        }${plugin.error === undefined ? "" : `: ${plugin.error.message}`}`,
      );
    }
  }
  return lines;
}
