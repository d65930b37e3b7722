/** An async job that loops forever after its first await: no job on record runs, yet the worker answers nothing. */
export default async function spinLater(): Promise<never> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  for (;;) {
    // spin
  }
}
