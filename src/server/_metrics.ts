// GET /metrics: the registry's exposition in the format the Accept header
// asks for (Prometheus text 0.0.4 or OpenMetrics 1.0), optionally filtered
// with `?name[]=` as Prometheus client libraries accept it.

import type { MetricsRegistry } from "../metrics/registry.ts";
import {
  expositionContentType,
  type ExpositionFormat,
  negotiateExpositionFormat,
} from "../metrics/exposition.ts";
import { badRequest } from "./_errors.ts";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const MAX_NAMES = 256;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Parses the `name[]` values of a `/metrics` query. */
export function parseMetricNames(query: URLSearchParams): Set<string> | undefined {
  const values = query.getAll("name[]");
  if (values.length === 0) return undefined;
  if (values.length > MAX_NAMES) {
    throw badRequest(
      `Cannot filter metrics as 'name[]' must be given at most ${MAX_NAMES} times: current count is ${values.length}`,
      "name[]",
    );
  }
  for (const value of values) {
    if (!METRIC_NAME.test(value)) {
      throw badRequest(
        `Cannot filter metrics as 'name[]' must be a metric name: current value is ${
          JSON.stringify(value)
        }`,
        "name[]",
      );
    }
  }
  return new Set(values);
}

/**
 * Keeps the families named (by family name or by a sample's name, as the
 * Prometheus clients do), with their HELP/TYPE/UNIT lines; keeps `# EOF`.
 */
export function filterExposition(text: string, names: ReadonlySet<string>): string {
  const out: string[] = [];
  let family = "";
  let meta: string[] = [];
  let samples: string[] = [];
  const flush = () => {
    if (samples.length > 0 || names.has(family)) out.push(...meta, ...samples);
    meta = [];
    samples = [];
  };
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line === "# EOF") {
      flush();
      out.push(line);
      continue;
    }
    if (line.startsWith("# ")) {
      const name = line.split(" ")[2] ?? "";
      if (name !== family) {
        flush();
        family = name;
      }
      meta.push(line);
      continue;
    }
    const end = line.search(/[{ ]/);
    const sample = end < 0 ? line : line.slice(0, end);
    if (names.has(family) || names.has(sample)) samples.push(line);
  }
  flush();
  return out.length === 0 ? "" : out.join("\n") + "\n";
}

/**
 * Serves `/metrics` from a short-lived cache per format: scrapes within
 * `maxAgeMs` of the last encoding share its bytes, so a scrape storm costs
 * one encoding per `maxAgeMs` (time on the kernel's clock).
 */
export class MetricsEndpoint {
  readonly #registry: MetricsRegistry;
  readonly #now: () => number;
  readonly #maxAgeMs: number;
  readonly #cache = new Map<ExpositionFormat, { atMs: number; bytes: Uint8Array<ArrayBuffer> }>();

  constructor(registry: MetricsRegistry, now: () => number, maxAgeMs: number) {
    this.#registry = registry;
    this.#now = now;
    this.#maxAgeMs = maxAgeMs;
  }

  /** The response for an Accept header and a query. */
  respond(accept: string | null, query: URLSearchParams): Response {
    const names = parseMetricNames(query);
    const format: ExpositionFormat = negotiateExpositionFormat(accept);
    const headers = { "content-type": expositionContentType(format), "cache-control": "no-store" };
    const bytes = this.#bytes(format);
    if (names === undefined) return new Response(bytes, { status: 200, headers });
    const text = filterExposition(decoder.decode(bytes), names);
    const body = format === "openmetrics" && !text.endsWith("# EOF\n") ? text + "# EOF\n" : text;
    return new Response(encoder.encode(body), { status: 200, headers });
  }

  #bytes(format: ExpositionFormat): Uint8Array<ArrayBuffer> {
    const now = this.#now();
    const cached = this.#cache.get(format);
    if (cached !== undefined && now - cached.atMs < this.#maxAgeMs && now >= cached.atMs) {
      return cached.bytes;
    }
    // The registry reuses its buffer: copy before the next scrape overwrites it.
    const bytes = this.#registry.expose(format).slice();
    if (this.#maxAgeMs > 0) this.#cache.set(format, { atMs: now, bytes });
    return bytes;
  }
}
