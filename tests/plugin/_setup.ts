// Shared set-up of the plugin tests: the kernel's parts on a VirtualClock, a
// recording logger, and manifests of the fixture plugins.
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { Driver } from "../../src/time/driver.ts";
import { EventBus } from "../../src/bus/event_bus.ts";
import { Executor } from "../../src/exec/executor.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { validateManifest } from "../../src/plugin/manifest.ts";
import type { PluginManifest, ResolvedManifest } from "../../src/plugin/manifest_types.ts";
import { PluginManager, type PluginManagerOptions } from "../../src/plugin/plugin_manager.ts";
import { RemoteRuntime } from "../../src/plugin/_remote_runtime.ts";
import {
  createBlock,
  type Op,
  type PluginMessage,
  type RemoteHello,
} from "../../src/plugin/_remote_protocol.ts";
import { type RecordingLogger, recordingLogger } from "../_util/logger.ts";

/** The kernel's parts, on a virtual clock. */
export interface Parts extends Disposable {
  clock: VirtualClock;
  driver: Driver;
  bus: EventBus;
  executor: Executor;
  metrics: MetricsRegistry;
  logger: RecordingLogger;
}

/** Makes the kernel's parts on a virtual clock. */
export function parts(): Parts {
  const clock = new VirtualClock();
  const logger = recordingLogger();
  const driver = new Driver({ clock, logger });
  const bus = new EventBus({ clock, logger });
  const metrics = new MetricsRegistry({ logger });
  const executor = new Executor({ driver, bus, logger, metrics });
  return {
    clock,
    driver,
    bus,
    executor,
    metrics,
    logger,
    [Symbol.dispose]() {
      executor.close();
      bus.close();
      driver.close();
    },
  };
}

/** The URL of a fixture plugin module. */
export function fixture(file: string): URL {
  return new URL(`./_fixtures/${file}`, import.meta.url);
}

/** A resolved inline manifest of a fixture. */
export function manifest(
  name: string,
  file: string,
  extra: Partial<PluginManifest> = {},
): ResolvedManifest {
  return validateManifest({
    name,
    version: "1.0.0",
    entry: fixture(file).href,
    isolation: "inline",
    ...extra,
  });
}

/** A manager over `p`, with seeded jitter. */
export function manager(p: Parts, options: Partial<PluginManagerOptions> = {}): PluginManager {
  return new PluginManager({
    driver: p.driver,
    executor: p.executor,
    bus: p.bus,
    metrics: p.metrics,
    logger: p.logger,
    seed: 1,
    ...options,
  });
}

/** Advances virtual time in steps, letting lifecycle operations settle after each. */
export async function advance(p: Parts, plugins: PluginManager, ms: number): Promise<void> {
  await plugins.whenIdle();
  p.clock.advance(ms);
  await plugins.whenIdle();
}

/** Yields to the event loop until `condition()` holds (at most `rounds` turns). */
export async function until(condition: () => boolean, rounds = 200): Promise<void> {
  for (let i = 0; i < rounds && !condition(); i++) {
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }
  if (!condition()) throw new Error("The condition did not hold");
}

/** A plugin runtime on a transport that records what it sends. */
export interface RecordedRuntime {
  runtime: RemoteRuntime;
  /** Every message it sent, in order. */
  sent: PluginMessage[];
  /** The ops of every batch it sent, in order. */
  ops(): Op[];
  /** Its shared block (a worker plugin's). */
  block: SharedArrayBuffer;
}

/**
 * Runs a plugin module in the worker and process hosts' runtime, on a
 * transport that records what it sends; the test hands it the host's
 * messages (`runtime.receive`).
 */
export function recordedRuntime(
  module: unknown,
  hello: Partial<RemoteHello> = {},
): RecordedRuntime {
  const sent: PluginMessage[] = [];
  const block = createBlock();
  const runtime = new RemoteRuntime({
    send: (message) => sent.push(message),
    listen: () => {},
  }, {
    t: "hello",
    name: "recorded",
    version: "1.0.0",
    isolation: "worker",
    capabilities: ["subscribe", "publish"],
    taskBudgetMs: 100,
    heartbeatMs: 3_600_000,
    flushMs: 3_600_000,
    maxInflight: 10_000,
    maxFamilies: 10,
    block,
    ...hello,
  }, module);
  return { runtime, sent, block, ops: () => sent.flatMap((m) => m.t === "batch" ? m.ops : []) };
}
