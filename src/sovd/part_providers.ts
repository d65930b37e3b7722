// Providers of the built-in parts, as adapters over their public stats():
// the kernel, the offload pool, a DataPort and a shared ring.

import { ComponentProvider } from "./component_provider.ts";
import type { FaultMonitor } from "./fault_monitor.ts";
import {
  dataPortFaultDetector,
  metricsFaultDetector,
  offloadFaultDetector,
  ringFaultDetector,
} from "./fault_detectors.ts";
import type { DataItem } from "./model.ts";
import { toSovdId } from "./ids.ts";
import {
  BYTES,
  count,
  flag,
  measure,
  MICROSECONDS,
  MILLISECONDS,
  object,
  oneOf,
  text,
  us,
} from "./_schema.ts";
import type { ExecutorStats } from "../exec/task.ts";
import type { OffloadStats } from "../exec/offload_types.ts";
import type { EventBusStats } from "../bus/event_bus.ts";
import type { DriverStats } from "../time/driver_types.ts";
import type { DataPortStats } from "../data/data_port_stats.ts";
import type { RingStats } from "../data/ring_stats.ts";
import { MetricsRegistry } from "../metrics/registry.ts";
import { requireName, requireOptions, show } from "../internal/validate.ts";

/** Options every part provider takes. */
export interface PartProviderOptions {
  /** The component's id (a name is mapped with {@linkcode toSovdId}). @default {per part} */
  id?: string;
  /** The provider's name. @default {the component id} */
  name?: string;
  /** A monitor for the part's faults. */
  monitor?: FaultMonitor;
  /** The area the component belongs to. */
  belongsTo?: string;
}

/** What {@linkcode kernelProvider} reads: a `Kernel`, or anything with its `stats()`. */
export interface KernelSource {
  /** The kernel's name. */
  readonly name: string;
  /** Its registry: the cardinality faults are read from its self metrics. */
  readonly metrics?: MetricsRegistry;
  /** The kernel's snapshot. */
  stats(): {
    state: "running" | "draining" | "stopped";
    uptimeMs: number;
    executor: ExecutorStats;
    bus: EventBusStats;
    driver: DriverStats;
    offload: OffloadStats | undefined;
  };
}

function requireSource(action: string, source: unknown): void {
  const s = source as { stats?: unknown } | null;
  if (s === null || typeof s !== "object" || typeof s.stats !== "function") {
    throw new TypeError(
      `Cannot ${action} as its source must have a stats() method: current value is ${show(source)}`,
    );
  }
}

function base(action: string, options: PartProviderOptions, id: string) {
  requireOptions(action, "options", options);
  return {
    id: requireName(action, "id", options?.id ?? id),
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.belongsTo === undefined ? {} : { belongsTo: options.belongsTo }),
    ...(options.monitor === undefined ? {} : { monitor: options.monitor }),
  };
}

const KERNEL_STATE = object({
  state: oneOf("running, draining or stopped", ["running", "draining", "stopped"]),
  uptime_ms: measure("Time since start", MILLISECONDS),
});
const KERNEL_BUS = object({
  queued: count("Events queued"),
  topics: count("Topics"),
  published: count("Events published, all topics"),
  delivered: count("Deliveries, all topics"),
  handler_errors: count("Handlers that threw, all topics"),
  rejected: count("Events refused by a full queue, all topics"),
});
const KERNEL_DRIVER = object({
  profile: text("The precision profile"),
  virtual: flag("Whether it runs on a virtual clock"),
  pending_timers: count("Timers pending"),
  fired: count("Timers fired"),
  callback_errors: count("Timer callbacks that threw"),
  far_wakes: count("Coarse wake-ups"),
  near_wakes: count("Near wake-ups"),
  imminent_wakes: count("Spin wake-ups"),
  spin_ms: measure("Time spent spinning", MILLISECONDS),
  lead_ms: measure("The current wake-up lead", MILLISECONDS),
});
const KERNEL_IDENTITY = object({ name: text("The kernel's name") });

