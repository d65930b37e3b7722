import { WOULD_BLOCK } from "../data/backpressure.ts";
import { requireNonNegative, show } from "../internal/validate.ts";
import { type Clock, MONOTONIC_CLOCK, requireClock } from "../time/clock.ts";
import { type Deadline, startDeadline, startDeadlineAt } from "./_deadlines.ts";
import { checkWait } from "./_wait_list.ts";
import type { Receiver, RecvResult, Sender } from "./channel_types.ts";

const ACTION = "select";

/**
 * One branch of {@linkcode select}, made by {@linkcode recvFrom},
 * {@linkcode sendTo}, {@linkcode after} or {@linkcode aborted}. A branch
 * holds no state between selects: reuse it in a loop freely.
 *
 * @typeParam R What the branch gives when it wins.
 */
export interface SelectCase<R> {
  /** The kind of branch. */
  readonly kind: "recv" | "send" | "timer" | "abort";
  /** Carries the result type; never set. */
  readonly result?: R;
}

/** Options of {@linkcode select}. */
export interface SelectOptions {
  /**
   * Give up after this many milliseconds: the select then resolves
   * `{ index: -1, value: "timed-out" }`. `0` checks the branches once.
   *
   * @default {Infinity}
   */
  timeoutMs?: number;
  /** Abandons the select when aborted: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * The clock of `timeoutMs` and of `after()` branches: a `VirtualClock`
   * makes them deterministic.
   *
   * @default {MONOTONIC_CLOCK}
   */
  clock?: Clock;
}

/**
 * What {@linkcode select} resolves: the index of the branch that won and
 * what it gave. Narrow on `index` to get each branch's value type.
 *
 * @typeParam C The branches, as passed.
 */
export type SelectResult<C extends readonly SelectCase<unknown>[]> = {
  [K in keyof C]: {
    readonly index: K extends `${infer N extends number}` ? N : number;
    readonly value: C[K] extends SelectCase<infer R> ? R : never;
  };
}[number];

/** What {@linkcode select} resolves when its `timeoutMs` passed before any branch was ready. */
export interface SelectTimedOut {
  /** Always -1: no branch won. */
  readonly index: -1;
  /** Always `"timed-out"`. */
  readonly value: "timed-out";
}

/** The internal form of a branch. */
class Branch<R> implements SelectCase<R> {
  readonly kind: "recv" | "send" | "timer" | "abort";
  readonly receiver: Receiver<unknown> | undefined;
  readonly sender: Sender<unknown> | undefined;
  readonly value: unknown;
  readonly delayMs: number;
  readonly signal: AbortSignal | undefined;

  constructor(
    kind: "recv" | "send" | "timer" | "abort",
    parts: {
      receiver?: Receiver<unknown>;
      sender?: Sender<unknown>;
      value?: unknown;
      delayMs?: number;
      signal?: AbortSignal;
    },
  ) {
    this.kind = kind;
    this.receiver = parts.receiver;
    this.sender = parts.sender;
    this.value = parts.value;
    this.delayMs = parts.delayMs ?? 0;
    this.signal = parts.signal;
  }
}

const NOT_READY: unique symbol = Symbol("not ready");

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object";
}

/**
 * A branch that receives from `receiver`: it wins when an item is waiting
 * (and takes exactly that one item) or the channel is closed (value
 * `{ ok: false, reason: "closed" }`). When another branch wins, no item is
 * taken.
 *
 * @typeParam T The item type.
 * @param receiver A channel, or any {@linkcode Receiver}.
 * @returns The branch.
 * @throws {TypeError} when `receiver` has no `tryRecv()` and `whenReadable()`.
 */
export function recvFrom<T>(receiver: Receiver<T>): SelectCase<RecvResult<T>> {
  if (
    !isObject(receiver) || typeof receiver.tryRecv !== "function" ||
    typeof receiver.whenReadable !== "function"
  ) {
    throw new TypeError(
      `Cannot make a receive branch as 'receiver' must be a Receiver: current value is ${
        show(receiver)
      }`,
    );
  }
  return new Branch<RecvResult<T>>("recv", { receiver: receiver as Receiver<unknown> });
}

/**
 * A branch that sends `value` to `sender`: it wins when the channel takes
 * the item (value `"sent"`). When another branch wins, nothing is sent. A
 * closed channel makes the select reject with `ClosedError`.
 *
 * @typeParam T The item type.
 * @param sender A channel, or any {@linkcode Sender}.
 * @param value The item to send.
 * @returns The branch.
 * @throws {TypeError} when `sender` has no `trySend()` and `whenWritable()`.
 */
