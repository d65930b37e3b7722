// The live status table of `chronetix run` (config `status.table`): once per
// interval a compact block of rows (tasks, islands, plugins, data ports,
// faults), and at the end a summary of the whole run (the shutdown report is
// printed apart). It reads the parts' stats() only, never the control path.

import type { Kernel } from "../kernel.ts";
import type { OffloadPool } from "../exec/offload_pool.ts";
import type { TaskStats } from "../exec/task.ts";
import type { DataPortStats } from "../data/data_port_stats.ts";
import type { IslandStats } from "../island/island_types.ts";
import type { PluginInfo } from "../plugin/plugin_manager_types.ts";
import type { FaultEventType } from "../sovd/fault_log.ts";
import type { StatusTable, StatusTableOptions, StatusTableSource } from "./status_types.ts";
import { requireFunction, requireInteger, requireOptions } from "../internal/validate.ts";

/** What the table reads of a fault monitor (a `FaultMonitor` is one). */
export interface StatusFaultSource {
  /** Faults whose condition holds, and faults healing or waiting to be cleared. */
  stats(): { active: number; passive: number };
  /** The monitor's event log, to count faults raised and healed. */
  readonly log?: {
    since(lastEventId: number): { events: readonly { id: number; type: FaultEventType }[] };
  };
}

/** Options of {@linkcode createStatusTable}. */
export interface CreateStatusTableOptions {
  /** Where each line goes. @default {console.log} */
  print?: (line: string) => void;
  /** Data ports to show, by name (a `DataPort` is one). @default {none} */
  dataPorts?: ReadonlyMap<string, { stats(): DataPortStats }>;
  /** The fault monitor to count faults of (the server's `monitor`). @default {none} */
  faults?: StatusFaultSource;
  /** Print the column header again every this many ticks. @default {20} */
  headerEvery?: number;
}

/** A live status table; see {@linkcode createStatusTable}. */
export interface LiveStatusTable {
  /** Takes a snapshot and prints one block of rows: rates since the previous tick. */
  tick(): void;
  /** Takes a snapshot without printing: call it just before the shutdown, for exact totals. */
  capture(): void;
  /**
   * The end-of-run summary: the totals of the last snapshot (the shutdown
   * report is printed apart, by `formatShutdownReport`).
   *
   * @returns The lines, to print.
   */
  summary(): string[];
}

/** What the telemetry ring told of one plugin since the table was created. */
interface Tally {
  restarts: number;
  giveUps: number;
  kills: number;
  zombies: number;
  reloads: number;
}

interface Snapshot {
  atMs: number;
  tasks: TaskStats[];
  islands: IslandStats[];
  plugins: Map<string, PluginInfo>;
  ports: Map<string, DataPortStats>;
  offload: { completed: number; failed: number } | undefined;
  reloads: number;
}

const COLUMNS = ["", "name", "state", "rate", "p99", "misses", "more"];
const WIDTHS = [7, 22, 10, 10, 10, 8, 0];

/**
 * A task's state as a person reads it: a periodic or event task between its
 * runs (`ready`, `running` or `done` with releases left) is `running`; one
 * that waits for its first event or release (`created`) is `waiting`.
 */
function liveState(t: TaskStats): string {
  if (t.finished === true) return t.state;
  if (t.state === "ready" || t.state === "running" || t.state === "done") return "running";
  return t.state === "created" ? "waiting" : t.state;
}

