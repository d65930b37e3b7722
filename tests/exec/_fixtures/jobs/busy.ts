/** Spins synchronously for `ms`: a job that overruns its timeout in synchronous code. */
export default function busy(ms: number): number {
  const end = performance.now() + ms;
  let spins = 0;
  while (performance.now() < end) spins++;
  return spins;
}
