// The protocol between a remote host (worker, process) and the plugin-side
// runtime: the messages each way, the ops a batch carries, the shared block a
// worker plugin writes its liveness into, error records, and the framing of
// the process host's stdio (a magic byte, a big-endian u32 length, JSON).
// Shared by both ends, so it imports nothing of the kernel.

/** The hooks a host calls, `load` included (it checks the module). */
/** A hook the host calls in the plugin's thread or process. */
import type { PluginHookName } from "./_hook_guard.ts";
export type RemoteHook = PluginHookName;

/** An error as it crosses a thread or process boundary. */
export interface ErrorInfo {
  name: string;
  message: string;
  stack?: string;
  code?: string;
}

/** What the runtime needs to know from the manifest and the host. */
export interface RemoteHello {
  t: "hello";
  name: string;
  version: string;
  isolation: "worker" | "process";
  capabilities: string[];
  taskBudgetMs: number;
  heartbeatMs: number;
  /** How long the runtime holds ops before it sends them, ms. */
  flushMs: number;
  /** Ops the runtime may have sent that the host did not acknowledge; past it, publishes are dropped. */
  maxInflight: number;
  /** Metric limits (the host checks them again). */
  maxFamilies: number;
  /** The shared block (worker host only). */
  block?: SharedArrayBuffer;
}

/** Host → plugin. */
export type HostMessage =
  | RemoteHello
  | { t: "call"; id: number; hook: RemoteHook; arg?: unknown }
  /** Events of subscriptions: `[subscriptionId, event]` pairs. */
  | { t: "ev"; batch: [number, unknown][] }
  /** The host took `n` more ops. */
  | { t: "ack"; n: number }
  /** The answer to a port open (`do`): the port's send window, or why not. */
  | { t: "port"; id: number; ok: true; credit: number }
  | { t: "port"; id: number; ok: false; error: ErrorInfo }
  /** The kernel's port took `n` more of the plugin's frames: that much credit back. */
  | { t: "pc"; id: number; n: number }
  /** Frames for a consuming plugin: `[frameId, bytes]` pairs. */
  | { t: "pf"; id: number; frames: [number, PackedBytes][] }
  /** The kernel's port closed (or refused the plugin as its consumer). */
  | { t: "px"; id: number; reason: string }
  /** The host waits for the instance to be idle: send the queued ops (their acks) now. */
  | { t: "flush" }
  /** The host is done with the instance. */
  | { t: "bye" };

/**
 * One op of a batch, plugin → host (arrays keep batches small):
 * `r` result, `p` publish, `s` subscribe, `u` unsubscribe, `l` log, `md`
 * metric declared, `m` metric samples, `c` crash, `x` exit, `t` task declared,
 * `h` heartbeat with counters, `ea` events taken, `do` data port opened,
 * `ds` frame sent on it, `dc` the plugin consumes it, `dr` frames recycled.
 */
export type Op =
  | ["r", number, true, unknown]
  | ["r", number, false, ErrorInfo]
  | ["p", string, unknown]
  | ["s", number, string]
  | ["u", number]
  | ["l", "error" | "warn" | "info", string]
  | ["md", number, "counter" | "gauge" | "histogram", Record<string, unknown>]
  | ["m", number, string[], "inc" | "set" | "obs", number | number[]]
  | ["c", string, ErrorInfo]
  | ["x", string]
  | ["t", number, string, number]
  | ["h", Counters]
  | ["ea", number]
  | ["do", number, string]
  | ["ds", number, PackedBytes]
  | ["dc", number]
  | ["dr", number, number[]];

/**
 * Plugin → host: `up` once the runtime listens, then batches of ops in the
 * order they happened; `gone` from a heap-limited worker's relay when its
 * inner thread ended.
 */
export type PluginMessage =
  | { t: "up" }
  | { t: "batch"; ops: Op[] }
  | { t: "gone"; oom: boolean; code: number; message: string | undefined };

