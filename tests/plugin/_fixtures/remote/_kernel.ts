// The kernel's parts on the real clock for the remote-host tests (real
// Workers and processes run on real time), and helpers that wait on events
// with a generous give-up (a safety net, not a bound under test).
import { Driver } from "../../../../src/time/driver.ts";
import { EventBus } from "../../../../src/bus/event_bus.ts";
import { Executor } from "../../../../src/exec/executor.ts";
import { MetricsRegistry } from "../../../../src/metrics/registry.ts";
import { validateManifest } from "../../../../src/plugin/manifest.ts";
import type { PluginManifest, ResolvedManifest } from "../../../../src/plugin/manifest_types.ts";
import { PluginManager, type PluginManagerOptions } from "../../../../src/plugin/plugin_manager.ts";
import { type RecordingLogger, recordingLogger } from "../../../_util/logger.ts";

/** Give up waiting after this long: only turns a hang of the test into a failure. */
export const GIVE_UP_MS = 60_000;

/** The kernel's parts on the real clock. */
export interface RealParts extends Disposable {
  driver: Driver;
  bus: EventBus;
  executor: Executor;
  metrics: MetricsRegistry;
  logger: RecordingLogger;
}

/** Makes the kernel's parts on the real clock. */
export function realParts(): RealParts {
  const logger = recordingLogger();
  const driver = new Driver({ logger });
  const bus = new EventBus({ logger });
  const metrics = new MetricsRegistry({ logger });
  const executor = new Executor({ driver, bus, logger, metrics });
  return {
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

/** A manager over real parts. */
export function realManager(
  p: RealParts,
  options: Partial<PluginManagerOptions> = {},
): PluginManager {
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

/** A resolved manifest of a remote fixture. */
export function remoteManifest(
  name: string,
  file: string,
  isolation: "inline" | "worker" | "process",
  extra: Partial<PluginManifest> = {},
): ResolvedManifest {
  return validateManifest({
    name,
    version: "1.0.0",
    entry: new URL(file, import.meta.url).href,
    isolation,
    ...extra,
  });
}

/** Resolves with the first event on `topic` that `accept` takes. */
export function nextEvent<T>(
  bus: EventBus,
  topic: string,
  accept: (event: T) => boolean = () => true,
): Promise<T> {
  const { promise, resolve, reject } = Promise.withResolvers<T>();
  const timer = setTimeout(
    () => reject(new Error(`No event on "${topic}" within ${GIVE_UP_MS} ms`)),
    GIVE_UP_MS,
  );
  const subscription = bus.topic<T>(topic).subscribe((event) => {
    if (accept(event)) resolve(event);
  });
  return promise.finally(() => {
    clearTimeout(timer);
    subscription.unsubscribe();
  });
}

/** Resolves once `condition()` holds, polling every 5 ms; rejects after the give-up. */
export async function eventually(condition: () => boolean, what: string): Promise<void> {
  const start = performance.now();
  while (!condition()) {
    if (performance.now() - start > GIVE_UP_MS) throw new Error(`Gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resolves with the first telemetry event of `plugins` (held now or later) that `accept` takes. */
export async function telemetryEvent(
  plugins: PluginManager,
  accept: (event: { kind: string; plugin?: string; reason?: string }) => boolean,
): Promise<{ kind: string; plugin?: string; reason?: string }> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), GIVE_UP_MS);
  try {
    for await (const event of plugins.telemetry.events({ from: "oldest", signal: abort.signal })) {
      if (accept(event as never)) return event as never;
    }
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  throw new Error(`No matching telemetry event within ${GIVE_UP_MS} ms`);
}
