// The provider seam: what a part of the system implements to appear in the
// SOVD tree, and the registry that joins providers into one tree without
// knowing what kind of part each one is.

import type {
  ControlResult,
  DataItem,
  EntityInfo,
  EntityStatus,
  EntityType,
  Fault,
  LogEntry,
  OperationInfo,
  StatusControl,
} from "./model.ts";
import { ENTITY_TYPES, STATUS_CONTROLS } from "./model.ts";
import { isSovdId, requireSovdId } from "./ids.ts";
import { CONSOLE_LOGGER, type Logger } from "../logger.ts";
import {
  requireFunction,
  requireLogger,
  requireName,
  requireOneOf,
  requireOptions,
  show,
} from "../internal/validate.ts";

/**
 * What clearing a fault did: `cleared` (it was passive and is gone),
 * `active` (its condition still holds, so it cannot be cleared: `409` on the
 * wire), `unknown` (no such fault: `404`).
 */
export type FaultClearResult = "cleared" | "active" | "unknown";

/**
 * A part of the system that shows itself in the SOVD tree: the kernel, the
 * executor, a pool, a port, an island, a plugin. Every method is a read off
 * the control path: it builds a snapshot (allocating is fine here) from the
 * part's `stats()` or pre-allocated slots, and never waits for the part.
 *
 * `data`, `faults`, `status` and `operations` are asked only for entities
 * the provider listed in `entities()`, with the id and type it gave.
 */
export interface Provider {
  /** The provider's name, unique in a registry; also a fault's reporting source. */
  readonly name: string;
  /** The entities it provides, now. */
  entities(): readonly EntityInfo[];
  /**
   * The data items of one of its entities, with current values.
   *
   * @param id The entity's id.
   * @param type The entity's type.
   */
  data(id: string, type: EntityType): readonly DataItem[];
  /**
   * The faults of one of its entities (active and passive ones).
   *
   * @param id The entity's id.
   * @param type The entity's type.
   */
  faults(id: string, type: EntityType): readonly Fault[];
  /**
   * The status of one of its entities.
   *
   * @param id The entity's id.
   * @param type The entity's type.
   */
  status(id: string, type: EntityType): EntityStatus;
  /**
   * The operations one of its entities offers. Left out: none.
   *
   * @param id The entity's id.
   * @param type The entity's type.
   */
  operations?(id: string, type: EntityType): readonly OperationInfo[];
  /**
   * Clears a fault of one of its entities (a client's `DELETE`). Left out:
   * no fault can be cleared (`active` for a known code).
   *
   * @param id The entity's id.
   * @param type The entity's type.
   * @param code The fault's code.
   */
  clearFault?(id: string, type: EntityType, code: string): FaultClearResult;
  /**
   * Runs a status control (`restart`, `shutdown`, `force-shutdown`) of one
   * of its entities, without waiting for it to finish (the server answers
   * `202`). Left out: no control runs (`501` on the wire), whatever
   * `status()` lists.
   *
   * @param id The entity's id.
   * @param type The entity's type.
   * @param control The control asked.
   */
  control?(id: string, type: EntityType, control: StatusControl): ControlResult;
  /**
   * The recent log entries of one of its entities (e.g. from a plugin's
   * telemetry ring), oldest first. Left out: none.
   *
   * @param id The entity's id.
   * @param type The entity's type.
   */
  logs?(id: string, type: EntityType): readonly LogEntry[];
}

/** An entity of the tree and the provider that answers for it. */
export interface RegisteredEntity {
  /** The entity. */
  readonly info: EntityInfo;
  /** Its provider. */
  readonly provider: Provider;
}

/** The relations of one entity, each side resolved to entities of the tree. */
export interface EntityRelations {
  /** For an app: the component it runs on (one item, or none if that component is missing). */
  readonly isLocatedOn: readonly EntityInfo[];
  /** For a component: every app located on it. */
  readonly hosts: readonly EntityInfo[];
  /** The area it belongs to (zero or one). */
  readonly belongsTo: readonly EntityInfo[];
  /** For an area: every entity that belongs to it. */
  readonly contains: readonly EntityInfo[];
}

/** Options of a {@linkcode ProviderRegistry}. */
export interface ProviderRegistryOptions {
  /** Its name in log lines. @default {"sovd"} */
  name?: string;
  /**
   * Where problems of the tree are reported (`logger.warn`, once per
   * distinct problem): a provider that throws, an invalid or duplicate id,
   * an app without its component.
   *
   * @default {CONSOLE_LOGGER}
   */
  logger?: Logger;
}

