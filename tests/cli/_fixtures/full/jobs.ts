// The offload jobs of the full test config.

/** The default export: job "double". */
export default function double(n: number): number {
  return 2 * n;
}

/** A named export: job "triple" ("./jobs.ts#triple"). */
export function triple(n: number): number {
  return 3 * n;
}
