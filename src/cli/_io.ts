// Where the CLI's commands write: stdout and stderr lines, replaceable in tests.

/** The CLI's output. */
export interface CliIo {
  /** A line on stdout. */
  out(line: string): void;
  /** A line on stderr. */
  err(line: string): void;
}

/** The process's stdout and stderr. */
export const PROCESS_IO: CliIo = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

/** Exit codes of `chronetix` (docs/cli.md). */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** Failed at run time (start-up, a check that found problems, a bench that failed). */
  failed: 1,
  /** Bad usage or a bad config. */
  usage: 2,
  /** Forced down by a second signal. */
  forced: 130,
} as const;
