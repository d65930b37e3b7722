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
// (`whenWritable()`). A frame is not sent only when the backlog is full
// (`backlog` frames, 10 s at 100 Hz by default), when the port closes, or
// when `stop`'s wait for credit (up to a second) runs out: each counted in
// `frames_refused_total`. An instance stopped without its `stop` (killed:
// its signal aborted and no drain running) drops its backlog when credit
// comes, and sends nothing more. Runs in a Worker with no
// permissions; the same module runs inline or in a process unchanged.
// `samplerPlugin()` makes one with other frames (the demo's
// examples/demo/plugins/sampler.ts: 1 KiB on port "frames").
import {
  definePlugin,
  type Plugin,
  type PluginContext,
  type PluginDataPort,
  WOULD_BLOCK,
} from "../../src/plugin/author.ts";
import { show } from "../../src/internal/validate.ts";

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
  const backlogCap = options.backlog ?? 1000;
  if (!Number.isSafeInteger(backlogCap) || backlogCap < 0) {
    throw new RangeError(
      `Cannot make a sampler as 'backlog' must be an integer >= 0: current value is ${
        show(backlogCap)
      }`,
    );
  }
  // One backlog per instance (a restart or reload makes a new context).
  const backlogs = new WeakMap<PluginContext, Backlog>();
  return definePlugin({
    init(ctx) {
      const refused = ctx.metrics.counter({
        name: "frames_refused_total",
        help:
          "Frames not sent: the backlog was full, or the port closed, or stop's wait for credit ran out",
      });
      const waiting = ctx.metrics.gauge({
        name: "frames_backlog",
        help: "Frames waiting for the port's credit",
      });
      const backlog = new Backlog(ctx.dataPort(portName), backlogCap, () => ctx.signal.aborted, {
        refused: (n) => refused.labels().inc(n),
        size: (n) => waiting.labels().set(n),
      });
      backlogs.set(ctx, backlog);
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
          backlog.send(bytes);
          seq++;
        },
      });
      ctx.log.info(`sampling at 100 Hz, ${frameBytes}-byte frames on port "${portName}"`);
    },
    stop: (ctx) => backlogs.get(ctx)?.drain(STOP_FLUSH_MS),
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
  readonly #stopped: () => boolean;
  readonly #report: BacklogReport;
  readonly #frames: Uint8Array[] = [];
  #waiting = false;
  #draining = false;

  /**
   * @param stopped Whether the instance is stopped (its context's signal,
   * read each time: a rollback starts it again with a new one).
   */
  constructor(port: PluginDataPort, cap: number, stopped: () => boolean, report: BacklogReport) {
    this.#port = port;
    this.#cap = cap;
    this.#stopped = stopped;
    this.#report = report;
  }

  /** Sends `bytes` (copied) after the frames before it; refuses it past the cap. */
  send(bytes: Uint8Array): void {
    // What credit came back since the last reading goes to the oldest first.
    this.#flush();
    if (
      this.#frames.length === 0 && this.#port.writable && this.#port.send(bytes) !== WOULD_BLOCK
    ) {
      return;
    }
    if (this.#frames.length >= this.#cap) return this.#report.refused(1);
    this.#frames.push(bytes.slice());
    this.#flush();
  }

  /** Sends what waits as credit comes, for up to `ms`; what is left then is refused. */
  async drain(ms: number): Promise<void> {
    const end = performance.now() + ms;
    this.#draining = true;
    try {
      while (this.#frames.length > 0) {
        const left = end - performance.now();
        if (left <= 0 || await this.#port.whenWritable({ timeoutMs: left }) !== "ready") break;
        this.#flush();
      }
    } finally {
      this.#draining = false;
      this.#drop();
    }
  }

  /** Sends from the head while the port takes frames; else waits for credit once. */
  #flush(): void {
    const frames = this.#frames;
    try {
      while (frames.length > 0 && this.#port.writable) {
        if (this.#port.send(frames[0]!) === WOULD_BLOCK) break;
        frames.shift();
      }
    } catch {
      // The port closed under us: nothing waiting can be sent any more.
      return this.#drop();
    }
    this.#report.size(frames.length);
    if (frames.length === 0 || this.#waiting) return;
    this.#waiting = true;
    this.#port.whenWritable().then((result) => {
      this.#waiting = false;
      // Stopped with no drain running: killed, or its stop gave up.
      if (result === "ready" && (this.#draining || !this.#stopped())) this.#flush();
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
