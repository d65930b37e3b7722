import { requireNonEmptyString } from "../internal/validate.ts";

// Set by EventScope's static block: the bus counts through the friend
// functions at the end of this file, so the public class has no counting
// methods.
let enter: (scope: EventScope) => void;
let leave: (scope: EventScope) => void;

/**
 * Counts the events one owner (a plugin, a task) has in flight on an
 * {@linkcode EventBus}: events it queued that are not yet delivered, and
 * runs of its handlers that have not finished (an async handler counts until
 * its promise settles). A hot switch waits for `whenIdle()` before it
 * retires the old owner, so none of its events are cut off. Pass a scope to
 * {@linkcode Topic.subscribe} and {@linkcode Topic.enqueue}; the bus does
 * the counting.
 *
 * @example Waiting until a scope's handlers finished
 * ```ts
 * import { EventBus, EventScope } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * using bus = new EventBus();
 * const scope = new EventScope("plugin-a");
 * const { promise: saved, resolve: save } = Promise.withResolvers<void>();
 * bus.topic<number>("ticks").subscribe(() => saved, { scope }); // an async handler
 * bus.topic<number>("ticks").publish(1);
 * assertEquals(scope.inFlight, 1); // its promise has not settled yet
 * save();
 * await scope.whenIdle();
 * assertEquals(scope.inFlight, 0);
 * ```
 */
export class EventScope {
  /** Who the events belong to, for reports. */
  readonly owner: string;
  #inFlight = 0;
  #total = 0;
  #waiters: (() => void)[] = [];

  /**
   * Creates a scope.
   *
   * @param owner Who the events belong to, e.g. a plugin's name.
   * @throws {TypeError} when `owner` is not a non-empty string.
   */
  constructor(owner: string) {
    this.owner = requireNonEmptyString("create an EventScope", "owner", owner);
  }

  /** Events queued or handler runs not yet finished. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Events and handler runs this scope has counted in all. */
  get total(): number {
    return this.#total;
  }

  /**
   * Resolves once nothing is in flight: at once when `inFlight` is 0 now,
   * else when the last queued event or handler run finishes (events a closed
   * bus discards count as finished). For a deadline, race it with a timer
   * (the kernel uses its driver, so this works on a virtual clock too).
   *
   * @returns A promise that resolves once `inFlight` is 0.
   */
  whenIdle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiters.push(resolve);
    return promise;
  }

  static {
    enter = (scope) => {
      scope.#inFlight++;
      scope.#total++;
    };
    leave = (scope) => {
      if (--scope.#inFlight === 0 && scope.#waiters.length > 0) {
        const waiters = scope.#waiters;
        scope.#waiters = [];
        for (const waiter of waiters) waiter();
      }
    };
  }
}

/** Counts one more event or handler run in flight in `scope` (for the bus only). */
export function enterScope(scope: EventScope): void {
  enter(scope);
}

/** Counts one event or handler run of `scope` finished (for the bus only). */
export function leaveScope(scope: EventScope): void {
  leave(scope);
}