/**
 * The kernel as a component (`kernel`): data `state`, `bus`, `driver`
 * (currentData) and `identity`; `notReady` unless running. With a monitor
 * and a registry it adds {@linkcode metricsFaultDetector}. The executor and
 * the pool are their own providers ({@linkcode ExecutorProvider},
 * {@linkcode offloadProvider}).
 *
 * @example The kernel component
 * ```ts
 * import { Kernel } from "@chronetix/core";
 * import { kernelProvider, ProviderRegistry } from "@chronetix/core/sovd";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * await using kernel = await Kernel.start({ clock: new VirtualClock() });
 * const registry = new ProviderRegistry();
 * registry.register(kernelProvider(kernel));
 * assertEquals(registry.status("component", "kernel")?.status, "ready");
 * const state = registry.data("component", "kernel")!.find((d) => d.id === "state")!;
 * assertEquals((state.value as { state: string }).state, "running");
 * ```
 *
 * @param kernel A `Kernel`, or anything with its `name` and `stats()`.
 * @param options Id, name, monitor, area.
 * @returns The provider.
 * @throws {TypeError} when `kernel` has no `stats()` or an option has the wrong type.
 */
export function kernelProvider(
  kernel: KernelSource,
  options: PartProviderOptions = {},
): ComponentProvider {
  const action = "create a kernel provider";
  requireSource(action, kernel);
  const o = base(action, options, "kernel");
  const registry = kernel.metrics instanceof MetricsRegistry ? kernel.metrics : undefined;
  return new ComponentProvider({
    ...o,
    label: typeof kernel.name === "string" && kernel.name !== "" ? kernel.name : o.id,
    description: "The Chronetix kernel: clock, driver, bus, executor",
    detectors: registry === undefined
      ? []
      : [metricsFaultDetector(registry, { entityId: toSovdId(o.id), name: "metrics" })],
    status: () => {
      const state = kernel.stats().state;
      return state === "running"
        ? { status: "ready", controls: [] }
        : { status: "notReady", controls: [], reason: `the kernel is ${state}` };
    },
    data: (): DataItem[] => {
      const s = kernel.stats();
      const topics = s.bus.topics;
      const total = (key: "published" | "delivered" | "handlerErrors" | "rejected") =>
        topics.reduce((n, t) => n + t[key], 0);
      return [
        {
          id: "state",
          name: "State",
          category: "currentData",
          schema: KERNEL_STATE,
          value: { state: s.state, uptime_ms: s.uptimeMs },
        },
        {
          id: "bus",
          name: "Event bus",
          category: "currentData",
          schema: KERNEL_BUS,
          value: {
            queued: s.bus.queued,
            topics: topics.length,
            published: total("published"),
            delivered: total("delivered"),
            handler_errors: total("handlerErrors"),
            rejected: total("rejected"),
          },
        },
        {
          id: "driver",
          name: "Driver",
          category: "currentData",
          schema: KERNEL_DRIVER,
          value: {
            profile: s.driver.profile,
            virtual: s.driver.virtual,
            pending_timers: s.driver.wheel.pending,
            fired: s.driver.wheel.fired,
            callback_errors: s.driver.wheel.callbackErrors,
            far_wakes: s.driver.wakes.far,
            near_wakes: s.driver.wakes.near,
            imminent_wakes: s.driver.wakes.imminent,
            spin_ms: s.driver.wakes.spinMs,
            lead_ms: s.driver.wakes.leadMs,
          },
        },
        {
          id: "identity",
          name: "Identity",
          category: "identData",
          schema: KERNEL_IDENTITY,
          value: { name: kernel.name },
        },
      ];
    },
  });
}

const OFFLOAD_WORKERS = object({
  workers_alive: count("Workers running"),
  workers_replaced: count("Workers replaced after a crash or a timeout"),
  stuck_workers: count("Workers replaced while stuck (zombies)"),
  oom_kills: count("Workers that ran out of heap"),
});
const OFFLOAD_JOBS = object({
  queued: count("Jobs waiting"),
  in_flight: count("Jobs running"),
  submitted: count("Jobs submitted"),
  completed: count("Jobs completed"),
  failed: count("Jobs that failed"),
  timed_out: count("Jobs over the timeout"),
  crashed: count("Jobs lost with a worker"),
  cancelled: count("Jobs cancelled"),
  rejected: count("Submits refused: queue full"),
  queue_wait_p99_us: measure("Submit to dispatch, 99th percentile", MICROSECONDS),
  execution_p99_us: measure("Dispatch to result, 99th percentile", MICROSECONDS),
  last_error: { type: ["string", "null"], description: "The last job failure" },
});

