// The Chronetix dashboard: polls {base}/dashboard/api/snapshot about once a
// second, draws its points with uPlot, keeps a fault list from the SSE fault
// stream, and browses the SOVD entity tree. Plain browser JavaScript, no
// build step; every text from the server goes through textContent.
//
// What it asks of the kernel is kept small (every request runs on the
// kernel's thread): the snapshot once a second, the open entity every 5 s,
// and the tree only when the snapshot's tasks or plugins change (or once a
// minute). A hidden tab polls five times less often.
"use strict";

(() => {
  const meta = (name) => document.querySelector(`meta[name="${name}"]`).content;
  const BASE = meta("chronetix-base");
  const MOUNT = meta("chronetix-mount");
  const POLL_MS = 1000;
  const ENTITY_EVERY = 5; // polls
  const TREE_EVERY = 60; // polls
  const KEEP = 600;
  const PALETTE = [
    "#1a5fb4",
    "#c01c28",
    "#26a269",
    "#e66100",
    "#813d9c",
    "#1c71d8",
    "#a51d2d",
    "#2ec27e",
    "#c64600",
    "#613583",
    "#986a44",
    "#5e5c64",
  ];
  const STATE_COLORS = {
    started: "#2ec27e",
    ready: "#99c1f1",
    initialized: "#bcd5f5",
    loaded: "#dbe7f8",
    stopped: "#c0bfbc",
    shutdown: "#77767b",
    failed: "#e01b24",
    unloaded: "#ebebeb",
  };
  const MARKS = {
    restart_scheduled: ["▲", "#b26a00"],
    restart_give_up: ["✕", "#b3261e"],
    auto_unload: ["✕", "#b3261e"],
    reload: ["↻", "#1a5fb4"],
    rollback: ["↺", "#c01c28"],
  };

  const state = {
    seq: 0,
    points: [],
    events: [],
    token: "",
    charts: {},
    open: null,
    members: null,
  };

  // --- requests -------------------------------------------------------------

  const hashToken = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (hashToken) {
    sessionStorage.setItem("chronetix-token", decodeURIComponent(hashToken[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  state.token = sessionStorage.getItem("chronetix-token") ?? "";

  function headers(extra = {}) {
    return state.token === "" ? extra : { ...extra, authorization: `Bearer ${state.token}` };
  }

  class Unauthorized extends Error {}

  async function getJson(url) {
    const response = await fetch(url, { headers: headers({ accept: "application/json" }) });
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new Unauthorized(`${response.status}`);
    }
    const body = await response.json();
    if (!response.ok) throw new Error(body.message ?? `HTTP ${response.status}`);
    return body;
  }

  const tokenForm = document.getElementById("token-form");
  tokenForm.addEventListener("submit", (event) => {
    event.preventDefault();
    state.token = document.getElementById("token-input").value.trim();
    sessionStorage.setItem("chronetix-token", state.token);
    tokenForm.hidden = true;
    loadTree();
  });

  function askToken() {
    tokenForm.hidden = false;
    setBadge("token needed", "error");
  }

  function setBadge(text, cls) {
    const badge = document.getElementById("kernel-state");
    badge.textContent = text;
    badge.className = `badge ${cls}`;
  }

  // --- charts ---------------------------------------------------------------

  function chartSize(el) {
    // The legend takes one line below the plot.
    return { width: Math.max(200, el.clientWidth), height: el.clientHeight - 26 };
  }

  /** Creates the chart again when its series change, else only sets its data. */
  function draw(id, key, makeOptions, data) {
    const el = document.getElementById(id);
    let entry = state.charts[id];
    if (entry === undefined || entry.key !== key) {
      entry?.plot.destroy();
      const options = makeOptions();
      options.hooks = options.hooks ?? {};
      options.hooks.draw = [
        ...(options.hooks.draw ?? []),
        () => {
          el.dataset.redraws = String(Number(el.dataset.redraws ?? 0) + 1);
        },
      ];
      const legend = { live: false, ...options.legend };
      entry = { key, plot: new uPlot({ ...chartSize(el), ...options, legend }, data, el) };
      state.charts[id] = entry;
    } else {
      entry.plot.setData(data);
    }
    el.dataset.points = String(data[0].length);
    el.dataset.series = String(data.length - 1);
  }

  addEventListener("resize", () => {
    for (const [id, entry] of Object.entries(state.charts)) {
      entry.plot.setSize(chartSize(document.getElementById(id)));
    }
  });

  const color = (i) => PALETTE[i % PALETTE.length];
  const xs = () => state.points.map((p) => p.t / 1000);
  const axes = (yLabel, extra = []) => [
    { stroke: "#444", grid: { stroke: "#eee" } },
    { stroke: "#444", grid: { stroke: "#eee" }, label: yLabel, size: 48 },
    ...extra,
  ];

  /** Every task id seen in the kept points, in first-seen order. */
  function taskIds() {
    const ids = new Map();
    for (const p of state.points) for (const t of p.tasks) if (!ids.has(t.id)) ids.set(t.id, t);
    return [...ids.values()];
  }

  const label = (t) => (t.island === null ? t.name : `${t.island}/${t.name}`);

  function perTask(tasks, field) {
    return tasks.map((task) =>
      state.points.map((p) => {
        const t = p.tasks.find((x) => x.id === task.id);
        return t === undefined ? null : t[field];
      })
    );
  }

  const decades = (_u, splits) =>
    splits.map((v) => (v === 0 || (v > 0 && Math.abs(Math.log10(v) % 1) < 1e-9) ? v : null));

  function drawLateness() {
    const tasks = taskIds();
    const p99 = perTask(tasks, "p99Ms");
    const p50 = perTask(tasks, "p50Ms");
    draw("chart-lateness", tasks.map((t) => t.id).join("|"), () => ({
      axes: [
        axes("ms")[0],
        {
          ...axes("ms")[1],
          // Decades only: the asinh scale would draw every 1..9 step.
          filter: decades,
          grid: { stroke: "#eee", filter: decades },
          ticks: { filter: decades },
        },
      ],
      // asinh: linear below 0.1 ms, logarithmic above, so one stall does not flatten the rest.
      scales: {
        y: { distr: 4, log: 10, asinh: 0.1, range: (_u, _min, max) => [0, Math.max(1, max)] },
      },
      series: [
        {},
        ...tasks.flatMap((t, i) => [
          { label: `${label(t)} p99`, stroke: color(i), width: 1.5, spanGaps: false },
          { label: `${label(t)} p50`, stroke: color(i), width: 1, dash: [4, 3] },
        ]),
      ],
    }), [xs(), ...tasks.flatMap((_, i) => [p99[i], p50[i]])]);
  }

  function drawMisses() {
    const tasks = taskIds();
    draw("chart-misses", tasks.map((t) => t.id).join("|"), () => ({
      axes: axes("misses"),
      scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      series: [{}, ...tasks.map((t, i) => ({ label: label(t), stroke: color(i), width: 1.5 }))],
    }), [xs(), ...perTask(tasks, "misses")]);
  }

  function drawWakeups() {
    const modes = ["far", "near", "block", "imminent", "early"];
    const data = modes.map((m) =>
      state.points.map((p) => p.intervalMs > 0 ? p.wakeups[m] * 1000 / p.intervalMs : null)
    );
    draw("chart-wakeups", "modes", () => ({
      axes: axes("per s"),
      series: [{}, ...modes.map((m, i) => ({ label: m, stroke: color(i), width: 1.5 }))],
    }), [xs(), ...data]);
  }

  function drawTiers() {
    const tasks = taskIds();
    draw("chart-tiers", tasks.map((t) => t.id).join("|"), () => ({
      axes: axes("tier"),
      scales: { y: { range: [-0.2, 3.2] } },
      series: [
        {},
        ...tasks.map((t, i) => ({
          label: label(t),
          stroke: color(i),
          width: 1.5,
          paths: uPlot.paths.stepped({ align: 1 }),
        })),
      ],
    }), [xs(), ...perTask(tasks, "tier")]);
  }

  function pluginNames() {
    const names = new Set();
    for (const p of state.points) for (const q of p.plugins) names.add(q.name);
    for (const e of state.events) names.add(e.plugin);
    return [...names];
  }

  /** Plugin states as bands, one row a plugin, with marks for restarts, give-ups and reloads. */
  function drawPlugins() {
    const names = pluginNames();
    const rows = new Map(names.map((n, i) => [n, i]));
    const bands = (u) => {
      const { ctx } = u;
      const xs0 = u.data[0];
      const h = Math.max(4, Math.abs(u.valToPos(0.35, "y", true) - u.valToPos(-0.35, "y", true)));
      ctx.save();
      ctx.beginPath();
      ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
      ctx.clip();
      // Each interval starts from the state its point reported, then follows
      // the transitions inside it (exact times), so a short failure between
      // two points shows too; the next point sets the state again (a hot
      // reload's old instance stops while the new one starts).
      const band = (name, from, to, s) => {
        // Whole pixels: no seams between neighbouring bands.
        const x0 = Math.round(u.valToPos(from, "x", true));
        const x1 = Math.round(u.valToPos(to, "x", true));
        const y = Math.round(u.valToPos(rows.get(name), "y", true) - h / 2);
        ctx.fillStyle = STATE_COLORS[s] ?? "#999";
        ctx.fillRect(x0, y, Math.max(1, x1 - x0), Math.round(h));
      };
      const transitions = state.events.filter((e) => e.kind === "transition");
      for (let i = 0; i < state.points.length; i++) {
        const from = xs0[i];
        const to = i + 1 < xs0.length ? xs0[i + 1] : xs0[i];
        for (const p of state.points[i].plugins) {
          let at = from;
          let current = p.state;
          for (const e of transitions) {
            const t = e.t / 1000;
            if (e.plugin !== p.name || t <= from || t >= to) continue;
            band(p.name, at, t, current);
            at = t;
            current = e.to;
          }
          band(p.name, at, to, current);
        }
      }
      ctx.font = `${Math.round(12 * devicePixelRatio)}px system-ui, sans-serif`;
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      for (const e of state.events) {
        const mark = MARKS[e.kind];
        if (mark === undefined || !rows.has(e.plugin)) continue;
        const x = u.valToPos(e.t / 1000, "x", true);
        const y = u.valToPos(rows.get(e.plugin), "y", true);
        // A white outline keeps a mark readable on any band colour.
        ctx.lineWidth = 3 * devicePixelRatio;
        ctx.strokeStyle = "#fff";
        ctx.strokeText(mark[0], x, y);
        ctx.fillStyle = mark[1];
        ctx.fillText(mark[0], x, y);
      }
      ctx.restore();
    };
    const stateAt = names.map((n) =>
      state.points.map((p) => (p.plugins.some((q) => q.name === n) ? rows.get(n) : null))
    );
    draw("chart-plugins", names.join("|"), () => ({
      axes: [
        { stroke: "#444", grid: { stroke: "#eee" } },
        {
          stroke: "#444",
          size: 90,
          splits: () => names.map((_, i) => i),
          values: () => names,
          grid: { show: false },
        },
      ],
      scales: { y: { range: [-0.6, Math.max(0.6, names.length - 0.4)] } },
      legend: { show: false },
      series: [
        {},
        ...names.map((n) => ({ label: n, stroke: "transparent", points: { show: false } })),
      ],
      hooks: { draw: [bands] },
    }), [xs(), ...stateAt]);
  }

  function drawPorts() {
    const ports = new Map();
    for (const p of state.points) for (const q of p.ports) if (!ports.has(q.id)) ports.set(q.id, q);
    const list = [...ports.values()];
    const series = (field, scale) =>
      list.map((port) =>
        state.points.map((p) => {
          const q = p.ports.find((x) => x.id === port.id);
          return q === undefined ? null : q[field] * scale;
        })
      );
    draw("chart-ports", list.map((p) => p.id).join("|"), () => ({
      axes: axes("%", [{ side: 1, scale: "n", stroke: "#444", grid: { show: false }, size: 40 }]),
      scales: { y: { range: [0, 100] }, n: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      series: [
        {},
        ...list.map((p, i) => ({ label: `${p.name} %`, stroke: color(i), width: 1.5 })),
        ...list.map((p, i) => ({
          label: `${p.name} blocked`,
          stroke: color(i),
          width: 1,
          dash: [2, 2],
          scale: "n",
        })),
      ],
    }), [xs(), ...series("utilization", 100), ...series("wouldBlock", 1)]);
  }

  function redraw() {
    drawLateness();
    drawMisses();
    drawWakeups();
    drawTiers();
    drawPlugins();
    drawPorts();
  }

  // --- polling --------------------------------------------------------------

  async function poll() {
    try {
      const snap = await getJson(`${BASE}/dashboard/api/snapshot?after=${state.seq}`);
      document.getElementById("kernel-name").textContent = snap.kernel.name;
      setBadge(snap.kernel.state, snap.kernel.state);
      if (snap.seq < state.seq) {
        // The server restarted: its points start again.
        state.points = [];
        state.events = [];
      }
      for (const point of snap.points) {
        state.points.push(point);
        state.events.push(...point.events);
      }
      state.seq = snap.seq;
      if (state.points.length > KEEP) state.points.splice(0, state.points.length - KEEP);
      const oldest = state.points[0]?.t ?? 0;
      state.events = state.events.filter((e) => e.t >= oldest - 60_000);
      if (snap.points.length > 0) {
        redraw();
        // A task or plugin came or went: the tree is out of date.
        const newest = snap.points.at(-1);
        const members = [...newest.tasks.map((t) => t.id), ...newest.plugins.map((p) => p.name)]
          .join("\n");
        if (state.members !== null && members !== state.members) loadTree();
        state.members = members;
      }
      document.getElementById("poll-status").textContent = `${state.points.length} points, ${
        new Date().toLocaleTimeString()
      }`;
    } catch (error) {
      if (error instanceof Unauthorized) askToken();
      else setBadge("unreachable", "stale");
    }
    setTimeout(poll, document.hidden ? POLL_MS * 5 : POLL_MS);
  }

  // --- faults ---------------------------------------------------------------

  const faults = new Map();

  function faultKey(f) {
    return `${f.code}|${(f.reporting_sources ?? []).join(",")}`;
  }

  function renderFaults() {
    const list = document.getElementById("fault-list");
    const items = [...faults.values()].sort((a, b) =>
      (b.last_occurred ?? 0) - (a.last_occurred ?? 0)
    );
    list.replaceChildren(...items.map((f) => {
      const li = document.createElement("li");
      const status = f.status?.aggregatedStatus ?? "";
      if (status === "cleared") li.className = "fault-cleared";
      const sev = document.createElement("span");
      sev.className = `sev ${f.severity_label ?? ""}`;
      sev.textContent = f.severity_label ?? String(f.severity);
      const code = document.createElement("strong");
      code.textContent = f.code;
      const where = document.createElement("span");
      where.textContent = (f.reporting_sources ?? []).join(", ");
      const st = document.createElement("span");
      st.className = "fault-status";
      st.textContent = `${status} ×${f.occurrence_count ?? 1}`;
      const text = document.createElement("span");
      text.className = "muted";
      text.textContent = f.description ?? "";
      li.append(sev, code, where, st, text);
      li.dataset.code = f.code;
      li.dataset.status = status;
      return li;
    }));
    if (items.length === 0) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = "No faults";
      list.append(li);
    }
    list.dataset.count = String(items.length);
  }

  function onFrame(frame) {
    let data = "";
    for (const line of frame.split("\n")) {
      if (line.startsWith("id:")) state.lastEventId = line.slice(3).trim();
      else if (line.startsWith("data:")) data += line.slice(5).trim();
    }
    if (data === "") return;
    const event = JSON.parse(data);
    if (event.fault === undefined) return;
    faults.set(faultKey(event.fault), event.fault);
    renderFaults();
  }

  async function faultStream() {
    const label = document.getElementById("fault-stream");
    for (;;) {
      try {
        const extra = { accept: "text/event-stream" };
        if (state.lastEventId !== undefined) extra["last-event-id"] = state.lastEventId;
        const response = await fetch(`${MOUNT}/faults/stream`, { headers: headers(extra) });
        if (!response.ok || response.body === null) {
          await response.body?.cancel();
          throw new Error(`HTTP ${response.status}`);
        }
        label.textContent = "live";
        if (state.lastEventId === undefined) {
          for (const f of (await getJson(`${MOUNT}/faults`)).items) faults.set(faultKey(f), f);
          renderFaults();
        }
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value.replaceAll("\r\n", "\n");
          for (let i = buffer.indexOf("\n\n"); i >= 0; i = buffer.indexOf("\n\n")) {
            onFrame(buffer.slice(0, i));
            buffer = buffer.slice(i + 2);
          }
        }
      } catch {
        // Reconnects below, replaying after the last event id.
      }
      label.textContent = "reconnecting";
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }

  // --- entity tree ----------------------------------------------------------

  async function loadTree() {
    const tree = document.getElementById("entity-tree");
    try {
      const groups = await Promise.all(
        ["components", "apps", "areas", "functions"].map(async (c) => [
          c,
          (await getJson(`${MOUNT}/${c}`)).items,
        ]),
      );
      const nodes = [];
      for (const [collection, items] of groups) {
        if (items.length === 0) continue;
        const head = document.createElement("li");
        head.className = "group";
        head.textContent = collection;
        nodes.push(head);
        for (const item of items) {
          const li = document.createElement("li");
          const button = document.createElement("button");
          button.type = "button";
          button.textContent = item.name;
          button.dataset.entity = `${collection}/${item.id}`;
          if (state.open === button.dataset.entity) button.className = "open";
          button.addEventListener("click", () => openEntity(collection, item));
          li.append(button);
          nodes.push(li);
        }
      }
      tree.replaceChildren(...nodes);
    } catch (error) {
      if (error instanceof Unauthorized) askToken();
    }
  }

  async function openEntity(collection, item) {
    state.open = `${collection}/${item.id}`;
    for (const b of document.querySelectorAll("#entity-tree button")) {
      b.classList.toggle("open", b.dataset.entity === state.open);
    }
    await showEntity();
  }

  async function showEntity() {
    const open = state.open;
    if (open === null) return;
    const detail = document.getElementById("entity-detail");
    try {
      const href = `${MOUNT}/${open}`;
      const entity = await getJson(href);
      const data = await getJson(`${href}/data`);
      const values = await Promise.all(
        data.items.map(async (d) => [d, await getJson(`${href}/data/${encodeURIComponent(d.id)}`)]),
      );
      if (state.open !== open) return;
      const title = document.createElement("h3");
      title.textContent = `${entity.type ?? ""} ${entity.name}`;
      const parts = [title];
      for (const [d, value] of values) {
        const h = document.createElement("h3");
        h.textContent = `${d.name} (${d.category})`;
        const pre = document.createElement("pre");
        pre.dataset.item = d.id;
        pre.textContent = JSON.stringify(value.data, null, 1);
        parts.push(h, pre);
      }
      detail.className = "";
      detail.replaceChildren(...parts);
      detail.dataset.entity = open;
    } catch (error) {
      if (error instanceof Unauthorized) askToken();
    }
  }

  let ticks = 0;
  setInterval(() => {
    ticks++;
    if (document.hidden) return;
    if (ticks % ENTITY_EVERY === 0) showEntity();
    if (ticks % TREE_EVERY === 0) loadTree();
  }, POLL_MS);

  poll();
  faultStream();
  loadTree();
})();
