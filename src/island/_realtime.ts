// How an island's thread asks the OS for real-time scheduling: Linux's
// SCHED_FIFO, set on the calling thread alone (`sched_setscheduler(0, ...)`
// acts on the caller's thread id) through `Deno.dlopen` of the C library,
// with SCHED_RESET_ON_FORK so that threads and processes the island's thread
// creates (Deno's I/O threads for an async `init()`, a subprocess) start
// under the normal policy. A SCHED_FIFO thread that wakes preempts every
// thread of the normal policy at once, so a busy main thread, its
// garbage-collection helpers and other processes no longer delay the
// island's wake-ups (measured in docs/benchmarks.md). The decision is a pure
// function over an injected `RealtimeSystem`, tested on a fake.

import type { IslandScheduling, IslandSchedulingState } from "./island_types.ts";

/** The values of `IslandOptions.scheduling`. */
export const ISLAND_SCHEDULINGS: readonly IslandScheduling[] = ["auto", "realtime", "normal"];

/**
 * The default least spin lead of a thread under the normal policy, µs:
 * chosen by measurement on a 2-core VM at 1 kHz (see docs/island.md), where
 * it keeps the island's p99 near the bare-worker floor at about a quarter of
 * a core.
 */
export const DEFAULT_LEAD_US = 250;

/**
 * The default least spin lead of a thread under SCHED_FIFO, µs: such a
 * thread wakes within tens of µs of the time asked, so a shorter spin
 * covers it (measured in docs/benchmarks.md: the same p99 as 250 µs, at
 * half the CPU). The lead still grows while wake-ups come late.
 */
export const DEFAULT_REALTIME_LEAD_US = 100;

/**
 * The default SCHED_FIFO priority of an island's thread: above every thread
 * of the normal policy, below the kernel's own real-time threads (50 and up
 * on PREEMPT_RT kernels).
 */
export const DEFAULT_REALTIME_PRIORITY = 10;

/**
 * The least spin lead, µs, of a thread that runs under `state` when none was
 * asked for: the policy's default, at most `maxLeadUs`.
 */
export function defaultLeadUs(state: IslandSchedulingState, maxLeadUs = Infinity): number {
  return Math.min(maxLeadUs, state === "realtime" ? DEFAULT_REALTIME_LEAD_US : DEFAULT_LEAD_US);
}

/** What the thread can do about its scheduling. */
export interface RealtimeSystem {
  /** `Deno.build.os`. */
  os: string;
  /** The CPUs this process may run on. */
  cpus(): number;
  /** The state of the `ffi` permission in this thread. */
  ffi(): "granted" | "denied" | "prompt";
  /**
   * Sets SCHED_FIFO at `priority` on the calling thread and checks that it
   * took.
   *
   * @returns 0, or the `errno` it failed with (-1: no error code, or the
   * policy did not take).
   */
  setFifo(priority: number): number;
}

/** The outcome of {@linkcode enterScheduling}. */
export interface SchedulingOutcome {
  /** The policy the thread runs under now. */
  state: IslandSchedulingState;
  /** Why SCHED_FIFO was not set when it was asked for explicitly (`"realtime"`). */
  error: string | undefined;
}

const EPERM = 1;

/**
 * Applies `mode` to the calling thread: `"normal"` leaves it; `"auto"` sets
 * SCHED_FIFO when this thread may (Linux, two CPUs or more, `ffi` granted,
 * the privilege) and stays normal otherwise, silently; `"realtime"` sets it
 * (on one CPU too) or says why not.
 */
export function enterScheduling(
  mode: IslandScheduling,
  priority: number,
  system: RealtimeSystem,
): SchedulingOutcome {
  if (mode === "normal") return { state: "normal", error: undefined };
  if (mode === "auto" && onOneCpu(system)) return { state: "normal", error: undefined };
  const why = refusal(priority, system);
  if (why === undefined) return { state: "realtime", error: undefined };
  return { state: "normal", error: mode === "realtime" ? why : undefined };
}

/**
 * With one CPU, a real-time thread that spins or gets stuck leaves the rest
 * of the process (the watchdog included) 5 % of it: `"auto"` does not go there.
 */
