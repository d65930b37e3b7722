import type { ResolvedManifest } from "./manifest_types.ts";
import type { PluginHostEnvironment, PluginHostFactory, PluginKillReport } from "./host.ts";
import { workerPermissions } from "./permissions.ts";
import { type Beat, remoteConfig, RemoteHost, type RemoteHostOptions } from "./_remote_host.ts";
import {
  B_BEAT,
  B_CALLS,
  B_DROPPED,
  B_ERRORS,
  B_HANDLER_CALLS,
  B_RUN_SEQ,
  B_RUNNING,
  B_SUBSCRIPTIONS,
  B_TASK_RUNS,
  B_TASKS,
  createBlock,
  type HostMessage,
  type PluginMessage,
} from "./_remote_protocol.ts";
import { requireOptions } from "../internal/validate.ts";
import { requireWorkerOptionsFlag } from "../internal/blob_worker.ts";
import { type SpawnedWorker, WorkerSpawner } from "./_spawner.ts";

export type { RemoteHostOptions, RemoteHostStats } from "./_remote_host.ts";

const ENTRY = new URL("./_worker_entry.ts", import.meta.url).href;

/** Options of {@linkcode createWorkerHost}. */
export interface WorkerHostOptions extends RemoteHostOptions {
  /**
   * Which plugin Workers are created on a spawner thread (one long-lived
   * Worker per factory with the kernel's permissions, started at its first
   * use, ended 5 s after the last plugin Worker it made ended, or by
   * `close()`) rather than on the kernel's thread. `new Worker()` blocks the
   * thread that calls it 20-40 ms per start, which a kernel task with a
   * tight period sees as lateness; a spawned Worker blocks only the spawner.
   * The cost, on Deno 2.9.1 to 2.9.6: a Worker created by a Worker waits
   * about 500 ms before it runs (an inspector grace period Deno applies to
   * nested Workers; about 50 ms in all on Deno 2.9.0).
   *
   * - `"restarts"`: the Workers of restarts (the supervisor's, `restart()`,
   *   a rollback), which is where a crash-looping plugin would stall the
   *   kernel again and again; a load and a hot reload start on the kernel's
   *   thread and keep their speed. A restart takes about 500 ms longer.
   * - `true`: every Worker (loads and hot reloads take 500 ms longer too).
   * - `false`: none (every start blocks the kernel's thread 20-40 ms).
   *
   * @default {"restarts"}
   */
  spawner?: boolean | "restarts";
}

/** What a worker host factory counts over every instance it made. */
export interface WorkerHostFactoryStats {
  /** Workers started. */
  started: number;
  /** Workers running now (zombies included). */
  live: number;
  /** Of `started`, the Workers created on the spawner thread (option `spawner`). */
  spawned: number;
  /**
   * Killed workers whose thread may still run (a hang): Deno cannot stop a
   * Web Worker stuck in synchronous code. Never reused; each keeps a core
   * busy for the life of the process.
   */
  zombies: number;
}

/** A host factory for `isolation: "worker"`, with its counters. */
export interface WorkerHostFactory extends PluginHostFactory {
  /** Counters over every instance. */
  stats(): WorkerHostFactoryStats;
  /**
   * Ends the spawner thread (option `spawner`) once no plugin Worker of this
   * factory is live; nothing to do without one. A later start starts it again.
   */
  close(): void;
}

