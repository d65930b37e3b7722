// Folder-private helpers of the plugin layer.

/** An error's message for a log line or report, whatever was thrown; never throws. */
export function describeError(error: unknown): string {
  try {
    if (error instanceof Error) return String(error.message);
    return typeof error === "string" ? error : String(error);
  } catch {
    return "an error that cannot be described";
  }
}
