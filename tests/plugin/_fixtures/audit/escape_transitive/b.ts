import { outside } from "../shared/outside.ts";

export const b = outside;
