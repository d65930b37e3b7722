// The fault event log: every change of a fault as an event with a
// monotonically increasing id, in a bounded buffer that an SSE stream
// replays after a client's Last-Event-ID.

import type { Fault } from "./model.ts";
import { requireFunction, requireInteger, requireOptions, show } from "../internal/validate.ts";

/**
 * What changed: `fault_confirmed` (a new fault), `fault_updated` (more
 * occurrences, a new severity, active again, or passive: its condition
 * cleared and it heals), `fault_cleared` (healed, or cleared by a client).
 */
export type FaultEventType = "fault_confirmed" | "fault_updated" | "fault_cleared";

/** One change of one fault. */
export interface FaultEvent {
  /** Its id: 1 for the first event of a log, one more for each next one. */
  readonly id: number;
  /** What changed. */
  readonly type: FaultEventType;
  /** The fault after the change. */
  readonly fault: Fault;
  /** When, ms since the Unix epoch (wall time). */
  readonly timestampMs: number;
}

/** What {@linkcode FaultEventLog.since} replays. */
export interface FaultReplay {
  /** The events after the given id that the log still holds, oldest first. */
  readonly events: FaultEvent[];
  /** Events after the given id that fell out of the buffer before the replay. */
  readonly missed: number;
  /**
   * The id is beyond the last event: the client saw another log (the
   * process restarted). `events` then holds every event the log has.
   */
  readonly unknownId: boolean;
}

/** Options of a {@linkcode FaultEventLog}. */
export interface FaultEventLogOptions {
  /** Events kept for replay; older ones are evicted (counted). @default {1024} */
  capacity?: number;
}

/** A fault event log's figures. */
export interface FaultEventLogStats {
  /** Events kept at most. */
  capacity: number;
  /** Events kept now. */
  size: number;
  /** The id of the last event (0 before the first). */
  lastId: number;
  /** Events evicted to make room. */
  evicted: number;
  /** Listener calls that threw (the other listeners still ran). */
  listenerErrors: number;
}

/**
 * A bounded log of {@linkcode FaultEvent}s with increasing ids, for a fault
 * stream with `Last-Event-ID` replay: `since(id)` returns what came after
 * `id` and says how many of those were evicted. Listeners (the live SSE
 * clients) hear each event as it is appended; one that throws is counted
 * and does not stop the others.
 *
 * @example Replaying after a Last-Event-ID
 * ```ts
 * import { type Fault, FaultEventLog } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * const log = new FaultEventLog({ capacity: 2 });
 * const fault = { code: "DEMO" } as Fault;
 * log.append("fault_confirmed", fault, 1000);
 * log.append("fault_updated", fault, 2000);
 * log.append("fault_cleared", fault, 3000); // evicts event 1
 * const replay = log.since(0);
 * assertEquals(replay.events.map((e) => e.id), [2, 3]);
 * assertEquals(replay.missed, 1);
 * assertEquals(log.since(2).events.map((e) => e.type), ["fault_cleared"]);
 * ```
 */
export class FaultEventLog {
  /** Events kept at most. */
  readonly capacity: number;
  readonly #ring: (FaultEvent | undefined)[];
  #head = 0; // where the next event goes
  #size = 0;
  #lastId = 0;
  #evicted = 0;
  #listenerErrors = 0;
  readonly #listeners = new Set<(event: FaultEvent) => void>();

  /**
   * Creates an empty log.
   *
   * @param options The capacity.
   * @throws {TypeError} when `options` is not an object.
   * @throws {RangeError} when `capacity` is not an integer in [1, 1048576].
   */
  constructor(options: FaultEventLogOptions = {}) {
    const action = "create a FaultEventLog";
    requireOptions(action, "options", options);
    this.capacity = requireInteger(action, "capacity", options.capacity ?? 1024, 1, 2 ** 20);
    this.#ring = new Array(this.capacity).fill(undefined);
  }

  /** The id of the last event, 0 before the first. */
  get lastId(): number {
    return this.#lastId;
  }

  /**
   * Appends an event with the next id and tells the listeners.
   *
   * @param type What changed.
   * @param fault The fault after the change.
   * @param timestampMs When, ms since the Unix epoch.
   * @returns The event.
   */
  append(type: FaultEventType, fault: Fault, timestampMs: number): FaultEvent {
    const event: FaultEvent = Object.freeze({ id: ++this.#lastId, type, fault, timestampMs });
    if (this.#size === this.capacity) this.#evicted++;
    else this.#size++;
    this.#ring[this.#head] = event;
    this.#head = (this.#head + 1) % this.capacity;
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        this.#listenerErrors++;
      }
    }
    return event;
  }

  /**
   * The events after `lastEventId`, oldest first: a replay for a client
   * that reconnects with `Last-Event-ID`.
   *
   * @param lastEventId The last id the client saw; 0 for everything kept.
   * @returns The events still kept, how many were missed, and whether the id was unknown.
   * @throws {RangeError} when `lastEventId` is not an integer >= 0.
   */
  since(lastEventId: number): FaultReplay {
    requireInteger("replay fault events", "lastEventId", lastEventId, 0, Number.MAX_SAFE_INTEGER);
    const unknownId = lastEventId > this.#lastId;
    const after = unknownId ? 0 : lastEventId;
    const oldestId = this.#lastId - this.#size + 1;
    const from = Math.max(after + 1, oldestId);
    const events: FaultEvent[] = [];
    for (let id = from; id <= this.#lastId; id++) {
      const slot = (this.#head - (this.#lastId - id) - 1 + this.capacity) % this.capacity;
      events.push(this.#ring[slot]!);
    }
    return { events, missed: Math.max(0, oldestId - (after + 1)), unknownId };
  }

  /**
   * Calls `listener` with every event appended from now on.
   *
   * @param listener Called synchronously on append; keep it quick (queue for a slow client).
   * @returns A disposable that removes the listener.
   * @throws {TypeError} when `listener` is not a function.
   */
  subscribe(listener: (event: FaultEvent) => void): Disposable {
    requireFunction("subscribe to fault events", "listener", listener);
    const own = (event: FaultEvent) => listener(event);
    this.#listeners.add(own);
    return { [Symbol.dispose]: () => void this.#listeners.delete(own) };
  }

  /** The log's figures. */
  stats(): FaultEventLogStats {
    return {
      capacity: this.capacity,
      size: this.#size,
      lastId: this.#lastId,
      evicted: this.#evicted,
      listenerErrors: this.#listenerErrors,
    };
  }
}

/**
 * Parses an SSE `Last-Event-ID` header: decimal digits only (at most 15, so
 * the id is exact). A missing or empty header is `0` (replay everything
 * kept).
 *
 * @example Parsing the header
 * ```ts
 * import { parseLastEventId } from "@chronetix/core/sovd";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * assertEquals(parseLastEventId("42"), 42);
 * assertEquals(parseLastEventId(null), 0);
 * assertThrows(() => parseLastEventId("4e2"), TypeError);
 * ```
 *
 * @param header The header's value, or `null`/`undefined` when absent.
 * @returns The id.
 * @throws {TypeError} when the header is not decimal digits.
 */
export function parseLastEventId(header: string | null | undefined): number {
  if (header === null || header === undefined || header === "") return 0;
  if (typeof header !== "string" || !/^[0-9]{1,15}$/.test(header)) {
    throw new TypeError(
      `Cannot replay fault events as 'Last-Event-ID' must be decimal digits: current value is ${
        show(header)
      }`,
    );
  }
  return Number(header);
}
