// The kernel side of the data ports of a worker or process plugin: answers
// the plugin's opens from the manager's `dataPorts` lookup, feeds the
// plugin's frames into the kernel's DataPort in order (waiting for its credit
// instead of dropping), returns the plugin's send window as the port takes
// them, and, for a consuming plugin, forwards the port's frames and recycles
// each when the plugin recycles it (credit end to end).

import type { DataPort } from "../data/data_port.ts";
import type { FrameMeta } from "../data/data_port_types.ts";
import { WOULD_BLOCK } from "../data/backpressure.ts";
import type { HostMessage, PackedBytes } from "./_remote_protocol.ts";
import { packBytes, unpackBytes } from "./_remote_protocol.ts";

/** The most frames a plugin may have on its way to one port (its send window). */
export const PORT_WINDOW = 64;
/** How often a consumer waits for the port's current consumer to let go (a reload), ms. */
const CONSUME_RETRY_MS = 2;
/** How long it waits at most, ms. */
const CONSUME_WAIT_MS = 10_000;

/** What the links need from their host. */
export interface PortLinkHost {
  /** The plugin's name. */
  readonly plugin: string;
  /** Whether the plugin declared the `dataport` capability. */
  readonly allowed: boolean;
  /** Whether frames travel as text (a process's JSON frames). */
  readonly text: boolean;
  /** The manager's lookup of the ports offered to plugins. */
  lookup(name: string): DataPort | undefined;
  /** Sends a message to the plugin. */
  post(message: HostMessage): void;
  /** Calls `fn` after `ms` on the kernel's driver. */
  later(ms: number, fn: () => void): void;
  /** Says something went wrong that the plugin caused. */
  warn(message: string): void;
}

/** What was left when the links closed. */
export interface PortLinksCloseReport {
  /** Frames of the plugin sent to the kernel's ports after they closed (or at the instance's end). */
  lost: number;
  /** Frames the plugin had received and not recycled: the host recycled them. */
  unrecycled: number;
}

interface Link {
  id: number;
  name: string;
  port: DataPort;
  queue: Uint8Array[];
  waiting: boolean;
  consumer: Disposable | undefined;
  consuming: boolean;
  held: Map<number, FrameMeta>;
  outgoing: [number, PackedBytes][];
}

/** The data ports one remote instance holds. */
export class PortLinks {
  readonly #host: PortLinkHost;
  readonly #links = new Map<number, Link>();
  #nextFrame = 1;
  #lost = 0;
  #holding = false;
  /** Credit to return per port, sent once per turn (not once per frame). */
  readonly #credits = new Map<number, number>();
  #closed = false;

  /** Links for one instance. */
  constructor(host: PortLinkHost) {
    this.#host = host;
  }