/** A snapshot of the tree: its entities and what was wrong with it. */
export interface EntityTree {
  /** Every valid entity, in provider registration order, then the provider's order. */
  readonly entities: readonly RegisteredEntity[];
  /** What was left out or is inconsistent, one sentence each. */
  readonly problems: readonly string[];
}

/** Distinct problems remembered so each is warned about once. */
const MAX_REMEMBERED_PROBLEMS = 256;

/**
 * Joins {@linkcode Provider}s into one SOVD entity tree. Providers register
 * themselves; the registry (and the server on top of it) never knows their
 * kind. Ids are checked: an entity with an invalid id, an unknown type or an
 * id already taken in its type (the first provider wins) is left out and
 * reported in {@linkcode EntityTree.problems}, as is a provider whose
 * `entities()` throws (its entities are left out, the rest of the tree
 * stands). Reads are computed on demand: providers may add and remove
 * entities at any time.
 *
 * @example Two providers, one tree
 * ```ts
 * import { type Provider, ProviderRegistry } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * const provider = (name: string, entities: Provider["entities"]): Provider => ({
 *   name,
 *   entities,
 *   data: () => [{ id: "answer", name: "Answer", category: "currentData", value: 42 }],
 *   faults: () => [],
 *   status: () => ({ status: "ready", controls: [] }),
 * });
 * const registry = new ProviderRegistry();
 * registry.register(provider("core", () => [{ id: "kernel", name: "kernel", type: "component" }]));
 * registry.register(
 *   provider("tasks", () => [{ id: "sensor", name: "sensor", type: "app", locatedOn: "kernel" }]),
 * );
 * assertEquals(registry.entities("app").map((e) => e.id), ["sensor"]);
 * assertEquals(registry.relations("component", "kernel")?.hosts.map((e) => e.id), ["sensor"]);
 * assertEquals(registry.data("app", "sensor")?.[0]?.value, 42);
 * assertEquals(registry.data("app", "nobody"), undefined); // a 404 for the server
 * ```
 */
export class ProviderRegistry {
  /** Its name in log lines. */
  readonly name: string;
  readonly #logger: Logger;
  readonly #providers = new Map<string, Provider>();
  readonly #warned = new Set<string>();

  /**
   * Creates an empty registry.
   *
   * @param options Name and logger.
   * @throws {TypeError} when an option has the wrong type.
   */
  constructor(options: ProviderRegistryOptions = {}) {
    const action = "create a ProviderRegistry";
    requireOptions(action, "options", options);
    this.name = requireName(action, "name", options.name ?? "sovd");
    this.#logger = requireLogger(action, "logger", options.logger ?? CONSOLE_LOGGER);
  }

  /**
   * Registers a provider. Its entities appear in the tree from the next read.
   *
   * @param provider Any {@linkcode Provider}.
   * @returns A disposable that unregisters it.
   * @throws {TypeError} when `provider` lacks a method or a name, or its name is taken.
   */
  register(provider: Provider): Disposable {
    const action = "register an SOVD provider";
    if (provider === null || typeof provider !== "object") {
      throw new TypeError(
        `Cannot ${action} as 'provider' must be an object: current value is ${show(provider)}`,
      );
    }
    const name = requireName(action, "provider.name", provider.name);
    for (const method of ["entities", "data", "faults", "status"] as const) {
      requireFunction(action, `provider.${method}`, provider[method]);
    }
    for (const method of ["operations", "clearFault", "control", "logs"] as const) {
      if (provider[method] !== undefined) {
        requireFunction(action, `provider.${method}`, provider[method]);
      }
    }
    if (this.#providers.has(name)) {
      throw new TypeError(
        `Cannot ${action} as a provider named ${show(name)} is already registered`,
      );
    }
    this.#providers.set(name, provider);
    return { [Symbol.dispose]: () => void this.unregister(name) };
  }

  /**
   * Unregisters a provider by name.
   *
   * @param name The provider's name.
   * @returns `false` if no provider had that name.
   */
  unregister(name: string): boolean {
    return this.#providers.delete(name);
  }

