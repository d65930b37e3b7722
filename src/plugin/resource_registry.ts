// What each plugin instance holds, tagged by owner: bus subscriptions, tasks
// and timers, data ports, Workers and subprocesses. Components upsert an
// entry when they take a resource and remove it when they release it; a hot
// reload lists what the old instance still holds to count leaks.

import { requireNonEmptyString, requireOneOf, requireOptions, show } from "../internal/validate.ts";

/** What a resource is. */
export type ResourceKind =
  | "subscription"
  | "task"
  | "timer"
  | "dataport"
  | "island-task"
  | "worker"
  | "subprocess";

/** Every {@linkcode ResourceKind}. */
export const RESOURCE_KINDS: readonly ResourceKind[] = Object.freeze([
  "subscription",
  "task",
  "timer",
  "dataport",
  "island-task",
  "worker",
  "subprocess",
]);

/** One resource an owner holds. */
export interface ResourceEntry {
  /** Who holds it: a plugin instance such as `"sampler#3"`. */
  owner: string;
  /** What it is. */
  kind: ResourceKind;
  /** Its id, unique per owner and kind (a topic, a task name, a port name). */
  id: string;
  /** More about it, for reports. */
  detail?: string;
  /** When it was taken, ms on the registry's clock (set by {@linkcode ResourceRegistry.upsert}). */
  sinceMs?: number;
}

/** A snapshot of a {@linkcode ResourceRegistry}. */
export interface ResourceRegistryStats {
  /** Entries held now. */
  entries: number;
  /** Owners holding at least one entry. */
  owners: number;
  /** Entries held now, by kind. */
  byKind: Record<ResourceKind, number>;
  /** `upsert()` calls that added an entry. */
  added: number;
  /** Entries removed (by `remove()` or `removeOwner()`). */
  removed: number;
}

/**
 * An audit of what each owner holds. Components upsert their entries when
 * they take a resource and remove them when they release it; `list(owner)`
 * shows what an owner still holds, so a hot reload can verify that nothing
 * of the old instance is left alive (and count leaks when something is).
 *
 * @example Auditing what an instance still holds
 * ```ts
 * import { ResourceRegistry } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const resources = new ResourceRegistry();
 * resources.upsert({ owner: "sampler#1", kind: "subscription", id: "setpoint" });
 * resources.upsert({ owner: "sampler#1", kind: "task", id: "sample" });
 * resources.remove("sampler#1", "task", "sample");
 * assertEquals(resources.list("sampler#1").map((e) => `${e.kind}:${e.id}`), ["subscription:setpoint"]);
 * assertEquals(resources.count("sampler#1"), 1);
 * assertEquals(resources.removeOwner("sampler#1"), 1);
 * assertEquals(resources.stats().entries, 0);
 * ```
 */
export class ResourceRegistry {
  readonly #now: () => number;
  readonly #owners = new Map<string, Map<string, ResourceEntry>>();
  #added = 0;
  #removed = 0;

  /**
   * Creates an empty registry.
   *
   * @param options `now`: the clock entries are stamped with (ms).
   * @throws {TypeError} when `options` or `now` has the wrong type.
   */
  constructor(options: { now?: () => number } = {}) {
    requireOptions("create a ResourceRegistry", "options", options);
    const now = options.now ?? (() => performance.now());
    if (typeof now !== "function") {
      throw new TypeError(
        `Cannot create a ResourceRegistry as 'now' must be a function: current value is ${
          show(now)
        }`,
      );
    }
    this.#now = now;
  }

  /**
   * Adds an entry, or replaces the one with the same owner, kind and id.
   *
   * @param entry The resource.
   * @returns `true` when the entry is new.
   * @throws {TypeError} when the entry is not valid.
   */
  upsert(entry: ResourceEntry): boolean {
    const action = "upsert a resource";
    requireOptions(action, "entry", entry);
    if (entry === undefined) {
      throw new TypeError(
        `Cannot ${action} as 'entry' must be an object: current value is undefined`,
      );
    }
    const owner = requireNonEmptyString(action, "entry.owner", entry.owner);
    const kind = requireOneOf(action, "entry.kind", entry.kind, RESOURCE_KINDS);
    const id = requireNonEmptyString(action, "entry.id", entry.id);
    if (entry.detail !== undefined && typeof entry.detail !== "string") {
      throw new TypeError(
        `Cannot ${action} as 'entry.detail' must be a string: current value is ${
          show(entry.detail)
        }`,
      );
    }
    let held = this.#owners.get(owner);
    if (held === undefined) this.#owners.set(owner, held = new Map());
    const key = `${kind}\u0000${id}`;
    const fresh = !held.has(key);
    held.set(key, Object.freeze({ owner, kind, id, detail: entry.detail, sinceMs: this.#now() }));
    if (fresh) this.#added++;
    return fresh;
  }

  /**
   * Removes one entry.
   *
   * @param owner Who held it.
   * @param kind What it is.
   * @param id Its id.
   * @returns `true` when there was such an entry.
   */
  remove(owner: string, kind: ResourceKind, id: string): boolean {
    const held = this.#owners.get(owner);
    if (held === undefined || !held.delete(`${kind}\u0000${id}`)) return false;
    this.#removed++;
    if (held.size === 0) this.#owners.delete(owner);
    return true;
  }

  /**
   * Removes every entry of an owner (after it was force-separated, or to
   * forget what a verification found).
   *
   * @param owner The owner.
   * @returns How many entries were removed.
   */
  removeOwner(owner: string): number {
    const held = this.#owners.get(owner);
    if (held === undefined) return 0;
    this.#owners.delete(owner);
    this.#removed += held.size;
    return held.size;
  }

  /**
   * What an owner holds now, oldest first.
   *
   * @param owner The owner.
   * @returns A copy of its entries (empty when it holds nothing).
   */
  list(owner: string): ResourceEntry[] {
    return [...(this.#owners.get(owner)?.values() ?? [])];
  }

  /**
   * How many entries an owner (or, without one, everybody) holds.
   *
   * @param owner The owner; left out, all owners.
   * @returns The count.
   */
  count(owner?: string): number {
    if (owner !== undefined) return this.#owners.get(owner)?.size ?? 0;
    let n = 0;
    for (const held of this.#owners.values()) n += held.size;
    return n;
  }

  /**
   * The owners holding something now.
   *
   * @returns Their names.
   */
  owners(): string[] {
    return [...this.#owners.keys()];
  }

  /**
   * Takes a snapshot.
   *
   * @returns Entries and owners now, by kind, and how many were added and removed.
   */
  stats(): ResourceRegistryStats {
    const byKind = Object.fromEntries(RESOURCE_KINDS.map((k) => [k, 0])) as Record<
      ResourceKind,
      number
    >;
    let entries = 0;
    for (const held of this.#owners.values()) {
      for (const e of held.values()) {
        byKind[e.kind]++;
        entries++;
      }
    }
    return {
      entries,
      owners: this.#owners.size,
      byKind,
      added: this.#added,
      removed: this.#removed,
    };
  }
}
