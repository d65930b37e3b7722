// Where a worker plugin's Web Worker is created. `new Worker()` blocks the
// thread that calls it until the new thread has built its isolate: 20-40 ms
// on the kernel's thread per (re)start, which a 1 kHz kernel task sees as
// lateness. A spawner is one long-lived Worker (one per worker host factory,
// started at its first plugin start, ended once no plugin Worker of it is
// left) that creates the plugin Workers on ITS thread instead: the kernel
// sends it the program's URL, the name and the permissions; the new Worker
// sends up one end of a MessageChannel it made (its first message, see
// _worker_entry.ts), the spawner passes that port on to the kernel, and from
// then on the kernel and the plugin talk on the port. The spawner runs with
// the kernel's own permissions ("inherit"), so a plugin Worker it creates
// cannot get more than the kernel has, as before. It relays the thread's
// `error` and `messageerror` events, and terminates a Worker when asked.
//
// Measured (Deno 2.9.6, 2 cores): 50 starts on the kernel's thread stall its
// event loop to a p99 gap of 41-61 ms; through a spawner, 2.8-3.0 ms. But on
// Deno 2.9.1 to 2.9.6 a Worker created by a Worker waits 500 ms before it
// runs its module: since denoland/deno#35629 every Worker holds an inspector
// session (its link to the main thread's inspector), and a Worker whose
// parent has a session waits up to 500 ms for a debugger ("page wait for
// debugger"; its first message from the parent waits 500 ms more, which the
// port sent up avoids). Deno 2.9.0 and earlier: a nested start takes about
// 50 ms. So by default the worker host uses a spawner only for restarts
// (where a crash-looping plugin would stall the kernel again and again, and
// a backoff is waited anyway); loads and hot reloads keep their speed.

import { createBlobWorker } from "../internal/blob_worker.ts";

/** What the spawner relays about one plugin Worker. */
export interface SpawnedEvents {
  /** The kernel's end of the plugin's channel, which the Worker sent up. */
  port(port: MessagePort): void;
  /** The thread failed (an uncaught error), with the event's message. */
  error(message: string): void;
  /** The Worker got a message it could not read. */
  messageError(): void;
}

/** One plugin Worker started by a spawner. */
export interface SpawnedWorker {
  /** Terminates the Worker (through the spawner). */
  terminate(): void;
}

/** What the kernel asks a spawner to start. */
export interface SpawnRequest {
  /** The Worker's module URL. */
  url: string;
  /** The Worker's name. */
  name: string;
  /** Scoped permissions; `undefined` inherits the spawner's (the kernel's). */
  permissions: Deno.PermissionOptionsObject | undefined;
}

type SpawnerMessage =
  | { t: "port"; id: number; port: MessagePort }
  | { t: "error"; id: number; message: string }
  | { t: "messageerror"; id: number }
  | { t: "idle" };

/**
 * How long the spawner waits with no plugin Worker before it offers to end,
 * ms: longer than a restart's backoff of a few seconds, so a plugin that
 * keeps failing does not pay for a new spawner (20-40 ms on the kernel's
 * thread) at each restart; `close()` ends it at once.
 */
const IDLE_MS = 5000;

/** A spawner Worker, started lazily; see the file comment. */
export class WorkerSpawner {
  #worker: Worker | undefined;
  #nextId = 1;
  readonly #live = new Map<number, SpawnedEvents>();

  /** Plugin Workers started and not yet terminated. */
  get live(): number {
    return this.#live.size;
  }

  /** Whether the spawner's own Worker runs now. */
  get running(): boolean {
    return this.#worker !== undefined;
  }

  /**
   * Starts a plugin Worker on the spawner's thread.
   *
   * @param request Its URL, name and permissions.
   * @param events Where its port and its thread's failures go.
   * @returns How to terminate it.
   */
  start(request: SpawnRequest, events: SpawnedEvents): SpawnedWorker {
    const spawner = this.#spawner();
    const id = this.#nextId++;
    this.#live.set(id, events);
    spawner.postMessage({ t: "start", id, ...request });
    return {
      terminate: () => {
        if (!this.#live.delete(id)) return;
        this.#worker?.postMessage({ t: "end", id });
      },
    };
  }

  /** Ends the spawner now if no plugin Worker of it is live; else once the last ends and it idles. */
  close(): void {
    if (this.#live.size === 0) this.#end();
  }

  #spawner(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = createBlobWorker(spawnerMain, [IDLE_MS], {
      name: "chronetix-plugin-spawner",
      permissions: "inherit",
    });
    worker.onmessage = (event: MessageEvent<SpawnerMessage>) => {
      const message = event.data;
      if (message.t === "idle") {
        if (this.#live.size === 0) this.#end();
        return;
      }
      const events = this.#live.get(message.id);
      if (message.t === "port") {
        if (events === undefined) message.port.close(); // terminated meanwhile
        else events.port(message.port);
      } else if (message.t === "error") events?.error(message.message);
      else events?.messageError();
    };
    worker.onerror = (event: ErrorEvent) => {
      // The spawner's own thread failed: every Worker it made goes with it.
      event.preventDefault();
      const live = [...this.#live.values()];
      this.#live.clear();
      this.#end();
      for (const events of live) events.error(`its spawner failed: ${event.message}`);
    };
    this.#worker = worker;
    return worker;
  }

  #end(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
  }
}

/**
 * The spawner's program (self-contained: its source is all the Worker
 * gets). Starts plugin Workers, passes on the port each sends up, relays their failures,
 * terminates them when asked, and offers to end after `idleMs` with none.
 */
function spawnerMain(idleMs: number): void {
  interface Scope {
    onmessage: ((event: MessageEvent) => void) | null;
    postMessage(message: unknown, transfer?: Transferable[]): void;
  }
  const scope = globalThis as unknown as Scope;
  const workers = new Map<number, Worker>();
  let idle: ReturnType<typeof setTimeout> | undefined;
  const watchIdle = () => {
    clearTimeout(idle);
    idle = workers.size > 0
      ? undefined
      : setTimeout(() => scope.postMessage({ t: "idle" }), idleMs);
  };
  scope.onmessage = ({ data }) => {
    if (data.t === "start") {
      const id: number = data.id;
      let worker: Worker;
      try {
        worker = data.permissions === undefined
          ? new Worker(data.url, { type: "module", name: data.name })
          : new Worker(data.url, {
            type: "module",
            name: data.name,
            deno: { permissions: data.permissions },
          });
      } catch (error) {
        scope.postMessage({ t: "error", id, message: `it could not start: ${String(error)}` });
        return;
      }
      workers.set(id, worker);
      // The first port the Worker sends up is its channel to the kernel.
      worker.onmessage = ({ data: port }) => {
        if (!(port instanceof MessagePort)) return;
        worker.onmessage = null;
        scope.postMessage({ t: "port", id, port }, [port]);
      };
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        scope.postMessage({ t: "error", id, message: event.message });
      };
      worker.onmessageerror = () => scope.postMessage({ t: "messageerror", id });
    } else if (data.t === "end") {
      workers.get(data.id)?.terminate();
      workers.delete(data.id);
    }
    watchIdle();
  };
  watchIdle();
}