  /** The names of the registered providers, in registration order. */
  get providerNames(): string[] {
    return [...this.#providers.keys()];
  }

  /**
   * Takes a snapshot of the whole tree: every valid entity and every problem.
   *
   * @returns The entities and the problems.
   */
  tree(): EntityTree {
    const entities: RegisteredEntity[] = [];
    const problems: string[] = [];
    const taken = new Map<string, string>();
    for (const provider of this.#providers.values()) {
      let listed: readonly EntityInfo[];
      try {
        listed = provider.entities();
        if (!Array.isArray(listed)) throw new TypeError(`it returned ${show(listed)}`);
      } catch (error) {
        problems.push(
          `Provider ${show(provider.name)} could not list its entities: ${describe(error)}`,
        );
        continue;
      }
      for (const info of listed) {
        const problem = entityProblem(info);
        if (problem !== undefined) {
          problems.push(`Provider ${show(provider.name)} gave an entity that ${problem}`);
          continue;
        }
        const key = `${info.type}/${info.id}`;
        const owner = taken.get(key);
        if (owner !== undefined) {
          problems.push(
            `Provider ${show(provider.name)} gave ${info.type} ${
              show(info.id)
            }, already provided by ${show(owner)}`,
          );
          continue;
        }
        taken.set(key, provider.name);
        entities.push({ info, provider });
      }
    }
    for (const { info } of entities) {
      if (info.type === "app" && !taken.has(`component/${info.locatedOn}`)) {
        problems.push(
          `App ${show(info.id)} is located on a missing component ${show(info.locatedOn)}`,
        );
      }
      if (info.belongsTo !== undefined && !taken.has(`area/${info.belongsTo}`)) {
        problems.push(`Entity ${show(info.id)} belongs to a missing area ${show(info.belongsTo)}`);
      }
    }
    this.#warnNew(problems);
    return { entities, problems };
  }

  /**
   * The entities of one type (or all), in tree order.
   *
   * @param type Only this type. @default {every type}
   * @returns The entities.
   * @throws {TypeError} when `type` is not an {@linkcode EntityType}.
   */
  entities(type?: EntityType): EntityInfo[] {
    if (type !== undefined) requireOneOf("list SOVD entities", "type", type, ENTITY_TYPES);
    const out: EntityInfo[] = [];
    for (const { info } of this.tree().entities) {
      if (type === undefined || info.type === type) out.push(info);
    }
    return out;
  }

  /**
   * Finds one entity and its provider.
   *
   * @param type Its type.
   * @param id Its id.
   * @returns The entity, or `undefined` when the tree has none by that type and id.
   * @throws {TypeError} when `type` is not an entity type or `id` not a valid SOVD id.
   */
  entity(type: EntityType, id: string): RegisteredEntity | undefined {
    return this.#find("read an SOVD entity", type, id, this.tree());
  }

  /**
   * The relations of one entity, both sides resolved in one snapshot.
   *
   * @param type Its type.
   * @param id Its id.
   * @returns The relations, or `undefined` for an unknown entity.
   * @throws {TypeError} when `type` or `id` is invalid.
   */
  relations(type: EntityType, id: string): EntityRelations | undefined {
    const tree = this.tree();
    const found = this.#find("read SOVD relations", type, id, tree);
    if (found === undefined) return undefined;
    const info = found.info;
    const all = tree.entities.map((e) => e.info);
    const component = info.type === "app"
      ? all.find((e) => e.type === "component" && e.id === info.locatedOn)
      : undefined;
    const area = info.belongsTo === undefined
      ? undefined
      : all.find((e) => e.type === "area" && e.id === info.belongsTo);
    return {
      isLocatedOn: component === undefined ? [] : [component],
      hosts: info.type === "component"
        ? all.filter((e) => e.type === "app" && e.locatedOn === info.id)
        : [],
      belongsTo: area === undefined ? [] : [area],
      contains: info.type === "area" ? all.filter((e) => e.belongsTo === info.id) : [],
    };
  }

  /**
   * The data items of one entity.
   *
   * @param type Its type.
   * @param id Its id.
   * @returns The items, or `undefined` for an unknown entity.
   * @throws {TypeError} when `type` or `id` is invalid.
   */
  data(type: EntityType, id: string): readonly DataItem[] | undefined {
    const found = this.entity(type, id);
    return found?.provider.data(id, type);
  }

  /**
   * The faults of one entity.
   *
   * @param type Its type.
   * @param id Its id.
   * @returns The faults, or `undefined` for an unknown entity.
   * @throws {TypeError} when `type` or `id` is invalid.
   */
  faults(type: EntityType, id: string): readonly Fault[] | undefined {
    const found = this.entity(type, id);
    return found?.provider.faults(id, type);
  }

  /**
   * Every fault of every entity (the global `GET /faults`), in tree order.
   * A provider whose `faults()` throws is left out (see `tree().problems`).
   *
   * @returns The faults.
   */
  allFaults(): Fault[] {
    const out: Fault[] = [];
    for (const { info, provider } of this.tree().entities) {
      try {
        out.push(...provider.faults(info.id, info.type));
      } catch (error) {
        this.#warnNew([
          `Provider ${show(provider.name)} could not list the faults of ${info.type} ${
            show(info.id)
          }: ${describe(error)}`,
        ]);
      }
    }
    return out;
  }

  /**
   * The status of one entity.
   *
   * @param type Its type.
   * @param id Its id.
   * @returns The status, or `undefined` for an unknown entity.
   * @throws {TypeError} when `type` or `id` is invalid.
   */
  status(type: EntityType, id: string): EntityStatus | undefined {
    const found = this.entity(type, id);
    return found?.provider.status(id, type);
  }

  /**
   * The operations of one entity (none when its provider offers none).
   *
   * @param type Its type.
   * @param id Its id.
   * @returns The operations, or `undefined` for an unknown entity.
   * @throws {TypeError} when `type` or `id` is invalid.
   */
  operations(type: EntityType, id: string): readonly OperationInfo[] | undefined {
    const found = this.entity(type, id);
    if (found === undefined) return undefined;
    return found.provider.operations?.(id, type) ?? [];
  }

  /**
   * Clears a fault of one entity.
   *
   * @param type Its type.
   * @param id Its id.
   * @param code The fault's code.
   * @returns What happened; `unknown` for an unknown entity or code.
   * @throws {TypeError} when `type`, `id` or `code` is invalid.
   */
  clearFault(type: EntityType, id: string, code: string): FaultClearResult {
    requireSovdId("clear an SOVD fault", "code", code);
    const found = this.#find("clear an SOVD fault", type, id, this.tree());
    if (found === undefined) return "unknown";
    const provider = found.provider;
    if (provider.clearFault !== undefined) return provider.clearFault(id, type, code);
    return provider.faults(id, type).some((f) => f.code === code) ? "active" : "unknown";
  }

  /**
   * Runs a status control of one entity (see {@linkcode Provider.control}).
   *
   * @param type Its type.
   * @param id Its id.
   * @param control The control.
   * @returns What happened; `undefined` for an unknown entity.
   * @throws {TypeError} when `type`, `id` or `control` is invalid.
   */
  control(type: EntityType, id: string, control: StatusControl): ControlResult | undefined {
    const action = "run an SOVD status control";
    requireOneOf(action, "control", control, STATUS_CONTROLS);
    const found = this.#find(action, type, id, this.tree());
    if (found === undefined) return undefined;
    const provider = found.provider;
    if (provider.control === undefined) return "unsupported";
    if (!provider.status(id, type).controls.includes(control)) return "unsupported";
    return provider.control(id, type, control);
  }

  /**
   * The log entries of one entity (none when its provider keeps none).
   *
   * @param type Its type.
   * @param id Its id.
   * @returns The entries, or `undefined` for an unknown entity.
   * @throws {TypeError} when `type` or `id` is invalid.
   */
  logs(type: EntityType, id: string): readonly LogEntry[] | undefined {
    const found = this.entity(type, id);
    if (found === undefined) return undefined;
    return found.provider.logs?.(id, type) ?? [];
  }

  #find(action: string, type: EntityType, id: string, tree: EntityTree) {
    requireOneOf(action, "type", type, ENTITY_TYPES);
    requireSovdId(action, "id", id);
    return tree.entities.find((e) => e.info.type === type && e.info.id === id);
  }

  #warnNew(problems: readonly string[]): void {
    for (const problem of problems) {
      if (this.#warned.has(problem)) continue;
      if (this.#warned.size >= MAX_REMEMBERED_PROBLEMS) this.#warned.clear();
      this.#warned.add(problem);
      try {
        this.#logger.warn(`SOVD registry "${this.name}": ${problem}`);
      } catch {
        // A throwing logger does not break a read of the tree.
      }
    }
  }
}

/** Why an entity from a provider cannot be in the tree, or `undefined`. */
function entityProblem(info: unknown): string | undefined {
  if (info === null || typeof info !== "object") return `is not an object: ${show(info)}`;
  const e = info as Partial<EntityInfo>;
  if (!isSovdId(e.id)) return `has an invalid id ${show(e.id)}`;
  if (!(ENTITY_TYPES as readonly unknown[]).includes(e.type)) {
    return `has an invalid type ${show(e.type)}`;
  }
  if (typeof e.name !== "string") return `has no name: ${show(e.id)}`;
  if (e.type === "app" && !isSovdId(e.locatedOn)) {
    return `is an app without a valid component in 'locatedOn': ${show(e.id)}`;
  }
  if (e.belongsTo !== undefined && !isSovdId(e.belongsTo)) {
    return `has an invalid 'belongsTo' ${show(e.belongsTo)}`;
  }
  return undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : show(error);
}
