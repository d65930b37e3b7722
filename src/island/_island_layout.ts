// The shared memory of an island: a control block (Int32) and one slot per
// task. The island's thread writes them; the main thread reads them without a
// message. A slot is a seqlock: the writer makes its sequence odd, writes,
// makes it even; a reader copies the slot and keeps the copy only when the
// sequence was even and unchanged around it.

import { HIST_CELLS, resetCells } from "../internal/histogram_cells.ts";

/** Cells of the control block. */
export const C_MAGIC = 0;
/** Commands from the main thread: 0 run, `CMD_STOP` stop. The loop waits on this word. */
export const C_COMMAND = 1;
/** Where the island's thread is: one of the `PHASE_*` values. */
export const C_PHASE = 2;
/** Index + 1 of the task whose run is in progress, 0 between runs. */
export const C_RUNNING = 3;
/** Runs started (wraps): a run that stays in progress keeps it unchanged. */
export const C_RUN_SEQ = 4;
/** Turns of the scheduling loop (wraps). */
export const C_BEAT = 5;
/** The spin lead the loop uses now, µs (it adapts between the least and the most). */
export const C_LEAD_US = 6;
/** Length of the control block, Int32 cells. */
export const CONTROL_CELLS = 8;
/** The magic word of a control block. */
export const CONTROL_MAGIC = 0x15_1a_4d_01;

/** The stop command. */
export const CMD_STOP = 1;

/** The island's thread started and loads the task module. */
export const PHASE_LOADING = 1;
/** It runs `init()`. */
export const PHASE_INIT = 2;
/** It runs its tasks. */
export const PHASE_RUNNING = 3;
/** It runs `dispose()`. */
export const PHASE_DISPOSING = 4;
/** It stopped. */
export const PHASE_STOPPED = 5;

/** Float64 cells of a slot, before its histograms. */
export const F_RELEASES = 0;
/** Runs started. */
export const F_RUNS = 1;
/** Runs that threw. */
export const F_FAILURES = 2;
/** Runs that ended after their deadline. */
export const F_MISSES = 3;
/** Runs over budget. */
export const F_OVERRUNS = 4;
/** Releases skipped after a stall. */
export const F_SKIPPED = 5;
/** The task's state: an index into `SLOT_STATES`. */
export const F_STATE = 6;
/** Its budget tier level. */
export const F_TIER = 7;
/** When the last error happened, island clock aligned to the main thread's. */
export const F_ERROR_AT = 8;
/** Bytes of the last error's message in the slot's text. */
export const F_ERROR_MESSAGE = 9;
/** Bytes of its stack after the message. */
export const F_ERROR_STACK = 10;
/** Overruns when the task was quarantined. */
export const F_QUARANTINE_OVERRUNS = 11;
/** The run time that quarantined it, ms. */
export const F_QUARANTINE_EXEC = 12;
/** Start of the histograms: scheduling latency, execution, lateness. */
export const F_HIST = 16;
/** The scheduling latency histogram. */
export const H_SCHED: number = F_HIST;
/** The execution time histogram. */
export const H_EXEC: number = F_HIST + HIST_CELLS;
/** The lateness histogram. */
export const H_LATE: number = F_HIST + 2 * HIST_CELLS;
/** Float64 cells of a slot. */
export const SLOT_CELLS: number = F_HIST + 3 * HIST_CELLS;
/** Bytes of a slot's error text. */
export const TEXT_BYTES = 2048;
/** Bytes of one slot: sequence word (8), cells, text. */
export const SLOT_BYTES: number = 8 + SLOT_CELLS * 8 + TEXT_BYTES;

/** The states a slot records (a run in progress shows through `C_RUNNING`). */
export const SLOT_STATES = ["created", "done", "failed", "quarantined", "cancelled"] as const;
/** A state a slot records. */
export type SlotState = typeof SLOT_STATES[number];

