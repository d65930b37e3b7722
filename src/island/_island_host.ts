// Starts the thread of an island: a `node:worker_threads` Worker, whose heap
// can be capped (`resourceLimits`) so that running out of memory ends that
// thread alone, whereas a Web Worker's takes the process down; and whose
// `terminate()` lets the process exit even when the thread is stuck in
// synchronous code (the thread itself may spin on until the process exits:
// nothing in Deno stops it). The seam lets tests drive an island with a fake
// thread.

import type { IslandBoot, IslandReply } from "./_island_protocol.ts";
import { demoteThread } from "./_realtime.ts";

/** How an island's thread ended. */
export interface ThreadExit {
  /** Its exit code. */
  code: number;
  /** Whether it reached its heap limit. */
  oom: boolean;
  /** The error it ended with, when there was one. */
  message: string | undefined;
}

/** What a thread reports to its island. */
export interface ThreadEvents {
  message(reply: IslandReply): void;
  exit(exit: ThreadExit): void;
}

/** A started thread. */
export interface IslandThread {
  /** Ends the thread (see the file comment for one stuck in synchronous code). */
  terminate(): void;
}

/** Starts island threads. */
export interface IslandHost {
  /**
   * Starts a thread running the island described by `boot`.
   *
   * @throws when the thread cannot start.
   */
  spawn(boot: IslandBoot, maxHeapMb: number, events: ThreadEvents): IslandThread;
}

interface NodeWorker {
  on(event: string, listener: (value: never) => void): void;
  terminate(): Promise<number>;
}

type NodeWorkerClass = new (
  url: URL,
  options: {
    name: string;
    workerData: unknown;
    resourceLimits: { maxOldGenerationSizeMb: number };
  },
) => NodeWorker;

let WorkerClass: NodeWorkerClass | undefined;

/** Loads `node:worker_threads` once (only when an island starts). */
export async function loadWorkerThreads(): Promise<void> {
  WorkerClass ??= (await import("node:worker_threads")).Worker as unknown as NodeWorkerClass;
}

/** The URL a `node:worker_threads` Worker can load for the island program. */
function programUrl(): URL {
  const url = new URL("./_island_worker.ts", import.meta.url);
  if (url.protocol === "file:") return url;
  // Served from the network (JSR): a data: program imports it (a Worker takes file: and data: only).
  return new URL(
    `data:text/javascript,${encodeURIComponent(`import ${JSON.stringify(url.href)};`)}`,
  );
}

/** The host of real threads. Call {@linkcode loadWorkerThreads} first. */
export const THREAD_HOST: IslandHost = {
  spawn(boot, maxHeapMb, events) {
    if (WorkerClass === undefined) throw new Error("node:worker_threads is not loaded");
    const worker = new WorkerClass(programUrl(), {
      name: `island ${boot.name}`,
      workerData: boot,
      resourceLimits: { maxOldGenerationSizeMb: maxHeapMb },
    });
    let failure: { code?: string; message?: string } | undefined;
    let ended = false;
    // The OS id of a thread under SCHED_FIFO, until it says it is done
    // (closed, failed): only a thread that may be stuck is demoted.
    let realtimeId: number | undefined;
    worker.on("message", (reply: IslandReply) => {
      if (reply.t === "attached") realtimeId = reply.threadId;
      else if (reply.t === "closed" || reply.t === "failed") realtimeId = undefined;
      if (!ended) events.message(reply);
    });
    worker.on("error", (error: { code?: string; message?: string }) => failure = error);
    worker.on("exit", (code: number) => {
      if (ended) return;
      ended = true;
      events.exit({
        code,
        oom: failure?.code === "ERR_WORKER_OUT_OF_MEMORY",
        message: failure?.message,
      });
    });
    return {
      terminate() {
        if (ended) return;
        // A thread stuck in synchronous code spins on: under the real-time
        // policy it would preempt every normal thread of the machine.
        if (realtimeId !== undefined) demoteThread(realtimeId);
        // The exit event still comes, after the island has been told.
        worker.terminate().catch(() => {});
      },
    };
  },
};