/**
 * Runs a plugin in a Web Worker with its manifest's permissions
 * (`workerPermissions`; needs `"unstable": ["worker-options"]`): its tasks
 * fire on the worker's own thread, its publishes, logs and metric samples
 * reach the kernel in batches, events of its subscriptions are forwarded in
 * batches. The worker writes its liveness into a shared block (a heartbeat
 * word bumped every `budgets.heartbeatMs`, the run in progress, counters),
 * which a watchdog on the kernel's driver reads without a message: no
 * heartbeat for `budgets.hangMs`, a task past its budget, or a hook past its
 * phase budget ends the instance as `hung`.
 *
 * A kill terminates the worker. A hung worker cannot be stopped (Deno cannot
 * terminate a Web Worker stuck in synchronous code): it is reported as a
 * zombie (`zombie: true`, `hard: false`), counted, and never reused; the
 * supervisor's restart starts a new Worker.
 *
 * Before the first load the entry's import graph is audited (the worker's
 * permissions do not cover its static imports) and the manifest's
 * permissions are checked against the kernel's. With `limits.maxHeapMb`, the
 * plugin runs in a `node:worker_threads` thread with that heap limit inside
 * the Web Worker, so running out of heap ends the instance
 * (`out-of-memory`) instead of the process; without it, a worker that runs
 * out of heap takes the whole process down (Deno 2.9).
 *
 * @example A factory for worker plugins
 * ```ts
 * import { createWorkerHost } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const workers = createWorkerHost({ flushMs: 2 });
 * assertEquals(workers.stats(), { started: 0, spawned: 0, live: 0, zombies: 0 });
 * // new PluginManager({ ...kernel, hosts: { worker: workers } })
 * ```
 *
 * @param options Batching, backpressure and the import audit.
 * @returns A host factory with counters.
 * @throws {RangeError} when an option is out of range.
 */
export function createWorkerHost(options: WorkerHostOptions = {}): WorkerHostFactory {
  requireOptions("create a worker host", "options", options);
  const { spawner: mode = "restarts", ...remote } = options;
  if (typeof mode !== "boolean" && mode !== "restarts") {
    throw new TypeError(
      `Cannot create a worker host as 'spawner' must be a boolean or "restarts": current value is ${
        typeof mode === "string" ? JSON.stringify(mode) : String(mode)
      }`,
    );
  }
  const config = remoteConfig("create a worker host", remote);
  const counts: WorkerHostFactoryStats = { started: 0, spawned: 0, live: 0, zombies: 0 };
  const spawner = mode === false ? undefined : new WorkerSpawner();
  const factory = (manifest: ResolvedManifest, env: PluginHostEnvironment) =>
    new WorkerHost(
      manifest,
      env,
      config,
      counts,
      mode === true || (mode === "restarts" && env.restart === true) ? spawner : undefined,
    );
  return Object.assign(factory, {
    stats: () => ({ ...counts }),
    close: () => spawner?.close(),
  });
}

/** The host of one worker instance; see {@linkcode createWorkerHost}. */
class WorkerHost extends RemoteHost {
  readonly isolation = "worker" as const;
  readonly #counts: WorkerHostFactoryStats;
  readonly #buffer = createBlock();
  readonly #block = new Int32Array(this.#buffer);
  readonly #spawner: WorkerSpawner | undefined;
  #worker: Worker | SpawnedWorker | undefined;
  #port: MessagePort | undefined;
  #gone = false;
  #innerGone = false;

  constructor(
    manifest: ResolvedManifest,
    env: PluginHostEnvironment,
    config: ReturnType<typeof remoteConfig>,
    counts: WorkerHostFactoryStats,
    spawner: WorkerSpawner | undefined,
  ) {
    super(manifest, env, config);
    this.#counts = counts;
    this.#spawner = spawner;
  }

