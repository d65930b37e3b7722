// Helpers of the channel tests: watch a promise settle without awaiting it.

/** A promise under watch: whether it settled, and how. */
export interface Tracked<T> {
  readonly settled: boolean;
  readonly value: T | undefined;
  readonly error: unknown;
  readonly promise: Promise<T>;
}

/** Watches `promise`; its state shows once the microtasks ran (see {@linkcode flush}). */
export function track<T>(promise: Promise<T>): Tracked<T> {
  const state = { settled: false, value: undefined as T | undefined, error: undefined as unknown };
  const tracked = {
    get settled() {
      return state.settled;
    },
    get value() {
      return state.value;
    },
    get error() {
      return state.error;
    },
    promise,
  };
  promise.then((v) => {
    state.settled = true;
    state.value = v;
  }, (e) => {
    state.settled = true;
    state.error = e;
  });
  return tracked;
}

/** Lets every pending microtask (promise reaction chain) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
