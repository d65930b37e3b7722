// A sampler: takes a (synthetic) reading at 100 Hz, publishes it on
// "sampler.readings" as { seq, t, value } and sends it as a frame on a data
// port the kernel offers (capability "dataport"; "readings" for the default
// export): time, value and sequence number as three float64, then padding up
// to `frameBytes` (24 for the default export) filled with the sequence
// number's low byte, so a consumer can check each frame whole.
//
// Credit backpressure, nothing lost: a reading whose frame finds no credit
// (the kernel's thread or the consumer is behind, a consumer is being hot
// reloaded) waits in a backlog, in order, and goes out as credit returns
// (`whenWritable()`). Only past `backlog` frames (10 s at 100 Hz by default)
// is a frame not sent: counted in `frames_refused_total`. `stop` sends what
// is still waiting, for up to a second. Runs in a Worker with no
// permissions; the same module runs inline or in a process unchanged.
// `samplerPlugin()` makes one with other frames (the demo's
// examples/demo/plugins/sampler.ts: 1 KiB on port "frames").
import { definePlugin, type Plugin, type PluginDataPort } from "../../src/plugin/author.ts";

const HEADER_BYTES = 24;
/** How long `stop` waits for credit to send the backlog, ms. */
const STOP_FLUSH_MS = 1000;

/** Options of {@linkcode samplerPlugin}. */
export interface SamplerOptions {
  /** Bytes per frame (at least 24). @default {24} */
  frameBytes?: number;
  /** The data port's name. @default {"readings"} */
  port?: string;
  /** Frames at most waiting for credit; past it a frame is refused. @default {1000} */
  backlog?: number;
}

/** A 100 Hz sampler that sends `frameBytes`-byte frames on data port `port`. */
export function samplerPlugin(options: SamplerOptions = {}): Plugin {
  const frameBytes = Math.max(HEADER_BYTES, options.frameBytes ?? HEADER_BYTES);
  const portName = options.port ?? "readings";
  const backlogCap = Math.max(0, options.backlog ?? 1000);
  let backlog: Backlog | undefined;
  return definePlugin({
    init(ctx) {
      const refused = ctx.metrics.counter({
        name: "frames_refused_total",
        help: "Frames not sent because the port had no credit and the backlog was full",
      });
      const waiting = ctx.metrics.gauge({
        name: "frames_backlog",
        help: "Frames waiting for the port's credit",
      });
      backlog = new Backlog(ctx.dataPort(portName), backlogCap, {
        refused: (n) => refused.labels().inc(n),
        size: (n) => waiting.labels().set(n),
      });
      const readings = ctx.metrics.counter({ name: "readings_total", help: "Readings taken" });
      const bytes = new Uint8Array(frameBytes);
      const header = new Float64Array(bytes.buffer, 0, 3);
      let seq = 0;
      ctx.every({
        name: "sample",
        periodMs: 10,
        run: (run) => {
          const t = run.release / 1000;
          const value = 20 + 5 * Math.sin(2 * Math.PI * 0.5 * t) + (Math.random() - 0.5) * 0.2;
          readings.labels().inc();
          ctx.publish("sampler.readings", { seq, t, value });
          header[0] = t;
          header[1] = value;
          header[2] = seq;
          bytes.fill(seq & 0xff, HEADER_BYTES);
          backlog!.send(bytes);
          seq++;
        },
      });
      ctx.log.info(`sampling at 100 Hz, ${frameBytes}-byte frames on port "${portName}"`);
    },
    stop: () => backlog?.drain(STOP_FLUSH_MS),
  });
}

/** What the backlog reports. */
interface BacklogReport {
  refused(n: number): void;
  size(n: number): void;
}

/** Frames waiting, in order, for a port's credit. */
class Backlog {
  readonly #port: PluginDataPort;
  readonly #cap: number;
  readonly #report: BacklogReport;
  readonly #frames: Uint8Array[] = [];
  #waiting = false;

  constructor(port: PluginDataPort, cap: number, report: BacklogReport) {
    this.#port = port;
    this.#cap = cap;
    this.#report = report;
  }

  /** Sends `bytes` (copied) now, or after the frames before it; refuses it past the cap. */
  send(bytes: Uint8Array): void {
    if (this.#frames.length === 0 && this.#port.writable) {
      this.#port.send(bytes);
      return;
    }
    if (this.#frames.length >= this.#cap) {
      this.#report.refused(1);
      return;
    }
    this.#frames.push(bytes.slice());
    this.#flush();
  }

  /** Sends what waits as credit comes, for up to `ms`; what is left then is refused. */
  async drain(ms: number): Promise<void> {
    const end = performance.now() + ms;
    while (this.#frames.length > 0) {
      const left = end - performance.now();
      if (left <= 0 || await this.#port.whenWritable({ timeoutMs: left }) !== "ready") break;
      this.#flush();
    }
    this.#drop();
  }

  #flush(): void {
    const frames = this.#frames;
    while (frames.length > 0 && this.#port.writable) this.#port.send(frames.shift()!);
    this.#report.size(frames.length);
    if (frames.length === 0 || this.#waiting) return;
    this.#waiting = true;
    this.#port.whenWritable().then((result) => {
      this.#waiting = false;
      if (result === "ready") this.#flush();
      else this.#drop();
    }, () => {
      this.#waiting = false;
      this.#drop();
    });
  }

  #drop(): void {
    if (this.#frames.length === 0) return;
    this.#report.refused(this.#frames.length);
    this.#frames.length = 0;
    this.#report.size(0);
  }
}

export default samplerPlugin();