export function sendTo<T>(sender: Sender<T>, value: T): SelectCase<"sent"> {
  if (
    !isObject(sender) || typeof sender.trySend !== "function" ||
    typeof sender.whenWritable !== "function"
  ) {
    throw new TypeError(
      `Cannot make a send branch as 'sender' must be a Sender: current value is ${show(sender)}`,
    );
  }
  return new Branch<"sent">("send", { sender: sender as Sender<unknown>, value });
}

/**
 * A timer branch: it wins `delayMs` after the select started, on the
 * select's clock (value `"elapsed"`).
 *
 * @param delayMs The delay in milliseconds, `>= 0`.
 * @returns The branch.
 * @throws {RangeError} when `delayMs` is negative or not finite.
 */
export function after(delayMs: number): SelectCase<"elapsed"> {
  return new Branch<"elapsed">("timer", {
    delayMs: requireNonNegative("make a timer branch", "delayMs", delayMs),
  });
}

/**
 * A branch that wins when `signal` aborts (at once if it has); its value
 * is the signal's reason. Unlike {@linkcode SelectOptions.signal}, which
 * rejects the select, this makes cancellation an ordinary outcome.
 *
 * @param signal The signal.
 * @returns The branch.
 * @throws {TypeError} when `signal` is not an `AbortSignal`.
 */
export function aborted(signal: AbortSignal): SelectCase<unknown> {
  if (!(signal instanceof AbortSignal)) {
    throw new TypeError(
      `Cannot make an abort branch as 'signal' must be an AbortSignal: current value is ${
        show(signal)
      }`,
    );
  }
  return new Branch<unknown>("abort", { signal });
}

/**
 * Waits for the first of several branches to be ready and runs exactly
 * that one: a receive takes its one item, a send sends, a timer elapses, an
 * abort branch sees its signal. The branches that lose are left untouched:
 * no item is taken from a channel whose receive lost the race, no item is
 * sent by a send that lost. When several are ready at once, the first in
 * the list wins (list the branch that must not starve first).
 *
 * @typeParam C The branches.
 * @param cases The branches: at least one.
 * @param options A timeout, an abort signal and the clock of timers.
 * @returns The winner's index and value (with a `timeoutMs`, see the overload below).
 * @throws {TypeError} when `cases` is not a non-empty array of branches or
 *   an option has the wrong type.
 * @throws {RangeError} when `timeoutMs` is negative.
 * @throws {ClosedError} (as a rejection) when a send branch's channel is closed.
 * @throws {unknown} (as a rejection) the signal's reason, when it aborts first.
 *
 * @example Receiving from whichever channel has an item first
 * ```ts
 * import { after, channel, recvFrom, select } from "@chronetix/core";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * using alerts = channel<string>(8);
 * using readings = channel<number>(8);
 * readings.trySend(21.5);
 * const first = await select([recvFrom(alerts), recvFrom(readings), after(100)], { clock });
 * assertEquals(first, { index: 1, value: { ok: true, value: 21.5 } });
 * const next = select([recvFrom(alerts), recvFrom(readings), after(100)], { clock });
 * clock.advance(100);
 * assertEquals(await next, { index: 2, value: "elapsed" });
 * assertEquals(alerts.stats().received + readings.stats().received, 1); // nothing else taken
 * ```
 *
 * @example A send that loses does not send
 * ```ts
 * import { channel, recvFrom, select, sendTo } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * using out = channel<number>(1);
 * using inbox = channel<string>(1);
 * out.trySend(0); // full
 * const racing = select([sendTo(out, 1), recvFrom(inbox)]);
 * inbox.trySend("stop");
 * assertEquals((await racing).index, 1);
 * assertEquals(out.depth, 1); // the 1 was never sent
 * ```
 */
export function select<const C extends readonly SelectCase<unknown>[]>(
  cases: C,
  options?: SelectOptions & { timeoutMs?: undefined },
): Promise<SelectResult<C>>;
/**
 * {@linkcode select} with a `timeoutMs`: resolves {@linkcode SelectTimedOut}
 * (`index: -1`) when it passed before any branch was ready.
 *
 * @typeParam C The branches.
 * @param cases The branches: at least one.
 * @param options The timeout, an abort signal and the clock of timers.
 * @returns The winner's index and value, or `{ index: -1, value: "timed-out" }`.
 */
