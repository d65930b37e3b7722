// The demo script's view of the plugins: it reads the telemetry ring as it
// fills, prints the events worth a line (crash, hang, zombie, restart,
// give-up, unload; transitions and loads stay quiet) and counts them per
// plugin for the end-of-run checks.
import type { PluginManager, TelemetryEvent } from "../../mod.ts";

/** What one plugin went through, from the telemetry ring. */
export interface PluginTally {
  /** Instances that crashed (or ran out of heap). */
  crashes: number;
  /** Instances the watchdog found hung. */
  hangs: number;
  /** Kills that left a thread running (a hung Worker). */
  zombies: number;
  /** Restarts scheduled by the supervisor. */
  restartsScheduled: number;
  /** Restarts that brought a new instance up. */
  restartsLoaded: number;
  /** Times the supervisor gave up. */
  giveUps: number;
  /** Unloads by the give-up policy. */
  autoUnloads: number;
  /** Hot reloads that switched to a new version. */
  reloads: number;
}

/** A running watch; see {@linkcode watchPlugins}. */
export interface PluginWatch {
  /** Per plugin, what happened so far. */
  readonly tally: Record<string, PluginTally>;
  /** Stops reading the ring (it also stops when the signal aborts). */
  stop(): void;
}

/** What a telemetry event says went wrong: a crash, a hang, a kill that left a zombie. */
export function trouble(e: TelemetryEvent): "crash" | "hang" | "zombie" | undefined {
  const reason = e.reason ?? "";
  if (e.kind === "exit" && /^(crashed|out-of-memory):/.test(reason)) return "crash";
  if (e.kind === "exit" && reason.startsWith("hung:")) return "hang";
  if (e.kind === "kill" && reason.includes("(zombie")) return "zombie";
  return undefined;
}

function line(e: TelemetryEvent): string | undefined {
  const reason = (e.reason ?? "").split("\n")[0]!.slice(0, 120);
  switch (e.kind) {
    case "exit":
      return `${e.plugin}: instance ended (${reason})`;
    case "kill":
      return trouble(e) === "zombie"
        ? `${e.plugin}: killed; its Worker is a ZOMBIE (stuck in synchronous code, reported)`
        : undefined;
    case "restart_scheduled":
      return `${e.plugin}: restart ${(e.attempt ?? 0) + 1} in ${
        e.delayMs?.toFixed(0)
      } ms (backoff)`;
    case "restart_loaded":
      return `${e.plugin}: replaced by a new instance, running again`;
    case "restart_give_up":
      return `${e.plugin}: the supervisor GAVE UP (${reason})`;
    case "auto_unload":
      return `${e.plugin}: unloaded by its policy`;
    default:
      return undefined;
  }
}

/**
 * Reads `plugins.telemetry` from now on: prints each notable event with
 * `say` and counts it.
 */
export function watchPlugins(
  plugins: PluginManager,
  say: (line: string) => void,
  signal: AbortSignal,
): PluginWatch {
  const tally: Record<string, PluginTally> = {};
  const stop = new AbortController();
  const count = (e: TelemetryEvent) => {
    const t = tally[e.plugin] ??= {
      crashes: 0,
      hangs: 0,
      zombies: 0,
      restartsScheduled: 0,
      restartsLoaded: 0,
      giveUps: 0,
      autoUnloads: 0,
      reloads: 0,
    };
    const what = trouble(e);
    if (what === "crash") t.crashes++;
    if (what === "hang") t.hangs++;
    if (what === "zombie") t.zombies++;
    if (e.kind === "restart_scheduled") t.restartsScheduled++;
    if (e.kind === "restart_loaded") t.restartsLoaded++;
    if (e.kind === "restart_give_up") t.giveUps++;
    if (e.kind === "auto_unload") t.autoUnloads++;
    if (e.kind === "reload" && e.reason?.startsWith("failed") !== true) t.reloads++;
  };
  const both = AbortSignal.any([signal, stop.signal]);
  void (async () => {
    for await (const e of plugins.telemetry.events({ signal: both })) {
      count(e);
      const text = line(e);
      if (text !== undefined) say(text);
    }
  })().catch(() => {});
  return { tally, stop: () => stop.abort() };
}