function onOneCpu(system: RealtimeSystem): boolean {
  try {
    return system.cpus() < 2;
  } catch {
    return true;
  }
}

function refusal(priority: number, system: RealtimeSystem): string | undefined {
  if (system.os !== "linux") {
    return `SCHED_FIFO is set on Linux only: this is ${system.os}`;
  }
  let state: string;
  try {
    state = system.ffi();
  } catch (error) {
    return `cannot query the ffi permission (${describe(error)})`;
  }
  if (state !== "granted") {
    return `SCHED_FIFO is set through FFI, which needs --allow-ffi: the permission is ${state}`;
  }
  let errno: number;
  try {
    errno = system.setFifo(priority);
  } catch (error) {
    return `cannot call sched_setscheduler (${describe(error)})`;
  }
  if (errno === 0) return undefined;
  if (errno === EPERM) {
    return `sched_setscheduler(SCHED_FIFO, ${priority}) was refused (EPERM): it needs CAP_SYS_NICE (root has it unless a container drops it: Docker's --cap-add=SYS_NICE) or an RLIMIT_RTPRIO of at least ${priority}, and a cgroup that allows real-time threads`;
  }
  if (errno === -1) {
    return `sched_setscheduler(SCHED_FIFO, ${priority}) did not take: the thread's policy is not SCHED_FIFO after it`;
  }
  return `sched_setscheduler(SCHED_FIFO, ${priority}) failed with errno ${errno}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const SCHED_OTHER = 0;
const SCHED_FIFO = 1;
/** Threads and processes created by a thread with this flag start under the normal policy. */
const SCHED_RESET_ON_FORK = 0x40000000;

const LIBC = {
  sched_setscheduler: { parameters: ["i32", "i32", "buffer"], result: "i32" },
  sched_getscheduler: { parameters: ["i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  // In the C library since glibc 2.30: optional, so an older one still opens.
  gettid: { parameters: [], result: "i32", optional: true },
} as const;

/**
 * Calls `sched_setscheduler(tid, policy, { priority })` (`tid` 0: the
 * calling thread) and, for the calling thread, checks the policy it has
 * after.
 *
 * @returns 0, or the `errno` it failed with (-1: none, or it did not take).
 */
function setScheduler(tid: number, policy: number, priority: number): number {
  const lib = Deno.dlopen("libc.so.6", LIBC);
  try {
    const param = new Int32Array([priority]); // struct sched_param { int sched_priority; }
    const result = lib.symbols.sched_setscheduler(tid, policy, new Uint8Array(param.buffer));
    if (result !== 0) {
      const at = lib.symbols.__errno_location();
      const errno = at === null ? 0 : new Deno.UnsafePointerView(at).getInt32();
      return errno === 0 ? -1 : errno;
    }
    if (tid !== 0) return 0;
    const now = lib.symbols.sched_getscheduler(0) & ~SCHED_RESET_ON_FORK;
    return now === (policy & ~SCHED_RESET_ON_FORK) ? 0 : -1;
  } finally {
    lib.close();
  }
}

/** This thread's {@linkcode RealtimeSystem}: the C library through `Deno.dlopen`. */
export const THREAD_SYSTEM: RealtimeSystem = {
  os: Deno.build.os,
  cpus: () => navigator.hardwareConcurrency,
  ffi: () => Deno.permissions.querySync({ name: "ffi" }).state,
  setFifo: (priority) => setScheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, priority),
};

/**
 * The calling thread's OS id (Linux `gettid()`, in the C library since glibc
 * 2.30), or `undefined` when it cannot be had.
 */
export function currentThreadId(): number | undefined {
  try {
    const lib = Deno.dlopen("libc.so.6", LIBC);
    try {
      return lib.symbols.gettid?.() ?? undefined;
    } finally {
      lib.close();
    }
  } catch {
    return undefined;
  }
}

/**
 * Moves thread `tid` of this process back to the normal policy: for an
 * island's thread stuck in synchronous code, which spins on until the
 * process exits, so that it no longer preempts every other thread.
 *
 * @returns Whether it could.
 */
export function demoteThread(tid: number): boolean {
  try {
    return setScheduler(tid, SCHED_OTHER, 0) === 0;
  } catch {
    return false;
  }
}