export function select<const C extends readonly SelectCase<unknown>[]>(
  cases: C,
  options: SelectOptions,
): Promise<SelectResult<C> | SelectTimedOut>;
export function select<const C extends readonly SelectCase<unknown>[]>(
  cases: C,
  options?: SelectOptions,
): Promise<SelectResult<C> | SelectTimedOut> {
  let branches: Branch<unknown>[];
  let clock: Clock;
  let timeoutMs: number;
  let signal: AbortSignal | undefined;
  try {
    branches = checkCases(cases);
    ({ timeoutMs, signal } = checkWait(ACTION, options));
    clock = requireClock(ACTION, "clock", options?.clock ?? MONOTONIC_CLOCK);
  } catch (error) {
    return Promise.reject(error);
  }
  const start = clock.now();
  type Out = SelectResult<C> | SelectTimedOut;
  let first: Out | undefined;
  try {
    first = poll(branches, clock, start) as Out | undefined;
  } catch (error) {
    return Promise.reject(error);
  }
  if (first !== undefined) return Promise.resolve(first);
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (timeoutMs === 0) return Promise.resolve({ index: -1, value: "timed-out" } as Out);
  const { promise, resolve, reject } = Promise.withResolvers<Out>();
  const stop = new AbortController();
  const deadlines: Deadline[] = [];
  const listeners: [AbortSignal, () => void][] = [];
  let done = false;
  const finish = (): void => {
    done = true;
    stop.abort();
    for (const d of deadlines) d.cancel();
    for (const [s, l] of listeners) s.removeEventListener("abort", l);
  };
  const attempt = (): void => {
    if (done) return;
    let winner: Out | undefined;
    try {
      winner = poll(branches, clock, start) as Out | undefined;
    } catch (error) {
      finish();
      reject(error);
      return;
    }
    if (winner === undefined) return;
    finish();
    resolve(winner);
  };
  const listen = (s: AbortSignal, l: () => void): void => {
    s.addEventListener("abort", l, { once: true });
    listeners.push([s, l]);
  };
  const fail = (error: unknown): void => {
    if (done) return;
    finish();
    reject(error);
  };
  const watch = (b: Branch<unknown>): void => {
    const again = (): void => {
      attempt();
      if (!done) watch(b);
    };
    if (b.kind === "recv") {
      b.receiver!.whenReadable({ signal: stop.signal }).then(again, fail);
    } else if (b.kind === "send") {
      b.sender!.whenWritable({ signal: stop.signal }).then(again, fail);
    } else if (b.kind === "timer") {
      deadlines.push(startDeadlineAt(clock, start + b.delayMs, attempt));
    } else {
      listen(b.signal!, attempt);
    }
  };
  for (const b of branches) watch(b);
  if (timeoutMs !== Infinity) {
    deadlines.push(startDeadline(clock, timeoutMs, () => {
      attempt(); // a branch ready at the same instant wins
      if (done) return;
      finish();
      resolve({ index: -1, value: "timed-out" } as Out);
    }));
  }
  if (signal !== undefined) {
    listen(signal, () => {
      if (done) return;
      finish();
      reject(signal.reason);
    });
  }
  return promise;
}

/** Checks the branches: a non-empty array of branches made by this module. */
function checkCases(cases: unknown): Branch<unknown>[] {
  if (!Array.isArray(cases) || cases.length === 0) {
    throw new TypeError(
      `Cannot ${ACTION} as 'cases' must be a non-empty array of branches: current value is ${
        show(cases)
      }`,
    );
  }
  return cases.map((c, i) => {
    if (!(c instanceof Branch)) {
      throw new TypeError(
        `Cannot ${ACTION} as 'cases[${i}]' must be a branch made by recvFrom(), sendTo(), after() or aborted(): current value is ${
          show(c)
        }`,
      );
    }
    return c;
  });
}

/** Runs the first ready branch, in order; `undefined` when none is. */
function poll(
  branches: readonly Branch<unknown>[],
  clock: Clock,
  start: number,
): { index: number; value: unknown } | undefined {
  for (let index = 0; index < branches.length; index++) {
    const b = branches[index]!;
    const value = pollOne(b, clock, start);
    if (value !== NOT_READY) return { index, value };
  }
  return undefined;
}

function pollOne(b: Branch<unknown>, clock: Clock, start: number): unknown {
  switch (b.kind) {
    case "recv": {
      const r = b.receiver!.tryRecv();
      return !r.ok && r.reason === "would-block" ? NOT_READY : r;
    }
    case "send":
      return b.sender!.trySend(b.value) === WOULD_BLOCK ? NOT_READY : "sent";
    case "timer":
      return clock.now() >= start + b.delayMs ? "elapsed" : NOT_READY;
    default:
      return b.signal!.aborted ? b.signal!.reason : NOT_READY;
  }
}