  protected spawn(): void {
    const m = this.manifest;
    const entry = JSON.stringify(m.entryUrl.href);
    const heap = m.limits.maxHeapMb;
    const program = (run: string) =>
      dataUrl(
        `import * as plugin from ${entry};\nimport { ${run} } from ${
          JSON.stringify(ENTRY)
        };\n${run}(plugin);\n`,
      );
    const url = heap === null ? program("runWorker") : dataUrl(
      `import { runRelay } from ${JSON.stringify(ENTRY)};\nrunRelay(${
        JSON.stringify(program("runNodeWorker"))
      }, ${heap});\n`,
    );
    requireWorkerOptionsFlag(`start plugin "${m.name}" in a Worker`);
    const name = `chronetix-plugin:${m.name}`;
    const permissions = workerPermissions(
      m,
      heap === null ? {} : { extra: { read: graphRoots(m) } },
    );
    const failed = (message: string) => this.lost("crashed", `its thread failed: ${message}`);
    const unreadable = () => this.lost("crashed", "it sent a message that cannot be read");
    if (this.#spawner !== undefined) {
      this.#worker = this.#spawner.start({ url, name, permissions }, {
        port: (port) => this.#attach(port),
        error: failed,
        messageError: unreadable,
      });
    } else {
      const worker = new Worker(url, { type: "module", name, deno: { permissions } });
      // Its first message is the port it talks on (see _worker_entry.ts).
      worker.onmessage = ({ data }: MessageEvent<unknown>) => {
        if (!(data instanceof MessagePort)) return;
        worker.onmessage = null;
        this.#attach(data);
      };
      worker.onmessageerror = unreadable;
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        failed(event.message);
      };
      this.#worker = worker;
    }
    this.#counts.started++;
    if (this.#spawner !== undefined) this.#counts.spawned++;
    this.#counts.live++;
  }

  /** Takes the port the plugin's Worker sent up: the protocol runs on it. */
  #attach(port: MessagePort): void {
    if (this.#gone) {
      port.close();
      return;
    }
    this.#port = port;
    port.onmessage = (event: MessageEvent<PluginMessage>) => this.receive(event.data);
    port.onmessageerror = () => this.lost("crashed", "it sent a message that cannot be read");
  }

  protected override receive(message: PluginMessage): void {
    // The relay saw the heap-limited thread end: nothing of the plugin runs any more.
    if (message?.t === "gone") this.#innerGone = true;
    if (message?.t === "up") {
      const m = this.manifest;
      this.post({
        t: "hello",
        name: m.name,
        version: m.version,
        isolation: "worker",
        capabilities: [...m.capabilities],
        taskBudgetMs: m.budgets.taskBudgetMs,
        heartbeatMs: m.budgets.heartbeatMs,
        flushMs: this.config.flushMs,
        maxInflight: this.config.maxInflight,
        maxFamilies: this.env.metricLimits.maxFamilies,
        block: this.#buffer,
      });
    }
    super.receive(message);
  }

  protected post(message: HostMessage): void {
    if (!this.#gone) this.#port?.postMessage(message);
  }

  protected beat(): Beat {
    const b = this.#block;
    const counters = this.counters;
    counters.calls = Atomics.load(b, B_CALLS);
    counters.taskRuns = Atomics.load(b, B_TASK_RUNS);
    counters.handlerCalls = Atomics.load(b, B_HANDLER_CALLS);
    counters.errors = Atomics.load(b, B_ERRORS);
    counters.tasks = Atomics.load(b, B_TASKS);
    counters.subscriptions = Atomics.load(b, B_SUBSCRIPTIONS);
    counters.dropped = Atomics.load(b, B_DROPPED);
    return {
      beat: Atomics.load(b, B_BEAT),
      running: Atomics.load(b, B_RUNNING),
      runSeq: Atomics.load(b, B_RUN_SEQ),
      calls: counters.calls,
    };
  }

  override stats(): ReturnType<RemoteHost["stats"]> {
    this.beat();
    return super.stats();
  }

  protected override release(): void {
    this.#terminate();
  }

  protected cutOff(reason: string): PluginKillReport {
    // A thread that stopped beating (or hung) cannot be stopped by terminate().
    const zombie = this.#worker !== undefined && !this.#gone && !this.#innerGone &&
      (this.ended?.cause === "hung" ||
        this.silentMs() > 2 * this.manifest.budgets.heartbeatMs);
    this.#terminate(!zombie);
    if (zombie) this.#counts.zombies++;
    return { hard: !zombie, zombie, reason };
  }

  #terminate(stops = true): void {
    if (this.#worker === undefined || this.#gone) return;
    this.#gone = true;
    this.#worker.terminate();
    this.#port?.close();
    if (stops) this.#counts.live--;
  }
}

/**
 * The folders a heap-limited inner thread loads code from: a
 * `node:worker_threads` thread loads its module graph under the Web Worker's
 * permissions, so it needs `read` of the plugin's import roots and of
 * Chronetix's own source.
 */
function graphRoots(m: ResolvedManifest): string[] {
  const roots = [...m.importRoots, new URL("../", import.meta.url).href];
  return roots.filter((r) => r.startsWith("file:")).map((r) =>
    decodeURIComponent(new URL(r).pathname)
  );
}

function dataUrl(source: string): string {
  return `data:application/javascript,${encodeURIComponent(source)}`;
}
