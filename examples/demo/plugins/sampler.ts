// The demo's sampler: examples/plugins/sampler.ts, sending 1 KiB frames on port "frames".
import { samplerPlugin } from "../../plugins/sampler.ts";

export default samplerPlugin({ frameBytes: 1024, port: "frames" });