/**
 * Frame bytes on the wire: as they are through a worker's message port (a
 * structured clone copies them), base64 in a process's JSON frames.
 */
export type PackedBytes = Uint8Array | string;

const BASE64_CHUNK = 0x8000;

/**
 * Packs frame bytes for a transport.
 *
 * @param bytes The bytes (copied).
 * @param text Whether the transport carries text only (a process's frames).
 */
export function packBytes(bytes: Uint8Array, text: boolean): PackedBytes {
  if (!text) return bytes.slice();
  let binary = "";
  for (let i = 0; i < bytes.length; i += BASE64_CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + BASE64_CHUNK));
  }
  return btoa(binary);
}

/**
 * Unpacks frame bytes; throws a `TypeError` for anything but packed bytes.
 *
 * @param value What the other end sent.
 */
export function unpackBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") {
    let binary: string;
    try {
      binary = atob(value);
    } catch {
      throw new TypeError("Cannot read a frame as its bytes must be base64: current value is not");
    }
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }
  throw new TypeError(
    `Cannot read a frame as its bytes must be a Uint8Array or a base64 string: current value is ${typeof value}`,
  );
}

/** The counters a process plugin sends with each heartbeat. */
export interface Counters {
  calls: number;
  taskRuns: number;
  handlerCalls: number;
  errors: number;
  tasks: number;
  subscriptions: number;
  dropped: number;
}

// The shared block of a worker plugin (Int32 cells; the plugin thread is its
// only writer, the host reads it with Atomics).
/** A magic word. */
export const B_MAGIC = 0;
/** Heartbeats (wraps): bumped every `heartbeatMs` by a timer of the plugin's thread. */
export const B_BEAT = 1;
/** Index + 1 of the task whose synchronous run is in progress; `HOOK_RUNNING` in a hook; 0 else. */
export const B_RUNNING = 2;
/** Runs and hook calls started (wraps). */
export const B_RUN_SEQ = 3;
/** Calls into the plugin's code (hooks, task runs, handler calls). */
export const B_CALLS = 4;
/** Task runs. */
export const B_TASK_RUNS = 5;
/** Handler calls. */
export const B_HANDLER_CALLS = 6;
/** Runs and calls that threw. */
export const B_ERRORS = 7;
/** Tasks declared. */
export const B_TASKS = 8;
/** Live subscriptions. */
export const B_SUBSCRIPTIONS = 9;
/** Publishes dropped by backpressure. */
export const B_DROPPED = 10;
/** First per-task cell: each task has `TASK_CELLS` (runs, errors, last run µs). */
export const B_TASK_BASE = 16;
/** Cells per task. */
export const TASK_CELLS = 3;
/** Tasks with their own counters in the block (later ones count only in the totals). */
export const MAX_BLOCK_TASKS = 64;
/** Length of the block, Int32 cells. */
export const BLOCK_CELLS: number = B_TASK_BASE + MAX_BLOCK_TASKS * TASK_CELLS;
/** The block's magic word. */
export const BLOCK_MAGIC = 0x9106_0001;
/** `B_RUNNING` while a hook runs. */
export const HOOK_RUNNING = -1;

/** Makes a shared block. */
export function createBlock(): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(BLOCK_CELLS * 4);
  new Int32Array(buffer)[B_MAGIC] = BLOCK_MAGIC;
  return buffer;
}

/** An error (or anything thrown) as a plain record. */
export function errorInfo(error: unknown): ErrorInfo {
  try {
    if (error instanceof Error) {
      const info: ErrorInfo = { name: String(error.name), message: String(error.message) };
      if (typeof error.stack === "string") info.stack = error.stack;
      const code = (error as { code?: unknown }).code;
      if (typeof code === "string") info.code = code;
      return info;
    }
    return { name: "Error", message: typeof error === "string" ? error : JSON.stringify(error) };
  } catch {
    return { name: "Error", message: "a value that cannot be described (its properties throw)" };
  }
}

