import { requireNonEmptyString } from "../internal/validate.ts";

/**
 * Counts the events one owner (a plugin, a task) has in flight on an
 * {@linkcode EventBus}: events it queued that are not yet delivered, and
 * runs of its handlers that have not finished (an async handler counts until
 * its promise settles). A hot switch waits for `whenDrained()` before it
 * retires the old owner, so none of its events are cut off.
 *
 * @example Waiting until a scope's handlers finished
 * ```ts
 * import { EventBus, EventScope } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const bus = new EventBus();
 * const scope = new EventScope("plugin-a");
 * bus.topic<number>("ticks").subscribe(async () => {
 *   await new Promise((resolve) => setTimeout(resolve, 1));
 * }, { scope });
 * bus.topic<number>("ticks").publish(1);
 * assertEquals(scope.inFlight, 1);
 * await scope.whenDrained();
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
   * Resolves when nothing is in flight. For a deadline, race it with a timer
   * (the kernel uses its driver, so this works on a virtual clock too).
   *
   * @returns A promise that resolves once `inFlight` is 0.
   */
  whenDrained(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiters.push(resolve);
    return promise;
  }

  /** Counts one more event or handler run in flight. */
  enter(): void {
    this.#inFlight++;
    this.#total++;
  }

  /** Counts one event or handler run finished. */
  leave(): void {
    if (--this.#inFlight === 0 && this.#waiters.length > 0) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const waiter of waiters) waiter();
    }
  }
}
