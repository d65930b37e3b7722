// Task bodies of the `chronetix run` test config.
let ticks = 0;
let sent = 0;

/** A periodic task: counts its runs. */
export function tick(): void {
  ticks++;
}

/** An event task on "producer.sent": keeps the producer's last count. */
export function onSent(ctx: { event: { sent: number } }): void {
  sent = ctx.event.sent;
}

/** What the tasks saw. */
export function counts(): { ticks: number; sent: number } {
  return { ticks, sent };
}
