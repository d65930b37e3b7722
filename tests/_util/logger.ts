import type { Logger } from "../../src/logger.ts";

/** A logger that keeps every line, by level, for tests to assert on. */
export interface RecordingLogger extends Logger {
  /** Every line, as `level: message`, in order. */
  readonly lines: string[];
}

/** Returns a logger that records lines instead of printing them. */
export function recordingLogger(): RecordingLogger {
  const lines: string[] = [];
  return {
    lines,
    error: (message) => void lines.push(`error: ${message}`),
    warn: (message) => void lines.push(`warn: ${message}`),
    info: (message) => void lines.push(`info: ${message}`),
  };
}

/** A logger that drops every line. */
export const SILENT_LOGGER: Logger = { error() {}, warn() {}, info() {} };
