// A cheap fingerprint of a plugin's files (path, size and modification time
// of every file under its file: import roots), so a reload of a worker or
// process plugin whose files did not change can re-use the import audit of
// its previous load instead of running `deno info` again.
//
// It is taken on the kernel's thread at the start of a hot switch, so it is
// walked with synchronous stats in slices of about a millisecond, with one
// awaited stat between slices: one awaited stat per file costs an event-loop
// turn each (3-9 ms for the 44 files of the bench's plugin folder during a
// switch under a 1 kHz producer, against 0.6 ms in slices), and one
// synchronous walk of a large tree would block the kernel's tasks.

/** At most this many files are fingerprinted; past it the fingerprint is `undefined` (audit again). */
const MAX_FILES = 2000;

/** The longest synchronous slice of the walk, ms. */
const SLICE_MS = 1;

/**
 * The fingerprint of the files under `roots` (`file:` URLs of folders or
 * files; others are skipped), or `undefined` when it cannot be taken (a
 * root that cannot be read, too many files, a non-file root).
 */
export async function fingerprint(roots: readonly string[]): Promise<string | undefined> {
  const parts: string[] = [];
  const walk = new Walk(parts);
  try {
    for (const root of roots) {
      if (!root.startsWith("file:")) return undefined; // npm:, jsr:, https: roots: audit again
      if (!(await walk.run(decodeURIComponent(new URL(root).pathname)))) return undefined;
    }
  } catch {
    return undefined;
  }
  return parts.join("\n");
}

/** A depth-first walk in sorted order that yields between slices. */
class Walk {
  readonly #parts: string[];
  #sliceStart = performance.now();

  constructor(parts: string[]) {
    this.#parts = parts;
  }

  /** Walks `path`; false when there are too many files. */
  async run(path: string): Promise<boolean> {
    const pending = [path];
    while (pending.length > 0) {
      const next = pending.pop()!;
      let info: Deno.FileInfo;
      if (performance.now() - this.#sliceStart > SLICE_MS) {
        // The slice is over: this stat goes through the event loop, which
        // lets the kernel's tasks run.
        info = await Deno.stat(next);
        this.#sliceStart = performance.now();
      } else {
        info = Deno.statSync(next);
      }
      if (info.isFile) {
        this.#parts.push(`${next} ${info.size} ${info.mtime?.getTime() ?? "?"}`);
        if (this.#parts.length > MAX_FILES) return false;
      } else if (info.isDirectory) {
        const names: string[] = [];
        for (const e of Deno.readDirSync(next)) names.push(e.name);
        // Sorted, pushed in reverse so they pop in order.
        names.sort().reverse();
        for (const name of names) pending.push(`${next.replace(/\/$/, "")}/${name}`);
      }
    }
    return true;
  }
}
