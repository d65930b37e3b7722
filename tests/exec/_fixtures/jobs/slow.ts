/** Waits `ms` (async), or until aborted; resolves with how it ended. */
export default function slow(ms: number, { signal }: { signal: AbortSignal }): Promise<string> {
  return new Promise((resolve) => {
    const id = setTimeout(() => resolve("finished"), ms);
    signal.addEventListener("abort", () => {
      clearTimeout(id);
      resolve("aborted");
    });
  });
}
