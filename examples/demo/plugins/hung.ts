// The demo's hung plugin: examples/plugins/hung.ts, spinning 1.5 s in
// synchronous code 5 s after each start (in a Worker: a zombie until the spin ends).
import { hungPlugin } from "../../plugins/hung.ts";

export default hungPlugin({ spinAfterMs: 5000, spinMs: 1500 });