/** An error record back as an Error (name, message, stack kept). */
export function toError(info: ErrorInfo): Error {
  const error = new Error(info.message);
  error.name = info.name;
  if (info.stack !== undefined) error.stack = info.stack;
  if (info.code !== undefined) (error as { code?: string }).code = info.code;
  return error;
}

/** The first byte of every frame. */
export const FRAME_MAGIC = 0xc7;
/** Bytes before a frame's body: the magic byte and the u32 length. */
export const FRAME_HEADER = 5;
/** The largest frame body, bytes. */
export const MAX_FRAME_BYTES: number = 64 * 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Encodes a message as one frame. */
export function encodeFrame(message: unknown): Uint8Array {
  const body = encoder.encode(JSON.stringify(message));
  if (body.length > MAX_FRAME_BYTES) {
    throw new RangeError(
      `Cannot send a message as its frame must be at most ${MAX_FRAME_BYTES} bytes: current size is ${body.length}`,
    );
  }
  const frame = new Uint8Array(FRAME_HEADER + body.length);
  frame[0] = FRAME_MAGIC;
  new DataView(frame.buffer).setUint32(1, body.length);
  frame.set(body, FRAME_HEADER);
  return frame;
}

/** A stream of bytes was not a sequence of frames. */
export class FrameError extends Error {
  /**
   * Creates the error.
   *
   * @param message What was wrong.
   */
  constructor(message: string) {
    super(message);
    this.name = "FrameError";
  }
}

/** Splits a byte stream into decoded messages; throws a {@linkcode FrameError} on bad input. */
export class FrameReader {
  #buffer: Uint8Array = new Uint8Array(4096);
  #length = 0;
  /** Bytes taken so far. */
  offset = 0;

  /**
   * Takes more bytes.
   *
   * @returns The messages they complete.
   */
  push(chunk: Uint8Array): unknown[] {
    if (this.#length + chunk.length > this.#buffer.length) {
      let size = this.#buffer.length;
      while (size < this.#length + chunk.length) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.#buffer.subarray(0, this.#length));
      this.#buffer = grown;
    }
    this.#buffer.set(chunk, this.#length);
    this.#length += chunk.length;
    const messages: unknown[] = [];
    let at = 0;
    while (this.#length - at >= 1) {
      if (this.#buffer[at] !== FRAME_MAGIC) {
        throw new FrameError(
          `Cannot read a frame at byte ${this.offset + at} as it must start with 0x${
            FRAME_MAGIC.toString(16)
          }: current byte is 0x${this.#buffer[at]!.toString(16)} (${
            preview(this.#buffer.subarray(0, this.#length), at)
          })`,
        );
      }
      if (this.#length - at < FRAME_HEADER) break;
      const size = new DataView(this.#buffer.buffer, this.#buffer.byteOffset + at + 1, 4)
        .getUint32(0);
      if (size > MAX_FRAME_BYTES) {
        throw new FrameError(
          `Cannot read a frame at byte ${
            this.offset + at
          } as its length must be at most ${MAX_FRAME_BYTES}: current value is ${size}`,
        );
      }
      if (this.#length - at - FRAME_HEADER < size) break;
      const body = this.#buffer.subarray(at + FRAME_HEADER, at + FRAME_HEADER + size);
      try {
        messages.push(JSON.parse(decoder.decode(body)));
      } catch (error) {
        throw new FrameError(
          `Cannot read the frame at byte ${this.offset + at} as its body is not UTF-8 JSON: ${
            error instanceof Error ? error.message : String(error)
          }`,
        );
      }
      at += FRAME_HEADER + size;
    }
    if (at > 0) {
      this.#buffer.copyWithin(0, at, this.#length);
      this.#length -= at;
      this.offset += at;
    }
    return messages;
  }

  /** Bytes held that do not make a whole frame yet. */
  get pending(): number {
    return this.#length;
  }
}

function preview(buffer: Uint8Array, at: number): string {
  const bytes = buffer.subarray(at, Math.min(at + 40, buffer.length));
  return JSON.stringify(new TextDecoder().decode(bytes));
}
