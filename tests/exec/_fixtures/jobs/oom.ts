/** Allocates until its worker runs out of heap: a job that would take the process down with it. */
export default function oom(): number {
  const chunks: number[][] = [];
  for (;;) chunks.push(new Array(10_000).fill(1.5));
}
