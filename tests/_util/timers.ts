// Scopes for tests of code that keeps time on `Atomics.waitAsync`
// (`src/time/_wait_timer.ts`).

/**
 * Holds the event loop open while in scope: a pending `Atomics.waitAsync`
 * alone does not (denoland/deno#15358), so a test awaiting one would end
 * with its promise still pending.
 */
export function keepAlive(): Disposable {
  const { port1, port2 } = new MessageChannel();
  port1.onmessage = () => {};
  return {
    [Symbol.dispose]: () => {
      port1.close();
      port2.close();
    },
  };
}

/** Makes the global `setTimeout` and `setInterval` throw while in scope. */
export function noGlobalTimers(): Disposable {
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = { setTimeout: g.setTimeout, setInterval: g.setInterval };
  g.setTimeout = g.setInterval = () => {
    throw new Error("a global timer was used");
  };
  return { [Symbol.dispose]: () => Object.assign(globalThis, saved) };
}
