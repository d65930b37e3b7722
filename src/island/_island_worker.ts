// The program of an island's thread: a `node:worker_threads` Worker (its
// heap is capped, so running out of memory kills this thread alone). It loads
// the task module, attaches the shared values and rings, runs `init()`, then
// the scheduling loop, synchronously, until the main thread sets the stop
// command; then `dispose()`, and it says so. The loop starts from
// `process.nextTick`, not from a message handler: a thread that reaches its
// heap limit in a tick is reported to the parent (ERR_WORKER_OUT_OF_MEMORY).
// While the loop runs this thread's event loop does not turn: timers and
// promises started by task code wait until the island stops.

import os from "node:os";
import process from "node:process";
import { parentPort, workerData } from "node:worker_threads";
import { RingReader } from "../data/ring_reader.ts";
import { RingWriter } from "../data/ring_writer.ts";
import { SharedValues } from "./shared_values.ts";
import { IslandLoop, type LoopHost } from "./_island_loop.ts";
import { currentThreadId, defaultLeadUs, enterScheduling, THREAD_SYSTEM } from "./_realtime.ts";
import {
  C_COMMAND,
  C_PHASE,
  PHASE_DISPOSING,
  PHASE_INIT,
  PHASE_LOADING,
  PHASE_RUNNING,
  PHASE_STOPPED,
  slotViews,
} from "./_island_layout.ts";
import {
  type BootRing,
  type BootValues,
  type ErrorReport,
  type IslandBoot,
  type IslandReply,
  reportOf,
} from "./_island_protocol.ts";
import type { IslandContext, IslandTaskContext } from "./island_types.ts";

type Hook = (ctx: IslandContext) => unknown;

function post(message: IslandReply): void {
  parentPort?.postMessage(message);
}

function attachValues(boot: BootValues | undefined, name: string): SharedValues | undefined {
  return boot === undefined
    ? undefined
    : new SharedValues({ fields: boot.fields, buffer: boot.buffer, name });
}

async function attachReader(ring: BootRing | undefined): Promise<RingReader | undefined> {
  if (ring === undefined) return undefined;
  return ring.epoch === undefined
    ? new RingReader(ring.buffer)
    : await RingReader.takeover(ring.buffer, ring.epoch);
}

async function attachWriter(ring: BootRing | undefined): Promise<RingWriter | undefined> {
  if (ring === undefined) return undefined;
  return ring.epoch === undefined
    ? new RingWriter(ring.buffer)
    : await RingWriter.takeover(ring.buffer, ring.epoch);
}

/** Sets this thread's nice value; returns why it could not, if it could not. */
function setPriority(priority: number | undefined): string | undefined {
  if (priority === undefined) return undefined;
  try {
    os.setPriority(0, priority); // pid 0: on Linux, the calling thread alone
    return undefined;
  } catch (error) {
    return `cannot set priority ${priority} (${error instanceof Error ? error.message : error})`;
  }
}

/** Runs an island in this thread; see the file comment. */
async function main(boot: IslandBoot): Promise<void> {
  const control = new Int32Array(boot.control);
  const offset = performance.timeOrigin - boot.mainTimeOrigin;
  const now = (): number => performance.now() + offset;
  const fail = (phase: "load" | "init" | "loop" | "uncaught", error: unknown) =>
    post({ t: "failed", phase, error: reportOf(error, now()) });
  let crashed = false;
  const uncaught = (error: unknown) => {
    if (crashed) return;
    crashed = true;
    fail("uncaught", error);
  };
  globalThis.addEventListener("error", (event) => {
    event.preventDefault();
    uncaught(event.error ?? event.message);
  });
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    uncaught(event.reason);
  });
  Atomics.store(control, C_PHASE, PHASE_LOADING);
  let module: Record<string, unknown>;
  try {
    module = await import(boot.moduleUrl);
    for (const task of boot.tasks) {
      if (typeof module[task.name] !== "function") {
        throw new TypeError(
          `Cannot start island "${boot.name}" as its module does not export a function "${task.name}" for task "${task.name}"`,
        );
      }
    }
    for (const hook of ["init", "dispose"]) {
      if (module[hook] !== undefined && typeof module[hook] !== "function") {
        throw new TypeError(
          `Cannot start island "${boot.name}" as its module's "${hook}" export must be a function`,
        );
      }
    }
  } catch (error) {
    fail("load", error);
    return;
  }
  let scope: IslandContext;
  let loop: IslandLoop;
  try {
    const values = {
      in: attachValues(boot.values.in, `${boot.name}.in`),
      out: attachValues(boot.values.out, `${boot.name}.out`),
    };
    const rings = {
      in: await attachReader(boot.rings.in),
      out: await attachWriter(boot.rings.out),
    };
    const priorityError = setPriority(boot.priority);
    const scheduling = enterScheduling(boot.scheduling, boot.realtimePriority, THREAD_SYSTEM);
    post({
      t: "attached",
      inEpoch: rings.in?.epoch,
      outEpoch: rings.out?.epoch,
      priorityError,
      scheduling: scheduling.state,
      schedulingError: scheduling.error,
      threadId: scheduling.state === "realtime" ? currentThreadId() : undefined,
    });
    scope = { island: boot.name, restarts: boot.restarts, values, rings, now };
    const host: LoopHost = {
      now,
      sleep: (ms) => void Atomics.wait(control, C_COMMAND, 0, ms),
    };
    loop = new IslandLoop({
      control,
      host,
      leadMs: boot.leadMs ?? defaultLeadUs(scheduling.state, boot.maxLeadMs * 1000) / 1000,
      maxLeadMs: boot.maxLeadMs,
      budget: boot.budget,
      scope,
    });
    boot.tasks.forEach((task, i) =>
      loop.add({
        ...task,
        run: module[task.name] as (ctx: IslandTaskContext) => unknown,
      }, slotViews(boot.slots, i))
    );
    Atomics.store(control, C_PHASE, PHASE_INIT);
    await (module.init as Hook | undefined)?.(scope);
  } catch (error) {
    fail("init", error);
    return;
  }
  Atomics.store(control, C_PHASE, PHASE_RUNNING);
  post({ t: "ready" });
  const stopped = Promise.withResolvers<void>();
  process.nextTick(() => {
    try {
      loop.run();
      stopped.resolve();
    } catch (error) {
      stopped.reject(error);
    }
  });
  try {
    await stopped.promise;
  } catch (error) {
    fail("loop", error);
    return;
  }
  Atomics.store(control, C_PHASE, PHASE_DISPOSING);
  let disposeError: ErrorReport | undefined;
  try {
    await (module.dispose as Hook | undefined)?.(scope);
  } catch (error) {
    disposeError = reportOf(error, now());
  }
  loop.cancelAll();
  scope.rings.out?.close();
  scope.rings.in?.close();
  Atomics.store(control, C_PHASE, PHASE_STOPPED);
  post({ t: "closed", disposeError });
}

const boot = workerData as IslandBoot | undefined;
if (boot?.chronetixIsland === 1) {
  main(boot).catch((error) => post({ t: "failed", phase: "loop", error: reportOf(error, 0) }));
}
