import type { ResolvedManifest } from "./manifest_types.ts";
import type { PluginHostEnvironment, PluginHostFactory, PluginKillReport } from "./host.ts";
import { permissionFlags } from "./permissions.ts";
import {
  type Beat,
  type RemoteConfig,
  remoteConfig,
  RemoteHost,
  type RemoteHostOptions,
} from "./_remote_host.ts";
import {
  encodeFrame,
  FrameError,
  FrameReader,
  type HostMessage,
  type PluginMessage,
} from "./_remote_protocol.ts";
import { requireInteger, requireOptions } from "../internal/validate.ts";
import { describeError } from "./_describe.ts";
import { eachChunk } from "./_stdio_chunks.ts";

const ENTRY = new URL("./_process_entry.ts", import.meta.url).href;
/** Characters of a plugin process's stderr kept for reports. */
const STDERR_TAIL = 4096;

/** Options of {@linkcode createProcessHost}. */
export interface ProcessHostOptions extends RemoteHostOptions {
  /**
   * After a kill's SIGTERM (or a clean shutdown), how long the process gets
   * to exit before SIGKILL, ms.
   *
   * @default {1000}
   */
  killGraceMs?: number;
  /**
   * Extra `deno run` flags put before the permission flags (`--config`,
   * `--no-lock`, `--cached-only`). Never permission flags.
   *
   * @default {["--quiet"]}
   */
  denoFlags?: readonly string[];
}

/** What a process host factory counts over every instance it made. */
export interface ProcessHostFactoryStats {
  /** Processes started. */
  started: number;
  /** Processes not yet exited. */
  live: number;
  /** SIGTERMs sent by kills. */
  terminated: number;
  /** SIGKILLs sent after the grace period. */
  sigkills: number;
}

/** A host factory for `isolation: "process"`, with its counters. */
export interface ProcessHostFactory extends PluginHostFactory {
  /** Counters over every instance. */
  stats(): ProcessHostFactoryStats;
  /**
   * Resolves once every process this factory started has exited and its
   * pipes are closed (tests and shutdown wait on it).
   */
  settled(): Promise<void>;
}

/**
 * Runs a plugin in a Deno subprocess:
 * `deno run <the manifest's permission flags> [--v8-flags=--max-old-space-size=N] <program>`,
 * where the program imports the entry and serves it over framed stdio (a
 * magic byte, a u32 length, JSON; batched both ways, acknowledged, bounded).
 * Values crossing are JSON. The plugin's console goes to its stderr, of which
 * the host keeps a tail for reports; a plugin that breaks the framing (raw
 * bytes on stdout) fails with a clear error, never the kernel.
 *
 * The only isolation with a hard kill: SIGTERM, then SIGKILL after
 * `killGraceMs`. A crash, an exit or running out of heap (`limits.maxHeapMb`)
 * ends the instance with its cause (`crashed` with the exit code or signal
 * and the stderr tail, `out-of-memory`). A process that sends no frame for
 * `budgets.hangMs` (it sends a heartbeat every `heartbeatMs`) or a hook past
 * its budget is `hung`, and killed by the manager. Starting takes a process
 * spawn (tens of ms) on top of a worker's start.
 *
 * @example A factory for process plugins
 * ```ts
 * import { createProcessHost } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const processes = createProcessHost({ killGraceMs: 500 });
 * assertEquals(processes.stats().started, 0);
 * await processes.settled();
 * ```
 *
 * @param options Batching, backpressure, the import audit, the kill grace and extra flags.
 * @returns A host factory with counters.
 * @throws {RangeError} when an option is out of range.
 */
export function createProcessHost(options: ProcessHostOptions = {}): ProcessHostFactory {
  const action = "create a process host";
  requireOptions(action, "options", options);
  const config = remoteConfig(action, options);
  const killGraceMs = requireInteger(
    action,
    "killGraceMs",
    options.killGraceMs ?? 1000,
    0,
    600_000,
  );
  const denoFlags = [...(options.denoFlags ?? ["--quiet"])];
  for (const flag of denoFlags) {
    if (typeof flag !== "string" || /^--(allow|deny)-|^-A$|^--no-prompt$/.test(flag)) {
      throw new TypeError(
        `Cannot ${action} as 'denoFlags' must be strings that grant no permission: current value is ${
          String(flag)
        }`,
      );
    }
  }
  const shared: Shared = {
    config,
    killGraceMs,
    denoFlags,
    counts: { started: 0, live: 0, terminated: 0, sigkills: 0 },
    exits: new Set(),
  };
  const factory = (manifest: ResolvedManifest, env: PluginHostEnvironment) =>
    new ProcessHost(manifest, env, shared);
  return Object.assign(factory, {
    stats: () => ({ ...shared.counts }),
    settled: async () => {
      while (shared.exits.size > 0) await Promise.all([...shared.exits]);
    },
  });
}

interface Shared {
  config: RemoteConfig;
  killGraceMs: number;
  denoFlags: string[];
  counts: ProcessHostFactoryStats;
  exits: Set<Promise<void>>;
}

