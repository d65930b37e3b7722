// The SSE fault stream: each client gets a replay after its Last-Event-ID,
// then every new event, and a keep-alive comment on the kernel driver's
// cadence. Frames are encoded once per event and fanned out; a client that
// stops reading is closed once its queue is full (it reconnects with its
// Last-Event-ID and replays), so a slow client never grows memory or slows
// anybody else. Streams per client address and in total are limited.

import type { FaultEvent, FaultEventLog } from "../sovd/fault_log.ts";
import { parseLastEventId } from "../sovd/fault_log.ts";
import { faultEventFrame } from "../sovd/wire_faults.ts";
import type { SovdDialect } from "../sovd/wire.ts";
import type { Driver } from "../time/driver.ts";
import type { Timer } from "../time/timer.ts";
import { httpError, parseInput } from "./_errors.ts";

/** Limits and cadence of the fault streams. */
export interface FaultStreamLimits {
  keepAliveMs: number;
  maxPerClient: number;
  maxStreams: number;
  maxQueuedFrames: number;
}

/** Figures of the fault streams. */
export interface FaultStreamCounts {
  open: number;
  opened: number;
  refused: number;
  slowClosed: number;
}

interface Client {
  readonly address: string;
  readonly controller: ReadableStreamDefaultController<Uint8Array>;
  closed: boolean;
}

const encoder = new TextEncoder();
const KEEP_ALIVE = encoder.encode(": keep-alive\n\n");

/** Every open fault stream of one server. */
export class FaultStreams {
  readonly #log: FaultEventLog;
  readonly #driver: Driver;
  readonly #limits: FaultStreamLimits;
  readonly #dialect: SovdDialect;
  readonly #clients = new Set<Client>();
  readonly #perAddress = new Map<string, number>();
  readonly #subscription: Disposable;
  #keepAlive: Timer | undefined;
  #opened = 0;
  #refused = 0;
  #slowClosed = 0;
  #closed = false;

  constructor(
    log: FaultEventLog,
    driver: Driver,
    limits: FaultStreamLimits,
    dialect: SovdDialect,
  ) {
    this.#log = log;
    this.#driver = driver;
    this.#limits = limits;
    this.#dialect = dialect;
    this.#subscription = log.subscribe((event) => this.#broadcast(event));
  }

  /** Opens a stream for a client: `200 text/event-stream`, or throws `429`/`503`. */
  open(address: string, lastEventIdHeader: string | null): Response {
    const lastId = parseInput(() => parseLastEventId(lastEventIdHeader), "Last-Event-ID");
    if (this.#closed) {
      throw httpError(503, "not-responding", "Cannot open a fault stream as the server is closing");
    }
    const mine = this.#perAddress.get(address) ?? 0;
    if (mine >= this.#limits.maxPerClient || this.#clients.size >= this.#limits.maxStreams) {
      this.#refused++;
      const perClient = mine >= this.#limits.maxPerClient;
      throw httpError(
        429,
        "vendor-specific",
        perClient
          ? `Cannot open a fault stream as this client has ${mine} open: the limit is ${this.#limits.maxPerClient}`
          : `Cannot open a fault stream as ${this.#clients.size} are open: the limit is ${this.#limits.maxStreams}`,
        { vendorCode: "too-many-streams" },
        { "retry-after": "5" },
      );
    }
    let client: Client | undefined;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        client = { address, controller, closed: false };
        this.#clients.add(client);
        this.#perAddress.set(address, mine + 1);
        this.#opened++;
        this.#armKeepAlive();
        controller.enqueue(encoder.encode("retry: 5000\n\n"));
        const replay = this.#log.since(lastId);
        if (replay.unknownId) {
          controller.enqueue(
            encoder.encode(`: unknown Last-Event-ID ${lastId}: replaying every event kept\n\n`),
          );
        } else if (replay.missed > 0) {
          controller.enqueue(
            encoder.encode(`: ${replay.missed} events after ${lastId} were evicted\n\n`),
          );
        }
        for (const event of replay.events) {
          controller.enqueue(encoder.encode(faultEventFrame(event, this.#dialect)));
        }
      },
      cancel: () => {
        if (client !== undefined) this.#drop(client, false);
      },
    }, new CountQueuingStrategy({ highWaterMark: this.#limits.maxQueuedFrames }));
    return new Response(body, {
      status: 200,
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        "x-accel-buffering": "no",
      },
    });
  }

  /** The stream figures. */
  counts(): FaultStreamCounts {
    return {
      open: this.#clients.size,
      opened: this.#opened,
      refused: this.#refused,
      slowClosed: this.#slowClosed,
    };
  }

  /** Ends every stream and stops listening; later opens answer `503`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscription[Symbol.dispose]();
    for (const client of [...this.#clients]) this.#drop(client, true);
    this.#keepAlive?.cancel();
    this.#keepAlive = undefined;
  }

  #broadcast(event: FaultEvent): void {
    if (this.#clients.size === 0) return;
    const frame = encoder.encode(faultEventFrame(event, this.#dialect));
    for (const client of [...this.#clients]) this.#send(client, frame);
  }

  #send(client: Client, frame: Uint8Array): void {
    if ((client.controller.desiredSize ?? 0) <= 0) {
      // The client stopped reading: close it rather than queue without bound.
      this.#slowClosed++;
      this.#drop(client, true);
      return;
    }
    client.controller.enqueue(frame);
  }

  #drop(client: Client, closeStream: boolean): void {
    if (client.closed) return;
    client.closed = true;
    this.#clients.delete(client);
    const left = (this.#perAddress.get(client.address) ?? 1) - 1;
    if (left <= 0) this.#perAddress.delete(client.address);
    else this.#perAddress.set(client.address, left);
    if (closeStream) {
      try {
        client.controller.close();
      } catch {
        // Already closed or errored by the reader.
      }
    }
    if (this.#clients.size === 0) {
      this.#keepAlive?.cancel();
      this.#keepAlive = undefined;
    }
  }

  #armKeepAlive(): void {
    if (this.#keepAlive !== undefined) return;
    this.#keepAlive = this.#driver.every(this.#limits.keepAliveMs, () => {
      for (const client of [...this.#clients]) this.#send(client, KEEP_ALIVE);
    }, { latenessClass: "server" });
  }
}
