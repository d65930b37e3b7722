/**
 * Where a component reports what a person should read: a failed task or
 * handler, a worker replaced, a cardinality limit hit. `console` is one, so
 * `logger: console` works; the kernel hands its logger to every part it
 * builds, so one option routes every line.
 */
export interface Logger {
  /** Something failed and was contained. */
  error(message: string): void;
  /** Something needs attention. */
  warn(message: string): void;
  /** For information. */
  info(message: string): void;
}

/** The default logger: the global `console`. The only place `src/` writes to it. */
export const CONSOLE_LOGGER: Logger = {
  error: (message) => console.error(message),
  warn: (message) => console.warn(message),
  info: (message) => console.info(message),
};
