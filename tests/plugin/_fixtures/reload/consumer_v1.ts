// Version 1 of the consumer: state version 1, { count }.
import { consumer } from "./_lib.ts";

export default consumer({ stateVersion: 1 });
