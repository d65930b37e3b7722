// Keeping the shape of a ring end alive between rings.
//
// V8 gives the objects of a class a shape (a hidden class) and specialises
// optimized code to it, but holds a shape only while some object has it.
// When a process's last ring writer (or reader) is collected, its shape goes
// too, and V8 throws away every optimized function that embedded it (the
// `send()` path and `poll()`: "embedded weak objects cleared" in
// `--trace-deopt`). The next ring gets a new shape and streams in the
// interpreter and baseline code until the JIT has warmed up again, and call
// sites that saw the old shape count the new one as a second. Measured in
// `bench:dataport` (a fresh ring for each round, garbage collected between
// rounds): the 1 KiB ring ran at 0.31-0.39x the floor after the 64 B case
// had run, 0.56-0.60x with the shapes kept.
//
// So each kind of end keeps one closed end of a ring of two 8-byte slots
// (about 600 bytes) for the life of the process, made the first time an end
// of that kind is constructed. Rings that come and go, one per island,
// plugin or stream, then stay on the optimized path.

/** The kept ends, by the class that asked; `null` while one is being made. */
const kept = new Map<abstract new (...args: never[]) => object, object | null>();

/**
 * Makes and keeps one closed instance of `type` the first time it is
 * called for that class; a no-op after (and while the keeper itself is
 * being constructed, which calls it again).
 *
 * @param type The class whose shape to keep.
 * @param make Constructs a closed instance of `type` on a ring of its own.
 */
export function keepShape<T extends object>(
  type: abstract new (...args: never[]) => T,
  make: () => T,
): void {
  if (kept.has(type)) return;
  kept.set(type, null);
  try {
    kept.set(type, make());
  } catch {
    // Only an optimization: the end being constructed, which has claimed its
    // side by now, must not fail because its keeper could not be made (out
    // of memory). It is tried again with the next end.
    kept.delete(type);
  }
}
