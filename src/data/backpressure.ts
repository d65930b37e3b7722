/**
 * Returned instead of a frame when a port or ring cannot take or give one
 * now: by `send()` when the credit (or memory) is spent, by
 * `DataPort.receive()` when no frame waits. A plain number, so the refusal
 * allocates nothing. Nothing is dropped: the caller waits
 * (`whenWritable()`) and tries again.
 *
 * @example Waiting for credit when a send would block
 * ```ts
 * import { DataPort, WOULD_BLOCK } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * using port = new DataPort({ credit: 1 });
 * port.send(Uint8Array.of(1));
 * assertEquals(port.send(Uint8Array.of(2)), WOULD_BLOCK);
 * const meta = port.receive();
 * if (meta !== WOULD_BLOCK) port.recycle(meta);
 * assertEquals(await port.whenWritable(), "ready");
 * ```
 */
export const WOULD_BLOCK: -1 = -1;

/** The type of {@linkcode WOULD_BLOCK}. */
export type WouldBlock = -1;

/**
 * Options of a wait for room or data (`whenWritable()`, `whenReadable()`,
 * and the blocking `wait()` / `waitWritable()` of a Worker).
 */
export interface WaitOptions {
  /**
   * Give up after this many milliseconds; the wait then ends with
   * `"timed-out"`. `0` checks once without waiting.
   *
   * @default {Infinity}
   */
  timeoutMs?: number;
  /**
   * Abandons the wait when aborted: the promise rejects with the signal's
   * `reason`. A blocking wait (which runs no event handlers) checks it only
   * before it blocks.
   */
  signal?: AbortSignal;
}

/**
 * How a wait for room or data ended: `"ready"` (there is room or data now),
 * `"closed"` (the other side or this one closed: there never will be), or
 * `"timed-out"` (`timeoutMs` passed first). A close never rejects a wait.
 */
export type WaitResult = "ready" | "closed" | "timed-out";