/** A duration in ms for people: µs below 1 ms, `-` when there is none. */
function ms(value: number): string {
  if (!Number.isFinite(value)) return "-";
  return value < 1 ? `${(value * 1000).toFixed(0)} µs` : `${value.toFixed(2)} ms`;
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(0)}%`;
}

function row(cells: readonly string[]): string {
  return cells.map((c, i) => {
    const w = WIDTHS[i] ?? 0;
    return i === 0 || i === 1 || i === 6 ? c.padEnd(w) : c.padStart(w);
  }).join(" ").trimEnd();
}

function perSecond(now: number, before: number | undefined, dtMs: number): string {
  if (before === undefined || dtMs <= 0) return "-";
  return `${Math.round((now - before) * 1000 / dtMs)}/s`;
}

/**
 * Creates the live status table of a kernel. Each {@linkcode LiveStatusTable.tick}
 * prints a block: one row per task of the executor and of each island (runs
 * per second, start lateness p99, deadline misses, budget tier), per island
 * (state, restarts), per plugin (state, restarts, give-ups, zombies; a plugin
 * unloaded stays listed as `unloaded`), per data port (frames per second,
 * utilization, would-block) and one for faults (active, passive, raised and
 * healed so far). {@linkcode LiveStatusTable.summary} gives the totals as
 * lines. `chronetix run` uses it through {@linkcode startStatusTable}.
 *
 * @example A table on a virtual clock
 * ```ts
 * import { Kernel } from "@chronetix/core";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { createStatusTable } from "@chronetix/core/cli";
 * import { assert } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * const kernel = await Kernel.start({ clock, logger: { error() {}, warn() {}, info() {} } });
 * kernel.periodic({ name: "tick", periodMs: 10, run: () => {} });
 * const lines: string[] = [];
 * const table = createStatusTable(kernel, { print: (l) => lines.push(l) });
 * clock.advance(1000);
 * table.tick();
 * assert(lines.some((l) => l.startsWith("task") && l.includes("tick") && l.includes("100/s")));
 * table.capture();
 * await kernel.shutdown();
 * assert(table.summary().some((l) => l.startsWith("  task tick: 100 runs")));
 * ```
 *
 * @param kernel The kernel to show.
 * @param options Output, data ports and the fault monitor.
 * @returns The table.
 * @throws {TypeError} when an option has the wrong type.
 */
export function createStatusTable(
  kernel: Kernel<OffloadPool | undefined>,
  options: CreateStatusTableOptions = {},
): LiveStatusTable {
  const action = "create a status table";
  requireOptions(action, "options", options);
  const print = requireFunction<(line: string) => void>(
    action,
    "options.print",
    options.print ?? ((line: string) => console.log(line)),
  );
  const headerEvery = requireInteger(
    action,
    "options.headerEvery",
    options.headerEvery ?? 20,
    1,
    1e6,
  );
  const ports = options.dataPorts ?? new Map();
  const faults = options.faults;
  const seenPlugins = new Map<string, PluginInfo>();
  const tallies = new Map<string, Tally>();
  let lastTelemetry = -1;
  let raised = 0;
  let healed = 0;
  let lastFaultEvent = 0;
  let ticks = 0;

  const take = (): Snapshot => {
    const stats = kernel.stats();
    const plugins = new Map<string, PluginInfo>();
    for (const p of kernel.plugins.list()) {
      plugins.set(p.name, p);
      seenPlugins.set(p.name, p);
    }
    for (const e of kernel.plugins.telemetry.snapshot()) {
      if (e.seq <= lastTelemetry) continue;
      lastTelemetry = e.seq;
      let t = tallies.get(e.plugin);
      if (t === undefined) {
        t = { restarts: 0, giveUps: 0, kills: 0, zombies: 0, reloads: 0 };
        tallies.set(e.plugin, t);
      }
      if (e.kind === "restart_scheduled") t.restarts++;
      if (e.kind === "restart_give_up") t.giveUps++;
      if (e.kind === "kill") t.kills++;
      if (e.kind === "kill" && e.reason?.includes("(zombie") === true) t.zombies++;
      if (e.kind === "reload" && e.reason?.startsWith("failed") !== true) t.reloads++;
    }
    const portStats = new Map<string, DataPortStats>();
    for (const [name, port] of ports) portStats.set(name, port.stats());
    if (faults?.log !== undefined) {
      for (const e of faults.log.since(lastFaultEvent).events) {
        lastFaultEvent = Math.max(lastFaultEvent, e.id);
        if (e.type === "fault_confirmed") raised++;
        if (e.type === "fault_cleared") healed++;
      }
    }
    return {
      atMs: kernel.clock.now(),
      tasks: [
        ...stats.executor.perTask,
        ...stats.islands.flatMap((i) =>
          i.perTask.map((t) => ({ ...t, name: `${i.name}:${t.name}` }))
        ),
      ],
      islands: stats.islands,
      plugins,
      ports: portStats,
      offload: stats.offload,
      reloads: stats.plugins.hotReload.success,
    };
  };

  /** A plugin's counters: its own while loaded, else what was last seen or told. */
  const counts = (s: Snapshot, name: string, seen: PluginInfo): Tally => {
    const p = s.plugins.get(name);
    const t = tallies.get(name) ?? { restarts: 0, giveUps: 0, kills: 0, zombies: 0, reloads: 0 };
    if (p !== undefined) return { ...p, reloads: t.reloads };
    return {
      restarts: Math.max(seen.restarts, t.restarts),
      giveUps: Math.max(seen.giveUps, t.giveUps),
      kills: Math.max(seen.kills, t.kills),
      zombies: Math.max(seen.zombies, t.zombies),
      reloads: t.reloads,
    };
  };

  const start = take();
  let previous = start;
  let last = start;

  const block = (now: Snapshot, before: Snapshot): string[] => {
    const dt = now.atMs - before.atMs;
    const lines: string[] = [];
    const runsBefore = new Map(before.tasks.map((t) => [t.name, t.runs]));
    for (const t of now.tasks) {
      lines.push(row([
        "task",
        t.name,
        liveState(t),
        perSecond(t.runs, runsBefore.get(t.name) ?? 0, dt),
        ms(t.schedulingLatency.p99),
        String(t.deadlineMisses),
        t.tier + (t.offloaded > 0 ? ` offloaded ${t.offloaded}` : ""),
      ]));
    }
    for (const i of now.islands) {
      const old = before.islands.find((b) => b.name === i.name);
      lines.push(row([
        "island",
        i.name,
        i.state,
        perSecond(i.runs, old?.runs ?? 0, dt),
        "",
        String(i.deadlineMisses),
        `restarts ${i.restarts} stuck ${i.stuckThreads}`,
      ]));
    }
    for (const [name, seen] of seenPlugins) {
      const p = now.plugins.get(name);
      const c = counts(now, name, seen);
      lines.push(row([
        "plugin",
        `${name}@${(p ?? seen).version}`,
        p?.state ?? "unloaded",
        "",
        "",
        "",
        `restarts ${c.restarts} give-ups ${c.giveUps} zombies ${c.zombies}` +
        (c.reloads > 0 ? ` reloads ${c.reloads}` : ""),
      ]));
    }
    for (const [name, s] of now.ports) {
      lines.push(row([
        "port",
        name,
        s.unreceived > 0 ? "backlog" : "flowing",
        perSecond(s.framesSent, before.ports.get(name)?.framesSent ?? 0, dt),
        "",
        "",
        `util ${percent(s.utilizationRatio)} peak ${percent(s.peakUtilizationRatio)} would-block ${
          s.wouldBlockCredit + s.wouldBlockMemory
        }`,
      ]));
    }
    if (faults !== undefined) {
      const f = faults.stats();
      lines.push(row([
        "faults",
        `${f.active} active, ${f.passive} passive`,
        "",
        "",
        "",
        "",
        faults.log === undefined ? "" : `raised ${raised} healed ${healed}`,
      ]));
    }
    return lines;
  };

  return {
    tick(): void {
      const now = take();
      if (ticks % headerEvery === 0) print(row(COLUMNS.map((c) => c.toUpperCase())));
      ticks++;
      print(`-- ${((now.atMs - start.atMs) / 1000).toFixed(0)} s`);
      for (const line of block(now, previous)) print(line);
      previous = now;
      last = now;
    },
    capture(): void {
      last = take();
    },
    summary(): string[] {
      const s = last;
      const lines = [`Summary after ${((s.atMs - start.atMs) / 1000).toFixed(1)} s`];
      for (const t of s.tasks) {
        lines.push(
          `  task ${t.name}: ${t.runs} runs, start p50 ${ms(t.schedulingLatency.p50)} p99 ${
            ms(t.schedulingLatency.p99)
          }, ${t.deadlineMisses} misses, tier ${t.tier}` +
            (t.offloaded > 0 ? `, ${t.offloaded} offloaded` : "") + dropped(t.dropped),
        );
      }
      for (const i of s.islands) {
        lines.push(
          `  island ${i.name}: ${i.state}, ${i.runs} runs, ${i.deadlineMisses} misses, ${i.restarts} restarts`,
        );
      }
      for (const [name, seen] of seenPlugins) {
        const p = s.plugins.get(name) ?? seen;
        const c = counts(s, name, seen);
        lines.push(
          `  plugin ${name}@${p.version}: ${
            s.plugins.get(name)?.state ?? "unloaded"
          }, ${c.restarts} restarts, ${c.giveUps} give-ups, ${c.kills} kills, ${c.zombies} zombies, ${c.reloads} reloads`,
        );
      }
      for (const [name, p] of s.ports) {
        lines.push(
          `  port ${name}: ${p.framesSent} frames sent, ${p.framesReceived} received, ${
            p.wouldBlockCredit + p.wouldBlockMemory
          } would-block, peak utilization ${percent(p.peakUtilizationRatio)}`,
        );
      }
      if (s.reloads > 0) lines.push(`  hot reloads: ${s.reloads}`);
      if (s.offload !== undefined) {
        lines.push(`  offload: ${s.offload.completed} jobs done, ${s.offload.failed} failed`);
      }
      if (faults !== undefined) {
        const f = faults.stats();
        lines.push(
          `  faults: ${f.active} active, ${f.passive} passive` +
            (faults.log === undefined ? "" : `; ${raised} raised, ${healed} healed in all`),
        );
      }
      return lines;
    },
  };
}

function dropped(counts: Record<string, number>): string {
  const parts = Object.entries(counts).filter(([, n]) => n > 0).map(([why, n]) => `${n} ${why}`);
  return parts.length === 0 ? "" : `, dropped ${parts.join(", ")}`;
}

/** The table `chronetix run` runs: a {@linkcode StatusTable} with the run's summary. */
export interface RunStatusTable extends StatusTable {
  /**
   * The end-of-run summary, as of {@linkcode StatusTable.stop} (call it
   * before the shutdown, while plugins and islands are still there).
   *
   * @returns The lines, to print after the shutdown report.
   */
  summary(): string[];
}

/**
 * Starts the live status table of `chronetix run` (config `status.table`): a
 * {@linkcode createStatusTable} ticked every `intervalMs` on the kernel's
 * driver, over the config's data ports and the server's fault monitor.
 * `stop()` takes the last snapshot and ends the ticks.
 *
 * @example Ticking on the kernel's driver
 * ```ts
 * import { Kernel } from "@chronetix/core";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { startStatusTable } from "@chronetix/core/cli";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * await using kernel = await Kernel.start({ clock });
 * const lines: string[] = [];
 * const status = startStatusTable(
 *   { kernel, server: undefined, dataPorts: new Map() },
 *   { intervalMs: 1000, print: (l) => lines.push(l) },
 * );
 * clock.advance(3000);
 * status.stop();
 * clock.advance(3000);
 * assertEquals(lines.filter((l) => l.startsWith("-- ")), ["-- 1 s", "-- 2 s", "-- 3 s"]);
 * ```
 *
 * @param source The kernel, the server and the data ports.
 * @param options The interval and where lines go.
 * @returns The running table.
 * @throws {RangeError} when `intervalMs` is not an integer in [1, 3600000].
 */
export function startStatusTable(
  source: StatusTableSource,
  options: StatusTableOptions,
): RunStatusTable {
  const intervalMs = requireInteger(
    "start the status table",
    "options.intervalMs",
    options.intervalMs,
    1,
    3_600_000,
  );
  const table = createStatusTable(source.kernel, {
    print: options.print,
    dataPorts: source.dataPorts,
    faults: source.server?.server.monitor,
  });
  const timer = source.kernel.driver.every(intervalMs, () => {
    if (source.kernel.state === "running") table.tick();
  }, { latenessClass: "status-table" });
  let stopped = false;
  return {
    stop(): void {
      if (stopped) return;
      stopped = true;
      timer.cancel();
      if (source.kernel.state === "running") table.capture();
    },
    summary: () => table.summary(),
  };
}
