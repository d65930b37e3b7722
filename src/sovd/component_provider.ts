// A provider of one component: what the kernel, the offload pool, a DataPort
// and a ring each are in the tree. Built from a small description.

import type { DataItem, EntityInfo, EntityStatus, EntityType, Fault } from "./model.ts";
import type { FaultClearResult, Provider } from "./provider.ts";
import type { FaultDetector, FaultMonitor } from "./fault_monitor.ts";
import { toSovdId } from "./ids.ts";
import { requireFunction, requireName, requireOptions, show } from "../internal/validate.ts";

/** What a {@linkcode ComponentProvider} shows. */
export interface ComponentProviderOptions {
  /** The provider's name (and reporting source). @default {the component id} */
  name?: string;
  /** The component's id; a name that is not a valid id is mapped with {@linkcode toSovdId}. */
  id: string;
  /** Its name for people. @default {the id as given} */
  label?: string;
  /** A sentence about what it is. */
  description?: string;
  /** The area it belongs to. */
  belongsTo?: string;
  /** Its data items, read now. */
  data: () => DataItem[];
  /** Its status now. @default {always ready} */
  status?: () => EntityStatus;
  /** A monitor for its faults: its detectors are added there, its faults answered from there. */
  monitor?: FaultMonitor;
  /** Detectors of its faults (added to the monitor, when there is one). */
  detectors?: readonly FaultDetector[];
}

const READY: EntityStatus = Object.freeze({ status: "ready", controls: Object.freeze([]) });

/**
 * A {@linkcode Provider} of exactly one component, from a description:
 * its data, status and fault detectors. The built-in parts use it
 * ({@linkcode kernelProvider}, {@linkcode offloadProvider},
 * {@linkcode dataPortProvider}, {@linkcode ringProvider}); so can anything
 * else that is one component.
 *
 * @example A component of your own
 * ```ts
 * import { ComponentProvider, ProviderRegistry } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * let temperature = 21.5;
 * const registry = new ProviderRegistry();
 * registry.register(new ComponentProvider({
 *   id: "boiler",
 *   data: () => [{ id: "temperature", name: "Temperature", category: "currentData", value: temperature }],
 * }));
 * temperature = 22;
 * assertEquals(registry.data("component", "boiler")?.[0]?.value, 22);
 * assertEquals(registry.status("component", "boiler")?.status, "ready");
 * ```
 */
export class ComponentProvider implements Provider, Disposable {
  /** The provider's name. */
  readonly name: string;
  /** The component's id. */
  readonly id: string;
  readonly #info: EntityInfo;
  readonly #data: () => DataItem[];
  readonly #status: () => EntityStatus;
  readonly #monitor: FaultMonitor | undefined;
  readonly #detectors: Disposable[] = [];

  /**
   * Creates the provider and adds its detectors to the monitor.
   *
   * @param options The component's id, data, status, monitor and detectors.
   * @throws {TypeError} when an option has the wrong type.
   */
  constructor(options: ComponentProviderOptions) {
    const action = "create a ComponentProvider";
    requireOptions(action, "options", options);
    if (options === undefined) {
      throw new TypeError(
        `Cannot ${action} as 'options' must be an object: current value is undefined`,
      );
    }
    const given = requireName(action, "id", options.id);
    this.id = toSovdId(given);
    this.name = requireName(action, "name", options.name ?? this.id);
    const label = options.label === undefined ? given : requireName(action, "label", options.label);
    this.#data = requireFunction(action, "data", options.data);
    this.#status = options.status === undefined
      ? () => READY
      : requireFunction(action, "status", options.status);
    if (options.description !== undefined && typeof options.description !== "string") {
      throw new TypeError(
        `Cannot ${action} as 'description' must be a string: current value is ${
          show(options.description)
        }`,
      );
    }
    this.#info = {
      id: this.id,
      name: label,
      type: "component",
      ...(this.id === given ? {} : { seamId: given }),
      ...(options.description === undefined ? {} : { description: options.description }),
      ...(options.belongsTo === undefined
        ? {}
        : { belongsTo: toSovdId(requireName(action, "belongsTo", options.belongsTo)) }),
    };
    this.#monitor = options.monitor;
    if (options.monitor !== undefined) {
      for (const detector of options.detectors ?? []) {
        this.#detectors.push(options.monitor.addDetector(detector));
      }
    }
  }

  /** Its one component. */
  entities(): EntityInfo[] {
    return [this.#info];
  }

  /**
   * The component's data items.
   *
   * @param id The entity's id.
   * @param type The entity's type.
   */
  data(id: string, type: EntityType): DataItem[] {
    return this.#mine(id, type) ? this.#data() : [];
  }

  /**
   * The component's faults, from the monitor.
   *
   * @param id The entity's id.
   * @param type The entity's type.
   */
  faults(id: string, type: EntityType): Fault[] {
    return this.#mine(id, type) ? this.#monitor?.faults(type, id) ?? [] : [];
  }

  /**
   * Clears a passive fault through the monitor.
   *
   * @param id The entity's id.
   * @param type The entity's type.
   * @param code The fault's code.
   */
  clearFault(id: string, type: EntityType, code: string): FaultClearResult {
    return this.#mine(id, type) ? this.#monitor?.clear(type, id, code) ?? "unknown" : "unknown";
  }

  /**
   * The component's status.
   *
   * @param id The entity's id.
   * @param type The entity's type.
   */
  status(id: string, type: EntityType): EntityStatus {
    return this.#mine(id, type) ? this.#status() : READY;
  }

  /** Removes its detectors from the monitor. */
  [Symbol.dispose](): void {
    for (const detector of this.#detectors.splice(0)) detector[Symbol.dispose]();
  }

  #mine(id: string, type: EntityType): boolean {
    return type === "component" && id === this.id;
  }
}
