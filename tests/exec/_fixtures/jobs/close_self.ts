/** Closes its own worker (`self.close()`), as a Web Worker script may. */
export default function closeSelf(): Promise<never> {
  (globalThis as unknown as { self: { close(): void } }).self.close();
  return new Promise(() => {});
}
