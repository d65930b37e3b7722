// A dashboard client at the page's real rate, in its own process, for the
// `dashboard` case of `bench:server`:
//
//   deno run --allow-net=127.0.0.1 bench/_dashboard_client.ts <base url> <app id>
//
// It stays up for the whole case and is switched by lines on stdin, so that
// no measured run pays for a process starting: `on` opens the page (the SSE
// fault stream, then what src/server/dashboard/app.js asks with one app
// open: one snapshot a second with its cursor, the open app's detail, data
// list and data items every 5 s, the entity tree's four collections at the
// start and every 60 s; the page also reloads the tree when a snapshot's
// tasks or plugins change, and here they do not); `off` closes it and
// prints one JSON line `{ requests, errors, bytes, seconds }` for the time
// it was open; end of input ends the process.

import { serveSwitched } from "./_switched_process.ts";

const [base, app] = Deno.args;
if (base === undefined || app === undefined) {
  console.error("usage: _dashboard_client.ts <base url> <app id>");
  Deno.exit(2);
}

interface Tally {
  requests: number;
  errors: number;
  bytes: number;
}

async function get(tally: Tally, path: string): Promise<unknown> {
  tally.requests++;
  try {
    const response = await fetch(`${base}${path}`);
    const text = await response.text();
    tally.bytes += text.length;
    if (!response.ok) tally.errors++;
    return JSON.parse(text);
  } catch {
    tally.errors++;
    return undefined;
  }
}

/** The page, open until `signal` aborts; resolves with what it asked. */
async function page(signal: AbortSignal): Promise<Tally & { seconds: number }> {
  const tally: Tally = { requests: 0, errors: 0, bytes: 0 };
  const opened = performance.now();
  const stream = fetch(`${base}/api/v1/faults/stream`, { signal })
    .then(async (r) => {
      for await (const chunk of r.body!) tally.bytes += chunk.length;
    })
    .catch(() => {});
  let seq = 0;
  for (let tick = 0; !signal.aborted; tick++) {
    const due = performance.now() + 1000;
    const snap = await get(tally, `/dashboard/api/snapshot?after=${seq}`) as
      | { seq?: number }
      | undefined;
    seq = snap?.seq ?? seq;
    if (tick % 5 === 0) {
      const href = `/api/v1/apps/${app}`;
      await get(tally, href);
      const data = await get(tally, `${href}/data`) as { items?: { id: string }[] } | undefined;
      await Promise.all((data?.items ?? []).map((d) => get(tally, `${href}/data/${d.id}`)));
    }
    if (tick % 60 === 0) {
      await Promise.all(
        ["components", "apps", "areas", "functions"].map((c) => get(tally, `/api/v1/${c}`)),
      );
    }
    const wait = due - performance.now();
    if (wait > 0 && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
    }
  }
  await stream;
  return { ...tally, seconds: (performance.now() - opened) / 1000 };
}

await serveSwitched(page);
