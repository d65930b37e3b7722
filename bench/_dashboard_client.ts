// A dashboard client at the page's real rate, in its own process, for the
// `dashboard` case of `bench:server`:
//
//   deno run --allow-net=127.0.0.1 bench/_dashboard_client.ts <base url> <seconds> <app id>
//
// What src/server/dashboard/app.js does with one app open: one snapshot a
// second (with its cursor), the SSE fault stream held open, the open app's
// detail, data list and data items every 2 s, and the entity tree's four
// collections every 10 s. Prints one JSON object: requests, errors, bytes.

const [base, seconds, app] = Deno.args;
if (base === undefined || seconds === undefined || app === undefined) {
  console.error("usage: _dashboard_client.ts <base url> <seconds> <app id>");
  Deno.exit(2);
}
const end = performance.now() + Number(seconds) * 1000;
let requests = 0;
let errors = 0;
let bytes = 0;

async function get(path: string): Promise<unknown> {
  requests++;
  try {
    const response = await fetch(`${base}${path}`);
    const text = await response.text();
    bytes += text.length;
    if (!response.ok) errors++;
    return JSON.parse(text);
  } catch {
    errors++;
    return undefined;
  }
}

const stream = new AbortController();
const faults = fetch(`${base}/api/v1/faults/stream`, { signal: stream.signal })
  .then(async (r) => {
    for await (const chunk of r.body!) bytes += chunk.length;
  })
  .catch(() => {});

let seq = 0;
for (let tick = 0; performance.now() < end; tick++) {
  const due = performance.now() + 1000;
  const snap = await get(`/dashboard/api/snapshot?after=${seq}`) as { seq?: number } | undefined;
  seq = snap?.seq ?? seq;
  if (tick % 2 === 0) {
    const href = `/api/v1/apps/${app}`;
    await get(href);
    const data = await get(`${href}/data`) as { items?: { id: string }[] } | undefined;
    await Promise.all((data?.items ?? []).map((d) => get(`${href}/data/${d.id}`)));
  }
  if (tick % 10 === 0) {
    await Promise.all(["components", "apps", "areas", "functions"].map((c) => get(`/api/v1/${c}`)));
  }
  const wait = due - performance.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
stream.abort();
await faults;
console.log(JSON.stringify({ requests, errors, bytes }));
