// The adaptive spin-then-wait of a ring end. Before a wait sleeps on its
// signal word (a futex: the other side then pays a wake-up, and this side
// wakes 50-100 µs late), it spins on the ring: a look at the other side's
// index, a pause that leaves that index's cache line alone, another look.
//
// - Spin budget: how many rounds a wait spins on an empty ring (nothing
//   ready) before it sleeps. A wait whose spin succeeded doubles it, and so
//   does one that slept but was woken ready within SHORT_SLEEP_MS, or to a
//   whole batch within LATE_WAKE_MS (the other side was busy: a longer spin
//   would have saved the sleep and the other side's wake-up), up to
//   MAX_ROUNDS and MAX_SPIN_MS; a wait that slept longer for less, timed
//   out or closed quarters it, down to MIN_ROUNDS. So a busy stream rarely
//   sleeps, and an idle end spins a few microseconds per wait, then sleeps
//   (no CPU).
// - Coalescing: while the stream is busy, a wait that finds a few units
//   ready (frames for a reader, credit for a writer) keeps waiting, looking
//   every COALESCE_PAUSE_MS while more keep arriving, until a batch (a
//   quarter of the slots, at most MAX_BATCH) is there, for at most
//   COALESCE_MS. The writer publishes every frame with a full fence, which
//   waits for the frame's cache lines and the index's; a reader that looks
//   at the index rarely and trails the writer by a batch leaves those lines
//   alone, so the fences stay cheap (measured: 1.5x the frames per second
//   at 1 KiB). A wait that finds the stream paused (no new unit since its
//   last look) returns at once: coalescing delays frames only while more
//   are coming, and by at most COALESCE_MS.
//
// Decisions are functions of counts and elapsed times, and the clock is
// injected, so tests drive them on a fake clock.

import type { Clock } from "../time/clock.ts";

/** Fewest rounds a wait spins on an empty ring before it sleeps. */
export const MIN_ROUNDS = 16;
/** Most rounds a wait spins on an empty ring before it sleeps. */
export const MAX_ROUNDS = 512;
/** The pause between two looks at an empty ring. */
export const SPIN_PAUSE_MS = 0.0002;
/** The pause between two looks while a batch fills. */
export const COALESCE_PAUSE_MS = 0.002;
/** The longest a wait collects a batch. */
export const COALESCE_MS = 0.05;
/** The largest batch a wait collects. */
export const MAX_BATCH = 256;
/**
 * The longest a spin runs, whatever its budget (the wall-clock cap). Longer
 * spins would bridge more of the other side's wake-up latency on a quiet
 * machine, but on a machine whose cores are all busy a spinning end takes
 * the core the other side needs: measured, 0.5 ms made a loaded 2-core VM
 * ten times slower.
 */
export const MAX_SPIN_MS = 0.1;
/** A sleep woken ready within this long was short: a longer spin would have saved it. */
export const SHORT_SLEEP_MS = 0.1;
/**
 * A sleep woken to a whole batch within this long was a late wake-up on a
 * busy stream, not an idle one; longer ones (a preempted thread on a loaded
 * machine) do not grow the spin.
 */
export const LATE_WAKE_MS = 1;
/** Clock reads a pause makes at most (a clock that stands still cannot trap it). */
const MAX_PAUSE_READS = 256;
/** Waits in a row that must not sleep before the stream counts as busy (and coalesces). */
const BUSY_STREAK = 2;

/** What a spin does after a look at the ring. */
export type SpinStep = "ready" | "spin" | "sleep";

/** The adaptive spin state of one ring end: its budget, the stream's business, and counters. */
export class RingSpin {
  /** Units (frames, credit) that make a batch: a wait returns at once when this many are ready. */
  readonly batch: number;
  /** Rounds the next wait spins before it sleeps. */
  budget: number = MIN_ROUNDS;
  /** Waits in a row that ended without sleeping. */
  streak = 0;
  /** Waits that ended ready while spinning (or at once). */
  hits = 0;
  /** Waits whose spin ran out (they went to sleep). */
  misses = 0;
  /** Sleeps that ended ready within {@linkcode SHORT_SLEEP_MS} or to a whole batch. */
  shortSleeps = 0;
  /** Rounds spent waiting for a batch to fill (some units were ready). */
  coalesced = 0;

