// A sampler: takes a (synthetic) reading at 100 Hz, publishes it on
// "sampler.readings" as { seq, t, value } and sends it as a frame on a data
// port the kernel offers (capability "dataport"; "readings" for the default
// export): time, value and sequence number as three float64, then padding up
// to `frameBytes` (24 for the default export) filled with the sequence
// number's low byte, so a consumer can check each frame whole. A reading
// whose frame finds no credit is not sent (counted in `frames_refused_total`).
// Runs in a Worker with no permissions; the same module runs inline or in a
// process unchanged. `samplerPlugin()` makes one with other frames (the
// demo's examples/demo/plugins/sampler.ts: 1 KiB on port "frames").
import { definePlugin, type Plugin } from "../../src/plugin/author.ts";

const HEADER_BYTES = 24;

/** Options of {@linkcode samplerPlugin}. */
export interface SamplerOptions {
  /** Bytes per frame (at least 24). @default {24} */
  frameBytes?: number;
  /** The data port's name. @default {"readings"} */
  port?: string;
}

/** A 100 Hz sampler that sends `frameBytes`-byte frames on data port `port`. */
export function samplerPlugin(options: SamplerOptions = {}): Plugin {
  const frameBytes = Math.max(HEADER_BYTES, options.frameBytes ?? HEADER_BYTES);
  const portName = options.port ?? "readings";
  return definePlugin({
    init(ctx) {
      const port = ctx.dataPort(portName);
      const readings = ctx.metrics.counter({ name: "readings_total", help: "Readings taken" });
      const refused = ctx.metrics.counter({
        name: "frames_refused_total",
        help: "Frames not sent because the port had no credit",
      });
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
          if (!port.writable) {
            refused.labels().inc();
          } else {
            header[0] = t;
            header[1] = value;
            header[2] = seq;
            bytes.fill(seq & 0xff, HEADER_BYTES);
            port.send(bytes);
          }
          seq++;
        },
      });
      ctx.log.info(`sampling at 100 Hz, ${frameBytes}-byte frames on port "${portName}"`);
    },
  });
}

export default samplerPlugin();
