import { twice } from "./b.ts";

export function double(x: number): number {
  return twice(x);
}
