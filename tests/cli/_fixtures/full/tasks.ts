// The cron task of the full test config: counts its runs.
let runs = 0;

/** Runs once a second. */
export function everySecond(): void {
  runs++;
}

/** How often the cron task ran. */
export function cronRuns(): number {
  return runs;
}