  /** Names of the ports the instance holds. */
  names(): string[] {
    return [...this.#links.values()].map((l) => l.name);
  }

  /** The plugin opens port `name` as `id`. */
  open(id: number, name: unknown): void {
    const host = this.#host;
    const label = typeof name === "string" ? `"${name}"` : "with a name that is not a string";
    const port = host.allowed && typeof name === "string" ? host.lookup(name) : undefined;
    if (port === undefined || port.closed || this.#closed) {
      const why = !host.allowed
        ? `plugin "${host.plugin}" lacks the "dataport" capability`
        : `the kernel offers no open port of that name to plugin "${host.plugin}"`;
      host.post({
        t: "port",
        id,
        ok: false,
        error: { name: "PluginError", message: `Cannot open data port ${label} as ${why}` },
      });
      return;
    }
    const credit = Math.max(1, Math.min(PORT_WINDOW, port.stats().creditLimit));
    this.#links.set(id, {
      id,
      name: name as string,
      port,
      queue: [],
      waiting: false,
      consumer: undefined,
      consuming: false,
      held: new Map(),
      outgoing: [],
    });
    host.post({ t: "port", id, ok: true, credit });
  }

  /** A frame of the plugin for port `id`. */
  send(id: number, packed: unknown): void {
    const link = this.#links.get(id);
    if (link === undefined) {
      this.#lost++;
      return;
    }
    let bytes: Uint8Array;
    try {
      bytes = unpackBytes(packed);
    } catch (error) {
      this.#host.warn(`a frame for data port "${link.name}" was dropped: ${String(error)}`);
      this.#lost++;
      this.#credit(id, 1);
      return;
    }
    link.queue.push(bytes);
    this.#pump(link);
  }

  /**
   * The plugin consumes port `id`: forward its frames. While another
   * instance of the plugin still consumes the port (a hot reload that has
   * not shut the old one down yet), this one waits for it to let go; the
   * frames meanwhile stay queued in the port, within its credit.
   */
  consume(id: number): void {
    const link = this.#links.get(id);
    if (link === undefined || link.consuming) return;
    link.consuming = true;
    this.#tryConsume(link, 0);
  }

  /**
   * Stops handing the plugin new frames (a hot reload drains the instance):
   * its consumers let go of their ports, whose frames wait there, within
   * their credit, for the next consumer.
   */
  hold(): void {
    this.#holding = true;
    for (const link of this.#links.values()) {
      link.consumer?.[Symbol.dispose]();
      link.consumer = undefined;
    }
  }

  /** Hands frames to the plugin again after {@linkcode PortLinks.hold} (the reload failed). */
  release(): void {
    if (!this.#holding) return;
    this.#holding = false;
    for (const link of this.#links.values()) {
      if (link.consuming && link.consumer === undefined) this.#tryConsume(link, 0);
    }
  }

  /**
   * Whether nothing handed to the plugin is outstanding: while held, every
   * frame it got was recycled; not held, always (frames keep coming).
   */
  idle(): boolean {
    if (!this.#holding) return true;
    for (const link of this.#links.values()) {
      if (link.held.size > 0 || link.outgoing.length > 0) return false;
    }
    return true;
  }

  #tryConsume(link: Link, waitedMs: number): void {
    if (this.#closed || this.#holding || this.#links.get(link.id) !== link) return;
    try {
      link.consumer = link.port.onFrame((meta, view) => {
        const frame = this.#nextFrame++;
        link.held.set(frame, meta);
        if (link.outgoing.length === 0) queueMicrotask(() => this.#forward(link));
        link.outgoing.push([frame, packBytes(view, this.#host.text)]);
      });
    } catch (error) {
      if (!link.port.closed && waitedMs < CONSUME_WAIT_MS) {
        this.#host.later(
          CONSUME_RETRY_MS,
          () => this.#tryConsume(link, waitedMs + CONSUME_RETRY_MS),
        );
        return;
      }
      this.#host.post({
        t: "px",
        id: link.id,
        reason: `Cannot consume data port "${link.name}": ${
          error instanceof Error ? error.message : String(error)
        }`,
      });
    }
  }

  /** The plugin recycled frames of port `id`. */
  recycle(id: number, frames: unknown): void {
    const link = this.#links.get(id);
    if (link === undefined || !Array.isArray(frames)) return;
    for (const frame of frames) {
      const meta = link.held.get(frame);
      if (meta === undefined) continue;
      link.held.delete(frame);
      if (!link.port.closed) link.port.recycle(meta);
    }
  }

  /**
   * The instance ends: stop consuming, recycle what it held, and hand the
   * kernel's ports what it sent while they take it without waiting.
   */
  close(): PortLinksCloseReport {
    let unrecycled = 0;
    if (!this.#closed) {
      this.#closed = true;
      for (const link of this.#links.values()) {
        link.consumer?.[Symbol.dispose]();
        link.consumer = undefined;
        for (const meta of link.held.values()) {
          unrecycled++;
          if (!link.port.closed) link.port.recycle(meta);
        }
        link.held.clear();
        while (link.queue.length > 0 && !link.port.closed) {
          if (link.port.send(link.queue[0]!) === WOULD_BLOCK) break;
          link.queue.shift();
        }
        this.#lost += link.queue.length;
        link.queue = [];
      }
      this.#links.clear();
    }
    return { lost: this.#lost, unrecycled };
  }

  /** Feeds queued frames into the kernel's port in order; waits for its credit when spent. */
  #pump(link: Link): void {
    if (link.waiting) return;
    let taken = 0;
    while (link.queue.length > 0) {
      if (link.port.closed) {
        this.#lost += link.queue.length;
        link.queue = [];
        this.#host.post({ t: "px", id: link.id, reason: `data port "${link.name}" closed` });
        break;
      }
      if (link.port.send(link.queue[0]!) === WOULD_BLOCK) {
        link.waiting = true;
        link.port.whenWritable().then(() => {
          link.waiting = false;
          if (!this.#closed) this.#pump(link);
        }, () => {
          link.waiting = false;
        });
        break;
      }
      link.queue.shift();
      taken++;
    }
    if (taken > 0) this.#credit(link.id, taken);
  }

  #credit(id: number, n: number): void {
    if (this.#credits.size === 0) queueMicrotask(this.#sendCredits);
    this.#credits.set(id, (this.#credits.get(id) ?? 0) + n);
  }

  #sendCredits = (): void => {
    if (this.#closed) return this.#credits.clear();
    for (const [id, n] of this.#credits) this.#host.post({ t: "pc", id, n });
    this.#credits.clear();
  };

  #forward(link: Link): void {
    if (link.outgoing.length === 0 || this.#closed) return;
    const frames = link.outgoing;
    link.outgoing = [];
    this.#host.post({ t: "pf", id: link.id, frames });
  }
}