/** Views on one task's slot. */
export interface SlotViews {
  /** The sequence word (cell 0). */
  readonly seq: Int32Array;
  /** The figures and histograms. */
  readonly cells: Float64Array;
  /** The last error's message then stack, UTF-8. */
  readonly text: Uint8Array;
}

/** Creates the control block. */
export function createControl(): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(CONTROL_CELLS * 4);
  new Int32Array(buffer)[C_MAGIC] = CONTROL_MAGIC;
  return buffer;
}

/** Creates the slots of `tasks` tasks, each empty. */
export function createSlots(tasks: number): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(Math.max(1, tasks) * SLOT_BYTES);
  for (let i = 0; i < tasks; i++) {
    const { cells } = slotViews(buffer, i);
    for (const at of [H_SCHED, H_EXEC, H_LATE]) resetCells(cells, at);
    cells[F_ERROR_AT] = NaN;
  }
  return buffer;
}

/** The views on slot `index`. */
export function slotViews(buffer: SharedArrayBuffer, index: number): SlotViews {
  const base = index * SLOT_BYTES;
  return {
    seq: new Int32Array(buffer, base, 2),
    cells: new Float64Array(buffer, base + 8, SLOT_CELLS),
    text: new Uint8Array(buffer, base + 8 + SLOT_CELLS * 8, TEXT_BYTES),
  };
}

/** Opens a write: the sequence turns odd. */
export function beginWrite(slot: SlotViews): void {
  Atomics.add(slot.seq, 0, 1);
}

/** Closes a write: the sequence turns even again. */
export function endWrite(slot: SlotViews): void {
  Atomics.add(slot.seq, 0, 1);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Writes an error's message and stack into the slot's text (inside a write),
 * cut to fit.
 */
export function writeErrorText(
  slot: SlotViews,
  message: string,
  stack: string | undefined,
  atMs: number,
): void {
  const { text, cells } = slot;
  const m = encoder.encodeInto(message, text.subarray(0, TEXT_BYTES / 2)).written;
  const s = stack === undefined ? 0 : encoder.encodeInto(stack, text.subarray(m)).written;
  cells[F_ERROR_MESSAGE] = m;
  cells[F_ERROR_STACK] = s;
  cells[F_ERROR_AT] = atMs;
}

/** A consistent copy of a slot. */
export interface SlotCopy {
  /** Its cells. */
  readonly cells: Float64Array;
  /** Its text. */
  readonly text: Uint8Array;
  /** Whether the copy is consistent (else the writer died in a write; counts may be a run apart). */
  consistent: boolean;
}

/** Makes the buffers of a slot copy, reused across reads. */
export function newSlotCopy(): SlotCopy {
  return {
    cells: new Float64Array(SLOT_CELLS),
    text: new Uint8Array(TEXT_BYTES),
    consistent: true,
  };
}

/** Tries a seqlock read this often before keeping a copy that may be a run apart. */
const READ_TRIES = 1000;

/**
 * Copies a slot under its seqlock into `into`; never waits for the writer,
 * never hangs (a writer that died in a write leaves its sequence odd: after
 * bounded tries the last copy is kept and marked inconsistent).
 */
export function readSlot(slot: SlotViews, into: SlotCopy): SlotCopy {
  for (let i = 0; i < READ_TRIES; i++) {
    const before = Atomics.load(slot.seq, 0);
    into.cells.set(slot.cells);
    into.text.set(slot.text);
    if ((before & 1) === 0 && Atomics.load(slot.seq, 0) === before) {
      into.consistent = true;
      return into;
    }
  }
  into.consistent = false;
  return into;
}

/** The last error's message and stack from a slot copy. */
export function errorText(copy: SlotCopy): { message: string; stack: string | undefined } {
  const m = copy.cells[F_ERROR_MESSAGE]!;
  const s = copy.cells[F_ERROR_STACK]!;
  return {
    message: decoder.decode(copy.text.subarray(0, m)),
    stack: s === 0 ? undefined : decoder.decode(copy.text.subarray(m, m + s)),
  };
}