/** The host of one process instance; see {@linkcode createProcessHost}. */
class ProcessHost extends RemoteHost {
  readonly isolation = "process" as const;
  readonly #shared: Shared;
  #child: Deno.ChildProcess | undefined;
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #chain: Promise<void> = Promise.resolve();
  #stderr = "";
  #frames = 0;
  #exited = false;
  #killTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(manifest: ResolvedManifest, env: PluginHostEnvironment, shared: Shared) {
    super(manifest, env, shared.config);
    this.#shared = shared;
  }

  protected spawn(): void {
    const m = this.manifest;
    const source = `import * as plugin from ${JSON.stringify(m.entryUrl.href)};\n` +
      `import { runProcess } from ${JSON.stringify(ENTRY)};\nrunProcess(plugin);\n`;
    const args = ["run", ...this.#shared.denoFlags, ...permissionFlags(m)];
    if (m.limits.maxHeapMb !== null) {
      args.push(`--v8-flags=--max-old-space-size=${m.limits.maxHeapMb}`);
    }
    args.push(`data:application/javascript,${encodeURIComponent(source)}`);
    const child = new Deno.Command(Deno.execPath(), {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const counts = this.#shared.counts;
    counts.started++;
    counts.live++;
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    const exit = Promise.all([child.status, this.#readFrames(child), this.#readStderr(child)])
      .then(([status]) => this.#ended(status))
      .finally(() => {
        counts.live--;
        this.#shared.exits.delete(exit);
      });
    this.#shared.exits.add(exit);
  }

  protected override receive(message: PluginMessage): void {
    if (message?.t === "up") {
      const m = this.manifest;
      this.post({
        t: "hello",
        name: m.name,
        version: m.version,
        isolation: "process",
        capabilities: [...m.capabilities],
        taskBudgetMs: m.budgets.taskBudgetMs,
        heartbeatMs: m.budgets.heartbeatMs,
        flushMs: this.config.flushMs,
        maxInflight: this.config.maxInflight,
        maxFamilies: this.env.metricLimits.maxFamilies,
      });
    }
    super.receive(message);
  }

  protected post(message: HostMessage): void {
    const writer = this.#writer;
    if (writer === undefined || this.#exited) return;
    const frame = encodeFrame(message);
    this.#chain = this.#chain.then(() => writer.write(frame)).catch(() => {});
  }

  protected beat(): Beat {
    return { beat: this.#frames, running: 0, runSeq: 0, calls: this.counters.calls };
  }

  protected override release(): void {
    this.post({ t: "bye" });
    this.#closeStdin();
    this.#armKill();
  }

  protected cutOff(reason: string): PluginKillReport {
    if (this.#child !== undefined && !this.#exited) {
      this.#signal("SIGTERM");
      this.#shared.counts.terminated++;
      this.#closeStdin();
      this.#armKill();
    }
    return { hard: true, zombie: false, reason };
  }

  async #readFrames(child: Deno.ChildProcess): Promise<void> {
    const reader = new FrameReader();
    try {
      await eachChunk(child.stdout, (chunk) => {
        let messages: unknown[];
        try {
          messages = reader.push(chunk);
        } catch (error) {
          if (!(error instanceof FrameError)) throw error;
          this.lost("crashed", `it broke the stdio framing: ${error.message}`);
          this.#signal("SIGKILL");
          return;
        }
        for (const message of messages) {
          this.#frames++;
          this.receive(message as PluginMessage);
        }
      });
    } catch (error) {
      this.lost("crashed", `its stdout failed: ${describeError(error)}`);
    }
  }

  async #readStderr(child: Deno.ChildProcess): Promise<void> {
    const decoder = new TextDecoder();
    try {
      await eachChunk(child.stderr, (chunk) => {
        this.#stderr = (this.#stderr + decoder.decode(chunk, { stream: true })).slice(-STDERR_TAIL);
      });
    } catch {
      // The pipe broke: the exit status tells the rest.
    }
  }

  #ended(status: Deno.CommandStatus): void {
    this.#exited = true;
    clearTimeout(this.#killTimer);
    this.#closeStdin();
    const tail = this.#stderr.trim();
    const how = status.signal === null
      ? `code ${status.code}`
      : `code ${status.code}, signal ${status.signal}`;
    const detail = tail === "" ? "" : `: ${tail.slice(-1000)}`;
    if (/out of memory|heap limit|allocation failed/i.test(tail)) {
      this.lost("out-of-memory", `it ran out of heap (the process exited with ${how})${detail}`);
    } else {
      this.lost("crashed", `the process exited with ${how}${detail}`);
    }
  }

  #signal(signal: Deno.Signal): void {
    if (this.#exited) return;
    try {
      this.#child?.kill(signal);
    } catch {
      // It exited meanwhile.
    }
  }

  #armKill(): void {
    if (this.#killTimer !== undefined || this.#exited) return;
    this.#killTimer = setTimeout(() => {
      if (this.#exited) return;
      this.#shared.counts.sigkills++;
      this.#signal("SIGKILL");
    }, this.#shared.killGraceMs);
  }

  #closeStdin(): void {
    const writer = this.#writer;
    if (writer === undefined) return;
    this.#writer = undefined;
    this.#chain = this.#chain.then(() => writer.close()).catch(() => {});
  }
}
