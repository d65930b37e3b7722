// The browser side of tests/browser/dashboard_test.ts, run as its own
// process because playwright-core reads paths Deno grants only with
// --allow-all (it probes /proc/sys/fs/binfmt_misc/WSLInterop at launch):
//
//   deno run -A tests/browser/_drive.ts <dashboard url> <app id> [screenshot...]
//
// It drives Debian's Chromium through the dashboard and reports each step
// as one JSON line on stdout; it waits for a line on stdin ("fault") before
// it looks for the fault the test raises, so the fault is raised while the
// page is open. Every wait gives up after GIVE_UP_MS (a hang guard, not a
// timing assertion).
import { chromium } from "playwright-core";

// The page's globals, as far as the functions evaluated in it use them (this
// module is checked without the DOM library).
interface ChartElement {
  readonly dataset: Record<string, string | undefined>;
  querySelector(selector: string): unknown;
}
declare const document: { getElementById(id: string): ChartElement | null };

const GIVE_UP_MS = 60_000;
const CHARTS = ["lateness", "misses", "wakeups", "tiers", "plugins", "ports"];

const [url, appId, ...screenshots] = Deno.args;
if (url === undefined || appId === undefined) {
  console.error("usage: _drive.ts <dashboard url> <app id> [screenshot...]");
  Deno.exit(2);
}

function say(step: string, data: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ step, ...data }));
}

const browser = await chromium.launch({
  executablePath: Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium",
  // Playwright gives every launch a fresh temporary --user-data-dir.
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(GIVE_UP_MS);
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`page: ${e.message}`));
  page.on("requestfailed", (r) => {
    // The fault stream is cut when the page closes: not an error of the page.
    if (!r.url().includes("/faults/stream")) errors.push(`request failed: ${r.url()}`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`);
  });

  await page.goto(url);
  // Every chart has a series and at least two points.
  await page.waitForFunction((ids: string[]) =>
    ids.every((id) => {
      const el = document.getElementById(`chart-${id}`);
      return el !== null && Number(el.dataset.points ?? 0) >= 2 &&
        Number(el.dataset.series ?? 0) > 0;
    }), CHARTS);
  const redraws = await page.evaluate(
    () => Number(document.getElementById("chart-lateness")!.dataset.redraws ?? 0),
  );
  await page.waitForFunction(
    (before: number) => Number(document.getElementById("chart-lateness")!.dataset.redraws) > before,
    redraws,
  );
  const charts = await page.evaluate((ids: string[]) =>
    Object.fromEntries(ids.map((id) => {
      const el = document.getElementById(`chart-${id}`)!;
      return [id, {
        points: Number(el.dataset.points),
        series: Number(el.dataset.series),
        redraws: Number(el.dataset.redraws),
        canvas: el.querySelector("canvas") !== null,
      }];
    })), CHARTS);
  say("loaded", { charts, redrawsBefore: redraws, title: await page.title() });

  // Any line from the test means it has made a task miss its deadlines.
  await Deno.stdin.read(new Uint8Array(64));
  const fault = page.locator('#fault-list li[data-code="DEADLINE_MISS"]').first();
  await fault.waitFor();
  say("fault", {
    text: await fault.textContent(),
    status: await fault.getAttribute("data-status"),
  });

  await page.click(`#entity-tree button[data-entity="apps/${appId}"]`);
  const timing = page.locator('#entity-detail pre[data-item="timing"]');
  await timing.waitFor();
  say("entity", {
    entity: await page.getAttribute("#entity-detail", "data-entity"),
    timing: JSON.parse((await timing.textContent()) ?? "null"),
  });

  // For the README's picture, a longer history (SHOT_MIN_POINTS points).
  await page.waitForFunction(
    (min: number) => Number(document.getElementById("chart-lateness")!.dataset.points) >= min,
    Number(Deno.env.get("SHOT_MIN_POINTS") ?? 0),
  );
  // Every plot with data in the picture: wait for the next redraw, then shoot.
  const now = await page.evaluate(
    () => Number(document.getElementById("chart-lateness")!.dataset.redraws),
  );
  await page.waitForFunction(
    (before: number) => Number(document.getElementById("chart-lateness")!.dataset.redraws) > before,
    now,
  );
  const written = [];
  for (const path of screenshots) {
    const dir = path.slice(0, path.lastIndexOf("/"));
    if (dir !== "") await Deno.mkdir(dir, { recursive: true });
    await page.screenshot({ path });
    const bytes = await Deno.readFile(path);
    // "\x89PNG" opens every PNG file.
    written.push({ path, bytes: bytes.length, png: bytes[1] === 0x50 && bytes[2] === 0x4e });
  }
  say("done", { errors, screenshots: written });
} finally {
  await browser.close();
}