/**
 * The offload pool as a component (`offload`): data `workers` and `jobs`;
 * with a monitor, {@linkcode offloadFaultDetector}.
 *
 * @example A pool's figures
 * ```ts
 * import { type OffloadStats } from "@chronetix/core";
 * import { offloadProvider } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * const stats = { workersAlive: 2, workersReplaced: 0, stuckWorkers: 0, oomKills: 0 } as OffloadStats;
 * const provider = offloadProvider({ stats: () => stats });
 * const workers = provider.data("offload", "component").find((d) => d.id === "workers")!;
 * assertEquals((workers.value as { workers_alive: number }).workers_alive, 2);
 * ```
 *
 * @param pool An `OffloadPool`, or anything with its `stats()`.
 * @param options Id, name, monitor, area.
 * @returns The provider.
 * @throws {TypeError} when `pool` has no `stats()` or an option has the wrong type.
 */
export function offloadProvider(
  pool: { stats(): OffloadStats },
  options: PartProviderOptions = {},
): ComponentProvider {
  const action = "create an offload provider";
  requireSource(action, pool);
  const o = base(action, options, "offload");
  return new ComponentProvider({
    ...o,
    description: "The offload pool: module Workers for CPU-heavy jobs",
    detectors: [offloadFaultDetector(pool, { entityId: o.id, name: o.name ?? toSovdId(o.id) })],
    status: () =>
      pool.stats().workersAlive > 0
        ? { status: "ready", controls: [] }
        : { status: "notReady", controls: [], reason: "no worker is alive" },
    data: (): DataItem[] => {
      const s = pool.stats();
      return [
        {
          id: "workers",
          name: "Workers",
          category: "currentData",
          schema: OFFLOAD_WORKERS,
          value: {
            workers_alive: s.workersAlive,
            workers_replaced: s.workersReplaced,
            stuck_workers: s.stuckWorkers,
            oom_kills: s.oomKills,
          },
        },
        {
          id: "jobs",
          name: "Jobs",
          category: "currentData",
          schema: OFFLOAD_JOBS,
          value: {
            queued: s.queued,
            in_flight: s.inFlight,
            submitted: s.submitted,
            completed: s.completed,
            failed: s.failed,
            timed_out: s.timedOut,
            crashed: s.crashed,
            cancelled: s.cancelled,
            rejected: s.rejected,
            queue_wait_p99_us: us(s.queueWait?.p99 ?? NaN),
            execution_p99_us: us(s.execution?.p99 ?? NaN),
            last_error: s.lastError?.message ?? null,
          },
        },
      ];
    },
  });
}

const PORT_SCHEMA = object({
  frames_sent: count("Frames accepted by send()"),
  sent_bytes: { ...count("Payload bytes accepted"), "x-sovd-unit": BYTES },
  frames_received: count("Frames handed to the consumer"),
  frames_recycled: count("Frames recycled"),
  credit_limit: count("The configured credit"),
  credit: count("Credit left"),
  min_credit: count("The lowest credit seen"),
  unreceived: count("Frames sent, not yet received"),
  unrecycled: count("Frames received, not yet recycled"),
  utilization_ratio: measure("Frames in flight over the credit, now"),
  peak_utilization_ratio: measure("The highest utilization seen"),
  would_block_credit: count("Sends refused: no credit"),
  would_block_memory: count("Sends refused: allocator full"),
  consumer_errors: count("Frame callbacks that threw"),
});

/**
 * A DataPort as a component (id required: the port's name): data `port`;
 * with a monitor, {@linkcode dataPortFaultDetector}.
 *
 * @example A port's credit
 * ```ts
 * import { type DataPortStats } from "@chronetix/core";
 * import { dataPortProvider } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * const stats = { credit: 3, creditLimit: 8 } as DataPortStats;
 * const provider = dataPortProvider({ stats: () => stats }, { id: "camera frames" });
 * assertEquals(provider.id, "camera_frames");
 * const port = provider.data("camera_frames", "component")[0]!;
 * assertEquals((port.value as { credit: number }).credit, 3);
 * ```
 *
 * @param port A `DataPort`, or anything with its `stats()`.
 * @param options Id (required), name, monitor, area.
 * @returns The provider.
 * @throws {TypeError} when `port` has no `stats()` or an option has the wrong type.
 */