  /**
   * @param slots The ring's slots: a batch is a quarter of them, at most
   *   {@linkcode MAX_BATCH}.
   */
  constructor(slots: number) {
    this.batch = Math.max(1, Math.min(MAX_BATCH, slots >> 2));
  }

  /** Whether the stream is busy: the last waits did not sleep. */
  get busy(): boolean {
    return this.streak >= BUSY_STREAK;
  }

  /**
   * Decides what a spin does after a look at the ring.
   *
   * @param ready Units ready now.
   * @param previous Units ready at the previous look (0 at the first).
   * @param round Rounds spun so far.
   * @param coalescingMs How long this wait has been collecting a batch (0
   *   until it first saw units ready).
   */
  step(ready: number, previous: number, round: number, coalescingMs: number): SpinStep {
    if (ready <= 0) return round < this.budget ? "spin" : "sleep";
    if (ready >= this.batch || !this.busy) return "ready";
    // A few ready on a busy stream: wait for a batch while they keep coming.
    return coalescingMs < COALESCE_MS && (previous === 0 || ready > previous) ? "spin" : "ready";
  }

  /** A wait ended ready without sleeping. */
  hit(): void {
    this.hits++;
    if (this.streak < BUSY_STREAK) this.streak++;
    this.#grow();
  }

  /** A wait's spin ran out: it sleeps (see {@linkcode RingSpin.woke}). */
  miss(): void {
    this.misses++;
  }

  /**
   * A wait that slept ended.
   *
   * @param ready Whether it ended ready (not timed out, closed or aborted).
   * @param sleptMs How long it slept.
   * @param units Units ready when it woke.
   */
  woke(ready: boolean, sleptMs: number, units: number): void {
    // Woken soon, or to a whole batch (the other side was busy all along, the
    // wake-up was late): a longer spin would have saved the sleep. Without
    // this, two ends that sleep in turn (the writer on a full ring, the
    // reader on an empty one) would take each other's late wake-ups for an
    // idle stream and keep sleeping.
    if (ready && (sleptMs < SHORT_SLEEP_MS || (units >= this.batch && sleptMs < LATE_WAKE_MS))) {
      this.shortSleeps++;
      this.#grow();
      return;
    }
    this.streak = 0;
    this.budget = Math.max(MIN_ROUNDS, this.budget >> 2);
  }

  #grow(): void {
    if (this.budget < MAX_ROUNDS) this.budget = Math.min(MAX_ROUNDS, this.budget * 2);
  }
}

/**
 * Spins on the ring before a wait sleeps (see the top of this file).
 *
 * @param spin The end's spin state.
 * @param units Units ready now (frames or credit); 0 when none.
 * @param ready Whether the wait is over: checked before returning `true`.
 * @param clock The clock that paces the pauses and caps the spin.
 * @returns Whether the wait is over (ready); `false`: sleep.
 */
export function spinWait(
  spin: RingSpin,
  units: () => number,
  ready: () => boolean,
  clock: Clock,
): boolean {
  let seen = units();
  let previous = 0;
  let round = 0;
  let start = -1;
  let coalesceStart = -1;
  let now = 0;
  for (;;) {
    const step = spin.step(seen, previous, round, coalesceStart < 0 ? 0 : now - coalesceStart);
    if (step === "ready") {
      if (!ready()) return false;
      spin.hit();
      return true;
    }
    if (step === "sleep") {
      spin.miss();
      return false;
    }
    const from = clock.now();
    if (start < 0) start = from;
    if (seen > 0) {
      if (coalesceStart < 0) coalesceStart = from;
      spin.coalesced++;
    }
    now = pauseUntil(clock, from + (seen > 0 ? COALESCE_PAUSE_MS : SPIN_PAUSE_MS));
    round++;
    previous = seen;
    seen = units();
    if (now - start >= MAX_SPIN_MS) {
      // The cap: rounds that run slow (a busy machine) end the spin all the same.
      if (seen > 0 && ready()) {
        spin.hit();
        return true;
      }
      spin.miss();
      return false;
    }
  }
}

/** Reads the clock until `until` (a bounded number of reads); returns the last reading. */
function pauseUntil(clock: Clock, until: number): number {
  let now = clock.now();
  for (let i = 1; now < until && i < MAX_PAUSE_READS; i++) now = clock.now();
  return now;
}
