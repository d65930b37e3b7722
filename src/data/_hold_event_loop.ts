// Keeps the event loop alive while a main-thread wait sleeps on shared
// memory: a pending `Atomics.waitAsync` does not (denoland/deno#15358), so
// without this a process whose only work is such a wait would exit.

/**
 * Keeps the event loop alive until disposed.
 *
 * @returns A handle that releases the event loop.
 */
export function holdEventLoop(): Disposable {
  const id = setInterval(() => {}, 2 ** 31 - 1);
  return { [Symbol.dispose]: () => clearInterval(id) };
}
