// Watch mode: Deno.watchFs on a plugin's folder; changes are debounced on
// the kernel's driver, then the plugin is reloaded. A failed reload is
// reported by the manager and the old version keeps running.

import type { Driver } from "../time/driver.ts";
import type { Logger } from "../logger.ts";
import { describeError } from "./_describe.ts";

/** How long the watcher waits after the last change before it reloads, ms. */
export const WATCH_DEBOUNCE_MS = 200;

/** Options of a {@linkcode PluginWatcher}. */
export interface PluginWatcherOptions {
  folder: URL;
  driver: Driver;
  logger: Logger;
  reload: () => Promise<void>;
  debounceMs?: number;
}

/** Watches one folder and calls `reload` once per burst of changes. */
export class PluginWatcher {
  readonly #options: PluginWatcherOptions;
  #watcher: Deno.FsWatcher | undefined;
  #timer: { cancel(): boolean } | undefined;
  #running: Promise<void> = Promise.resolve();
  #closed = false;
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
          this.changed();
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
    });
  }
}
