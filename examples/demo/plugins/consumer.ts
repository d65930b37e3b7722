// The demo's consumer: takes the sampler's readings two ways, as bus events
// ("sampler.readings", { seq, t, value }) and as frames on the data port
// "frames" (examples/plugins/sampler.ts: t, value, seq as float64, then
// padding filled with the low byte of seq). It counts both, checks that each
// sequence goes up by one (a gap is a reading lost) and that every frame is
// whole, publishes its counts on "consumer.counts" every 250 ms and when it
// stops, and hands them over on a hot reload (state version 1), so the
// counts run on across versions. The demo script reloads it every 15 s.
import { definePlugin, type PluginContext } from "../../../src/plugin/author.ts";

/** What the consumer counted; handed over on reload and published. */
export interface ConsumerCounts {
  /** Bus events taken. */
  events: number;
  /** The last event's sequence number (-1 before the first). */
  lastEventSeq: number;
  /** Event sequence numbers skipped, repeated or out of order. */
  eventGaps: number;
  /** Frames taken. */
  frames: number;
  /** Payload bytes taken. */
  bytes: number;
  /** The last frame's sequence number (-1 before the first). */
  lastFrameSeq: number;
  /** Frame sequence numbers skipped, repeated or out of order. */
  frameGaps: number;
  /** Frames whose padding did not match their sequence number. */
  badFrames: number;
  /** Where the first frame gaps were: `[expected, got]` (at most 10). */
  frameGapsAt: [number, number][];
  /** Instances that counted so far (1 + reloads). */
  instances: number;
  /** This instance's version. */
  version: string;
}

const HEADER_BYTES = 24;
let counts: ConsumerCounts;

function report(ctx: PluginContext): void {
  ctx.publish("consumer.counts", { ...counts, version: ctx.version });
}

export default definePlugin({
  stateVersion: 1,
  init(ctx) {
    counts = {
      events: 0,
      lastEventSeq: -1,
      eventGaps: 0,
      frames: 0,
      bytes: 0,
      lastFrameSeq: -1,
      frameGaps: 0,
      badFrames: 0,
      frameGapsAt: [],
      instances: 1,
      version: ctx.version,
    };
    ctx.subscribe<{ seq: number }>("sampler.readings", ({ seq }) => {
      counts.events++;
      if (seq !== counts.lastEventSeq + 1) counts.eventGaps++;
      counts.lastEventSeq = seq;
    });
    ctx.every({ name: "report", periodMs: 250, run: () => report(ctx) });
  },
  // Frames are taken from `start` on, after `importState`: during a reload
  // the new instance's port may open as soon as the old one lets go (at the
  // drain), and a frame counted before the hand-over would be overwritten.
  start(ctx) {
    const port = ctx.dataPort("frames");
    const header = new Float64Array(3);
    const headerBytes = new Uint8Array(header.buffer);
    port.onFrame((meta, view) => {
      counts.frames++;
      counts.bytes += view.length;
      if (view.length < HEADER_BYTES) {
        counts.badFrames++;
      } else {
        headerBytes.set(view.subarray(0, HEADER_BYTES));
        const seq = header[2]!;
        if (seq !== counts.lastFrameSeq + 1) {
          counts.frameGaps++;
          if (counts.frameGapsAt.length < 10) {
            counts.frameGapsAt.push([counts.lastFrameSeq + 1, seq]);
          }
        }
        counts.lastFrameSeq = seq;
        const fill = seq & 0xff;
        if (view.subarray(HEADER_BYTES).some((b) => b !== fill)) counts.badFrames++;
      }
      port.recycle(meta);
    });
  },
  stop(ctx) {
    report(ctx);
  },
  exportState: () => ({ ...counts }),
  importState(state) {
    const before = state.value as ConsumerCounts;
    counts = { ...before, instances: before.instances + 1 };
  },
});
