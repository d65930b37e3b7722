// The body every subject of bench:plugins `call-overhead` runs: the same
// closure as a kernel task (`kernel-task`) and as a plugin task (inline,
// worker, process), so what differs is the cost of running it.

/** What the bench sends to start a round of runs. */
export interface Go {
  /** The round's number (names the task). */
  round: number;
  /** Runs in this round. */
  runs: number;
  /** The task's period, ms. */
  periodMs: number;
}

/**
 * A tiny body: a multiply-add on a checksum; after `runs` runs it calls
 * `done` with the checksum (once).
 */
export function tinyBody(runs: number, done: (acc: number) => void): () => void {
  let k = 0;
  let acc = 0;
  return () => {
    if (k >= runs) return;
    acc = (acc * 31 + k) | 0;
    if (++k === runs) done(acc);
  };
}
