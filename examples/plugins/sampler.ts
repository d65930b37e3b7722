// A sampler: takes a (synthetic) reading at 100 Hz, publishes it on
// "sampler.readings" and sends it as a 16-byte frame (time, value as two
// float64) on the data port "readings" the kernel offers (capability
// "dataport"). Runs in a Worker with no permissions; the same module runs
// inline or in a process unchanged.
import { definePlugin } from "../../src/plugin/author.ts";

export default definePlugin({
  init(ctx) {
    const port = ctx.dataPort("readings");
    const readings = ctx.metrics.counter({ name: "readings_total", help: "Readings taken" });
    const refused = ctx.metrics.counter({
      name: "frames_refused_total",
      help: "Frames not sent because the port had no credit",
    });
    const frame = new Float64Array(2);
    const bytes = new Uint8Array(frame.buffer);
    ctx.every({
      name: "sample",
      periodMs: 10,
      run: (run) => {
        const t = run.release / 1000;
        const value = 20 + 5 * Math.sin(2 * Math.PI * 0.5 * t) + (Math.random() - 0.5) * 0.2;
        readings.labels().inc();
        ctx.publish("sampler.readings", { t, value });
        if (!port.writable) {
          refused.labels().inc();
          return;
        }
        frame[0] = t;
        frame[1] = value;
        port.send(bytes);
      },
    });
    ctx.log.info("sampling at 100 Hz");
  },
});
