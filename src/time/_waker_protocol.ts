// Shared-memory protocol between the Driver's waker (main thread) and the
// waker Worker: four Int32 cells, then one Float64 target time on the main
// thread's performance.now() timeline.

/** Indices and sizes of the shared block, passed to the worker program. */
export interface WakerLayout {
  /** Bumped by the main thread for every new request (or stop). */
  seq: number;
  /** Bumped by the worker each time it wakes the main thread. */
  wake: number;
  /** Set to 1 to make the worker exit its loop and close itself. */
  stop: number;
  /** Set to 1 by the worker once it runs. */
  ready: number;
  /** Byte offset of the Float64 target time. */
  targetOffset: number;
  /** How often an idle worker re-checks the stop flag, in milliseconds. */
  idleRecheckMs: number;
  /** The most the worker aims early (and so spins) to cover its own oversleep, in ms. */
  maxEarlyMs: number;
}

/** The layout both sides use. */
export const LAYOUT: Readonly<WakerLayout> = {
  seq: 0,
  wake: 1,
  stop: 2,
  ready: 3,
  targetOffset: 16,
  idleRecheckMs: 1000,
  maxEarlyMs: 0.4,
};

/** Total size of the shared block in bytes. */
export const BLOCK_BYTES = 24;
