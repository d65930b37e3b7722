// An island module whose init() does async file I/O: Deno runs it on threads
// the island's thread starts. A task that does nothing.
export async function init(): Promise<void> {
  for (let i = 0; i < 4; i++) await Deno.readTextFile(new URL(import.meta.url));
}

export function tick(): void {}
