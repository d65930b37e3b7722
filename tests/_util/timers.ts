// Scopes for tests of code that keeps time on `Atomics.waitAsync`
// (`src/time/_wait_timer.ts`). A pending wait alone does not hold the event
// loop: such tests hold it with `holdEventLoop()` (src/data/_hold_event_loop.ts).

/** Makes the global `setTimeout` and `setInterval` throw while in scope. */
export function noGlobalTimers(): Disposable {
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = { setTimeout: g.setTimeout, setInterval: g.setInterval };
  g.setTimeout = g.setInterval = () => {
    throw new Error("a global timer was used");
  };
  return { [Symbol.dispose]: () => Object.assign(globalThis, saved) };
}
