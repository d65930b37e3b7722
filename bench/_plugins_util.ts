// Helpers of bench:plugins: a kernel with inspectable plugin hosts, manifests
// of the bench's plugin modules, the hang measurement (shared with the
// worker-hang child process), percentiles and a child process's CPU time.
import { Kernel } from "../src/kernel.ts";
import type { Logger } from "../src/logger.ts";
import type { EventBus } from "../src/bus/event_bus.ts";
import { createWorkerHost, type WorkerHostFactory } from "../src/plugin/worker_host.ts";
import { createProcessHost, type ProcessHostFactory } from "../src/plugin/process_host.ts";
import type { PluginExit, PluginHostFactory } from "../src/plugin/host.ts";
import type { PluginIsolation, PluginManifest } from "../src/plugin/manifest_types.ts";

/** Give up on any single wait after this long: turns a stuck case into an error, not a hang. */
export const GIVE_UP_MS = 60_000;

/** Wall-clock time, ms since the epoch, with sub-ms resolution (comparable across threads and processes). */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The p-th percentile (0-100) of `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(s.length, rank) - 1]!;
}

/**
 * Runs one of the bench's programs in a process of its own, with the bench's
 * permissions, and parses the last line it printed as JSON (its stderr goes
 * to the bench's).
 *
 * @param what The trial, for the error when the process fails.
 * @param program The program (a file of bench/).
 * @param args Its arguments.
 * @param exposeGc Whether it may call `gc()`.
 * @param v8Flags More V8 flags for it (`--max-semi-space-size=2`).
 */
export async function childJson(
  what: string,
  program: URL,
  args: readonly string[] = [],
  exposeGc = false,
  v8Flags: readonly string[] = [],
): Promise<unknown> {
  const flags = [...(exposeGc ? ["--expose-gc"] : []), ...v8Flags];
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--config",
      new URL("../deno.json", import.meta.url).pathname,
      "--allow-read",
      "--allow-write=/tmp",
      "--allow-env",
      "--allow-sys",
      "--allow-run",
      ...(flags.length > 0 ? [`--v8-flags=${flags.join(",")}`] : []),
      program.pathname,
      ...args,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(output.stdout).trim().split("\n").pop() ?? "";
  if (!output.success || text === "") {
    throw new Error(`${what}: its process failed (code ${output.code})`);
  }
  return JSON.parse(text);
}

/** A logger that keeps the last lines (printed when a case fails) and prints nothing. */
export interface KeptLogger extends Logger {
  readonly lines: string[];
}

/** Makes a {@linkcode KeptLogger}. */
export function keptLogger(): KeptLogger {
  const lines: string[] = [];
  const keep = (level: string) => (message: string) => {
    lines.push(`${level}: ${message}`);
    if (lines.length > 40) lines.shift();
  };
  return { lines, error: keep("error"), warn: keep("warn"), info: () => {} };
}

/** A manifest of one of the bench's plugin modules (`bench/<file>`). */
export function benchManifest(
  name: string,
  file: string,
  isolation: PluginIsolation,
  extra: Partial<PluginManifest> = {},
): PluginManifest {
  return {
    name,
    version: "1.0.0",
    entry: new URL(file, import.meta.url).href,
    isolation,
    ...extra,
  };
}

/** How an instance ended, seen from its host, with the wall-clock time it was seen. */
export interface SeenExit {
  exit: PluginExit;
  atEpochMs: number;
}

/** Wraps host factories so a bench can wait for an instance's end (`closed`). */
export class ExitProbe {
  readonly #waiters = new Map<string, (seen: SeenExit) => void>();

  /** The factory, reporting each instance's end to {@linkcode ExitProbe.next}. */
  wrap<F extends PluginHostFactory>(factory: F): F {
    const wrapped = (...args: Parameters<PluginHostFactory>) => {
      const host = factory(...args);
      const name = args[0].name;
      host.closed.then((exit) => {
        const atEpochMs = epochMs();
        const waiter = this.#waiters.get(name);
        this.#waiters.delete(name);
        waiter?.({ exit, atEpochMs });
      });
      return host;
    };
    return Object.assign(wrapped, factory) as unknown as F;
  }

  /** Resolves with the next end of an instance of plugin `name`. */
  next(name: string): Promise<SeenExit> {
    const { promise, resolve, reject } = Promise.withResolvers<SeenExit>();
    const timer = setTimeout(
      () => reject(new Error(`no instance of plugin "${name}" ended within ${GIVE_UP_MS} ms`)),
      GIVE_UP_MS,
    );
    this.#waiters.set(name, (seen) => {
      clearTimeout(timer);
      resolve(seen);
    });
    return promise;
  }
}

/** A kernel for one case, with the worker and process factories it uses. */
export interface BenchKernel {
  kernel: Kernel;
  workers: WorkerHostFactory;
  processes: ProcessHostFactory;
  probe: ExitProbe;
  logger: KeptLogger;
  /** Shuts the kernel down and waits until every plugin process exited. */
  close(): Promise<void>;
}

/**
 * Starts a kernel (profile `efficient`: timers only, no spinning, like the
 * plugins' own threads) whose worker and process hosts report to a probe.
 * Its telemetry ring has the default capacity (1,024 events), as a user's
 * kernel does: a larger one would still be filling up, about 2 KB a hot
 * reload, while the `reload` case measures RSS growth.
 */
export async function benchKernel(
  extra: { maxInlineReloads?: number } = {},
): Promise<BenchKernel> {
  const logger = keptLogger();
  const probe = new ExitProbe();
  const workers = createWorkerHost();
  const processes = createProcessHost({ killGraceMs: 1000 });
  const kernel = await Kernel.start({
    profile: "efficient",
    logger,
    pluginOptions: {
      hosts: { worker: probe.wrap(workers), process: probe.wrap(processes) },
      ...extra,
    },
  });
  return {
    kernel,
    workers,
    processes,
    probe,
    logger,
    async close() {
      await kernel.shutdown({ graceMs: 5000 });
      await processes.settled();
    },
  };
}

/** Resolves with the first event on `topic` that `accept` takes. */
export function nextEvent<T>(
  bus: EventBus,
  topic: string,
  accept: (event: T) => boolean = () => true,
): Promise<T> {
  const { promise, resolve, reject } = Promise.withResolvers<T>();
  const timer = setTimeout(
    () => reject(new Error(`no event on "${topic}" within ${GIVE_UP_MS} ms`)),
    GIVE_UP_MS,
  );
  const subscription = bus.topic<T>(topic).subscribe((event) => {
    if (accept(event)) resolve(event);
  });
  return promise.finally(() => {
    clearTimeout(timer);
    subscription.unsubscribe();
  });
}

/** Budgets of the hang case. */
export const HANG = {
  /** Heartbeat (and watchdog period), ms. */
  heartbeatMs: 5,
  /** A worker task's budget, ms: a run past it marks the plugin hung. */
  taskBudgetMs: 50,
  /** No heartbeat this long marks a plugin hung (how a process hang is seen), ms. */
  hangMs: 50,
};

/** One hang, measured. */
export interface HangSample {
  /** Detection minus (spin start + budget), ms. */
  detectAfterBudgetMs: number;
  /** The process gone minus detection, ms; `null` for a worker (it cannot be stopped). */
  killAfterDetectMs: number | null;
  /** Zombies the manager counted for the plugin. */
  zombies: number;
}

/**
 * Loads the hang plugin, makes it spin, and measures when the host saw it
 * hung against when the spin started (the plugin writes that to a file in
 * `dir`) plus its budget: the task budget for a worker (the watchdog reads
 * the running task from the shared block), `hangMs` for a process (only its
 * heartbeat frames tell it is alive). For a process, also how long after
 * detection it was gone (SIGTERM, exit, pipes closed).
 */
export async function measureHang(
  b: BenchKernel,
  isolation: "worker" | "process",
  dir: string,
  trial: number,
): Promise<HangSample> {
  const name = `hang-${isolation}-${trial}`;
  await b.kernel.plugins.load(benchManifest(name, "_plugins_hang.ts", isolation, {
    capabilities: ["subscribe"],
    permissions: { write: [dir] },
    budgets: { ...HANG },
    restart: { restartEnabled: false },
  }));
  const file = `${dir}/${name}.txt`;
  const ended = b.probe.next(name);
  b.kernel.bus.topic<{ file: string }>("hang.go").publish({ file });
  const seen = await ended;
  if (seen.exit.cause !== "hung") {
    throw new Error(`plugin "${name}" ended as ${seen.exit.cause}, not hung: ${seen.exit.reason}`);
  }
  const spinAt = Number(await Deno.readTextFile(file));
  const budget = isolation === "worker" ? HANG.taskBudgetMs : HANG.hangMs;
  let killAfterDetectMs: number | null = null;
  if (isolation === "process") {
    await b.processes.settled();
    killAfterDetectMs = epochMs() - seen.atEpochMs;
  }
  const zombies = b.kernel.plugins.get(name)?.zombies ?? 0;
  await b.kernel.plugins.unload(name, { graceMs: 100 });
  return { detectAfterBudgetMs: seen.atEpochMs - (spinAt + budget), killAfterDetectMs, zombies };
}

// Deno refuses to read /proc without --allow-all (even with --allow-read), so
// the child's figures are read by `sh` (the bench has --allow-run anyway).

function sh(script: string): string {
  try {
    const out = new Deno.Command("sh", { args: ["-c", script], stdout: "piped", stderr: "null" })
      .outputSync();
    return out.success ? new TextDecoder().decode(out.stdout) : "";
  } catch {
    return "";
  }
}

/** The pids of this process's children whose command line includes `marker` (Linux). */
export function childPids(marker: string): number[] {
  if (!/^[\w.-]+$/.test(marker)) throw new TypeError(`unsafe marker: ${marker}`);
  const out = sh(
    `for p in $(cat /proc/${Deno.pid}/task/*/children); do [ "$p" = "$$" ] && continue; ` +
      `tr '\\0' ' ' < /proc/$p/cmdline | grep -q -- '${marker}' && echo $p; done; true`,
  );
  return out.split(/\s+/).filter((s) => s !== "").map(Number);
}

/**
 * CPU time a process used so far, µs: the sum of its threads' run time
 * (`/proc/<pid>/task/<tid>/schedstat`, ns); `NaN` when unreadable. Call it
 * outside a measured window: it starts a `sh`.
 */
export function processCpuUs(pid: number): number {
  const out = sh(`cat /proc/${Math.trunc(pid)}/task/*/schedstat`);
  const lines = out.split("\n").filter((l) => l.trim() !== "");
  if (lines.length === 0) return NaN;
  return lines.reduce((ns, l) => ns + Number(l.split(" ")[0]), 0) / 1000;
}
