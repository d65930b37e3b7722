// Watch mode: Deno.watchFs on a plugin's folder; a change to one of the
// plugin's own files (its import graph and its manifest, when known) is
// debounced on the kernel's driver, then the plugin is reloaded. A failed
// reload is reported by the manager and the old version keeps running.

import type { Driver } from "../time/driver.ts";
import type { Logger } from "../logger.ts";
import { describeError } from "./_describe.ts";
import { auditImports } from "./import_audit.ts";
import type { ResolvedManifest } from "./manifest_types.ts";

/** How long the watcher waits after the last change before it reloads, ms. */
export const WATCH_DEBOUNCE_MS = 200;

/** Options of a {@linkcode PluginWatcher}. */
export interface PluginWatcherOptions {
  folder: URL;
  driver: Driver;
  logger: Logger;
  reload: () => Promise<void>;
  debounceMs?: number;
  /**
   * The plugin's files (absolute paths): asked at the start and after each
   * reload (imports change). Only a change to one of them reloads; without
   * it, or while it resolves `undefined` (the graph cannot be read), any
   * change in the folder does.
   */
  files?: () => Promise<ReadonlySet<string> | undefined>;
}

/** Watches one folder and calls `reload` once per burst of changes. */
export class PluginWatcher {
  readonly #options: PluginWatcherOptions;
  #watcher: Deno.FsWatcher | undefined;
  #timer: { cancel(): boolean } | undefined;
  #running: Promise<void> = Promise.resolve();
  #closed = false;
  #files: ReadonlySet<string> | undefined;
  /** Paths changed before the plugin's files were first known; `undefined` once they are. */
  #early: string[] | undefined;
  /** Reloads started so far. */
  reloads = 0;

  constructor(options: PluginWatcherOptions) {
    this.#options = options;
    try {
      this.#watcher = Deno.watchFs(decodeURIComponent(options.folder.pathname), {
        recursive: true,
      });
    } catch (error) {
      options.logger.warn(
        `Cannot watch ${options.folder.href} for hot reload: ${describeError(error)}`,
      );
      return;
    }
    this.#refreshFiles();
    void this.#loop(this.#watcher);
  }

  /** A change happened now (also what each file-system event does). */
  changed(): void {
    if (this.#closed) return;
    this.#timer?.cancel();
    try {
      this.#timer = this.#options.driver.after(
        this.#options.debounceMs ?? WATCH_DEBOUNCE_MS,
        () => this.#fire(),
        { latenessClass: "plugin-watch" },
      );
    } catch {
      // The driver is closed: the kernel is going down.
    }
  }

  /** Resolves when the reload or the read of the plugin's files under way (if any) is over. */
  settled(): Promise<void> {
    return this.#running;
  }

  /** Stops watching. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#timer?.cancel();
    try {
      this.#watcher?.close();
    } catch {
      // Already closed.
    }
  }

  async #loop(watcher: Deno.FsWatcher): Promise<void> {
    try {
      for await (const event of watcher) {
        if (event.kind === "modify" || event.kind === "create" || event.kind === "rename") {
          const files = this.#files;
          if (this.#early !== undefined) this.#early.push(...event.paths);
          else if (files === undefined || event.paths.some((p) => files.has(p))) this.changed();
        }
      }
    } catch (error) {
      if (!this.#closed) {
        this.#options.logger.warn(`Hot-reload watch ended: ${describeError(error)}`);
      }
    }
  }

  #fire(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    this.reloads++;
    this.#running = this.#running.then(() => this.#options.reload()).catch((error) => {
      this.#options.logger.error(`Hot reload after a change failed: ${describeError(error)}`);
    }).then(() => this.#refreshFiles());
  }

  #refreshFiles(): void {
    const files = this.#options.files;
    if (files === undefined) return;
    if (this.#files === undefined) this.#early ??= [];
    this.#running = this.#running.then(files).catch(() => undefined).then((set) => {
      // A graph that cannot be read now (a file being edited) keeps the last one.
      if (set !== undefined) this.#files = set;
      const early = this.#early;
      this.#early = undefined;
      if (early === undefined || early.length === 0) return;
      const known = this.#files;
      if (known === undefined || early.some((p) => known.has(p))) this.changed();
    });
  }
}

/**
 * A plugin's own files, as absolute paths: the local modules of its import
 * graph (read with `deno info`, as the import audit does) and its manifest
 * file. `undefined` when the graph cannot be read (no `--allow-run`, a file
 * that does not parse, an import outside the roots).
 */
export async function pluginFiles(
  manifest: ResolvedManifest,
): Promise<ReadonlySet<string> | undefined> {
  let modules: readonly string[];
  try {
    modules = (await auditImports(manifest, { timeoutMs: 30_000 })).modules;
  } catch {
    return undefined;
  }
  const files = new Set<string>();
  for (const href of [...modules, manifest.manifestUrl?.href]) {
    if (href?.startsWith("file:")) files.add(decodeURIComponent(new URL(href).pathname));
  }
  return files;
}
