// The example sampler with a backlog of 2 frames (tests/examples/sampler_test.ts).
import { samplerPlugin } from "../../../examples/plugins/sampler.ts";

export default samplerPlugin({ backlog: 2 });