export function dataPortProvider(
  port: { stats(): DataPortStats },
  options: PartProviderOptions & { id: string },
): ComponentProvider {
  const action = "create a DataPort provider";
  requireSource(action, port);
  const o = base(action, options ?? ({} as { id: string }), "");
  return new ComponentProvider({
    ...o,
    description: "A DataPort: frames with credit backpressure",
    detectors: [dataPortFaultDetector(port, { entityId: o.id, name: o.name ?? toSovdId(o.id) })],
    data: (): DataItem[] => {
      const s = port.stats();
      return [{
        id: "port",
        name: "Port",
        category: "currentData",
        schema: PORT_SCHEMA,
        value: {
          frames_sent: s.framesSent,
          sent_bytes: s.bytesSent,
          frames_received: s.framesReceived,
          frames_recycled: s.framesRecycled,
          credit_limit: s.creditLimit,
          credit: s.credit,
          min_credit: s.minCredit,
          unreceived: s.unreceived,
          unrecycled: s.unrecycled,
          utilization_ratio: s.utilizationRatio,
          peak_utilization_ratio: s.peakUtilizationRatio,
          would_block_credit: s.wouldBlockCredit,
          would_block_memory: s.wouldBlockMemory,
          consumer_errors: s.consumerErrors,
        },
      }];
    },
  });
}

const END_STATES = ["none", "attached", "closed", "dead", "evicting"];
const RING_SCHEMA = object({
  slots: count("Slots"),
  frames_sent: count("Frames published"),
  frames_received: count("Frames consumed"),
  in_flight: count("Frames published, not yet released"),
  credit: count("Free slots"),
  min_credit: count("The lowest credit seen"),
  utilization_ratio: measure("Slots in use over slots, now"),
  would_block: count("Sends refused: ring full"),
  discarded: count("Frames left unread"),
  writer_state: oneOf("The writer's state", END_STATES),
  reader_state: oneOf("The reader's state", END_STATES),
  writer_deaths: count("Writers presumed dead"),
  reader_deaths: count("Readers presumed dead"),
});

/**
 * A shared ring (either endpoint) as a component (id required): data
 * `ring`; `notReady` when an end is dead or closed; with a monitor,
 * {@linkcode ringFaultDetector}.
 *
 * @example A ring with a dead reader
 * ```ts
 * import { type RingStats } from "@chronetix/core";
 * import { ringProvider } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * const stats = { writerState: "attached", readerState: "dead" } as RingStats;
 * const provider = ringProvider({ stats: () => stats }, { id: "frames" });
 * assertEquals(provider.status("frames", "component").status, "notReady");
 * ```
 *
 * @param ring A `RingWriter` or `RingReader`, or anything with their `stats()`.
 * @param options Id (required), name, monitor, area.
 * @returns The provider.
 * @throws {TypeError} when `ring` has no `stats()` or an option has the wrong type.
 */
export function ringProvider(
  ring: { stats(): RingStats },
  options: PartProviderOptions & { id: string },
): ComponentProvider {
  const action = "create a ring provider";
  requireSource(action, ring);
  const o = base(action, options ?? ({} as { id: string }), "");
  return new ComponentProvider({
    ...o,
    description: "A shared ring between threads",
    detectors: [ringFaultDetector(ring, { entityId: o.id, name: o.name ?? toSovdId(o.id) })],
    status: () => {
      const s = ring.stats();
      const down = [s.writerState, s.readerState].find((e) => e === "dead" || e === "closed");
      return down === undefined
        ? { status: "ready", controls: [] }
        : { status: "notReady", controls: [], reason: `an end of the ring is ${down}` };
    },
    data: (): DataItem[] => {
      const s = ring.stats();
      return [{
        id: "ring",
        name: "Ring",
        category: "currentData",
        schema: RING_SCHEMA,
        value: {
          slots: s.slots,
          frames_sent: s.framesSent,
          frames_received: s.framesReceived,
          in_flight: s.inFlight,
          credit: s.credit,
          min_credit: s.minCredit,
          utilization_ratio: s.utilizationRatio,
          would_block: s.wouldBlock,
          discarded: s.discarded,
          writer_state: s.writerState,
          reader_state: s.readerState,
          writer_deaths: s.writerDeaths,
          reader_deaths: s.readerDeaths,
        },
      }];
    },
  });
}
