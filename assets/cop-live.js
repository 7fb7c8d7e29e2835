/* The live client: one Socket.IO connection per page; snapshots, then sequenced deltas.
 *
 * Pages and layers register interest with COP.live.subscribe(kind, handler). The client keeps
 * the latest envelope per entity for each subscribed kind, applies deltas monotonically (an older
 * observation never replaces a newer one), detects sequence gaps and resynchronises from a
 * snapshot, and does the same after every reconnect. It also drives the freshness indicator.
 */
(function () {
  "use strict";
  const COP = (window.COP = window.COP || {});
  const TZ = "Europe/Brussels";
  const HUB_SILENT_AFTER_MS = 5000;

  const fmtTime = new Intl.DateTimeFormat("en-GB", {
    timeZone: TZ, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
  });

  const live = {
    socket: null,
    connected: false,
    everConnected: false,
    kinds: new Map(),        // kind -> {entities: Map(id -> envelope), seqs: {room: seq}, ready}
    handlers: new Map(),     // kind -> Set(fn(changedItems, info))
    status: null,            // last hub status
    statusAt: 0,             // Date.now() when it arrived
    lastDeltaAt: 0,
    stats: { deltas: 0, gaps: 0, snapshots: 0, reconnects: 0, items: 0 },
  };
  COP.live = live;

  function observedMs(envelope) {
    return Date.parse(envelope.observed_at);
  }

  function kindState(kind) {
    let state = live.kinds.get(kind);
    if (!state) {
      state = { entities: new Map(), exercise: new Set(), seqs: {}, ready: false, pending: false };
      live.kinds.set(kind, state);
    }
    return state;
  }

  function notify(kind, items, info) {
    const set = live.handlers.get(kind);
    if (!set) return;
    for (const fn of set) {
      try { fn(items, info); } catch (err) { console.error("COP handler for " + kind, err); }
    }
  }

  function applyItems(state, items) {
    const changed = [];
    for (const item of items) {
      const current = state.entities.get(item.id);
      if (current && observedMs(current) > observedMs(item)) continue;
      if (item.data && item.data.deleted) state.entities.delete(item.id);
      else state.entities.set(item.id, item);
      if (item.exercise && !(item.data && item.data.deleted)) state.exercise.add(item.id);
      else state.exercise.delete(item.id);
      changed.push(item);
    }
    live.stats.items += changed.length;
    return changed;
  }

  function applySnapshot(snap) {
    const state = kindState(snap.kind);
    const items = JSON.parse(snap.items_json); // pre-serialised by the server, like a delta's items
    state.entities = new Map();
    state.exercise = new Set();
    for (const item of items) {
      if (!(item.data && item.data.deleted)) state.entities.set(item.id, item);
      if (item.exercise && !(item.data && item.data.deleted)) state.exercise.add(item.id);
    }
    state.seqs = snap.seqs;
    state.ready = true;
    state.pending = false;
    live.stats.snapshots += 1;
    notify(snap.kind, items, { snapshot: true });
  }

  function request(event, kinds) {
    if (!live.socket || !live.connected || kinds.length === 0) return;
    for (const kind of kinds) kindState(kind).pending = true;
    live.socket.emit(event, { kinds: kinds }, function (reply) {
      if (!reply || reply.error) {
        console.warn("COP " + event + " refused", reply && reply.error);
        return;
      }
      reply.snapshots.forEach(applySnapshot);
      render();
    });
  }

  function onDelta(delta) {
    live.lastDeltaAt = Date.now();
    live.stats.deltas += 1;
    const state = live.kinds.get(delta.kind);
    if (!state || !state.ready || state.pending) return; // a snapshot is on its way
    const last = state.seqs[delta.room];
    if (last !== undefined && delta.seq <= last) return; // already in the snapshot
    if (last !== undefined && delta.seq !== last + 1) {
      live.stats.gaps += 1;
      console.info("COP: sequence gap on " + delta.kind + "/" + delta.room +
                   " (" + last + " -> " + delta.seq + "); resynchronising");
      request("snapshot", [delta.kind]);
      return;
    }
    state.seqs[delta.room] = delta.seq;
    const changed = applyItems(state, JSON.parse(delta.items_json));
    if (changed.length) notify(delta.kind, changed, { snapshot: false, delta: delta });
  }

  live.subscribe = function (kind, handler) {
    const state = kindState(kind);
    if (handler) {
      if (!live.handlers.has(kind)) live.handlers.set(kind, new Set());
      live.handlers.get(kind).add(handler);
      if (state.ready) handler(Array.from(state.entities.values()), { snapshot: true });
    }
    if (!state.ready && !state.pending) request("subscribe", [kind]);
  };

  live.entities = function (kind) {
    return kindState(kind).entities;
  };

  function connect() {
    if (typeof window.io !== "function") {
      console.error("COP: the Socket.IO client did not load");
      return;
    }
    const socket = window.io("/live", {
      transports: ["websocket"],
      reconnection: true,
      reconnectionAttempts: Infinity,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
      timeout: 8000,
    });
    live.socket = socket;
    socket.on("connect", function () {
      if (live.everConnected) live.stats.reconnects += 1;
      live.connected = true;
      live.everConnected = true;
      // Resynchronise everything we show: the deltas missed while away are not replayed.
      const kinds = Array.from(live.kinds.keys());
      for (const kind of kinds) kindState(kind).ready = false;
      request("subscribe", kinds);
      render();
    });
    socket.on("disconnect", function () {
      live.connected = false;
      render();
    });
    socket.on("connect_error", function () {
      live.connected = false;
      render();
    });
    socket.on("hello", function (hello) {
      live.hello = hello;
      if (hello.status) { live.status = hello.status; live.statusAt = Date.now(); }
    });
    socket.on("status", function (status) {
      live.status = status;
      live.statusAt = Date.now();
    });
    socket.on("delta", onDelta);
  }

  // -- the freshness indicator, counts, feeds and clock -------------------------------------------

  function freshness() {
    if (!live.connected) {
      return {
        state: live.everConnected ? "disconnected" : "connecting",
        label: live.everConnected ? "DISCONNECTED" : "CONNECTING",
        detail: live.everConnected ? "reconnecting…" : "",
      };
    }
    const age = Date.now() - live.statusAt;
    if (!live.status || age > HUB_SILENT_AFTER_MS) {
      return { state: "stale", label: "HUB SILENT",
               detail: live.statusAt ? "no update for " + Math.round(age / 1000) + " s" : "waiting" };
    }
    const staleFeeds = Object.entries(live.status.feeds || {})
      .filter(function (entry) { return entry[1].stale; })
      .map(function (entry) { return entry[0]; });
    if (staleFeeds.length) {
      return { state: "stale", label: "FEED STALE", detail: staleFeeds.join(", ") };
    }
    const at = live.lastDeltaAt ? fmtTime.format(new Date(live.lastDeltaAt)) : "–";
    return { state: "live", label: "LIVE", detail: "last update " + at };
  }

  function setText(el, text) {
    if (el && el.textContent !== text) el.textContent = text;
  }

  // Every page that shows exercise data says so, whatever kind it came in.
  function renderExercise() {
    const banner = document.getElementById("cop-exercise-banner");
    if (!banner) return;
    const kinds = [];
    for (const [kind, state] of live.kinds) if (state.exercise.size) kinds.push(kind);
    const show = kinds.length > 0;
    if (banner.hidden === show) banner.hidden = !show;
    const text = "EXERCISE — this page shows exercise data (" + kinds.join(", ") + ")";
    if (show && banner.textContent !== text) banner.textContent = text;
  }
  live.renderExercise = renderExercise;
  setInterval(renderExercise, 1000);

  function renderFeeds(table) {
    const feeds = (live.status && live.status.feeds) || {};
    const names = Object.keys(feeds);
    const rows = names.length
      ? names.map(function (name) {
          const f = feeds[name];
          const age = f.age_s === null || f.age_s === undefined ? "–" : f.age_s.toFixed(0) + " s";
          return "<tr class='feed-" + f.state + "'><td>" + escapeHtml(name) + "</td><td>" +
                 f.state + "</td><td>" + age + "</td></tr>";
        }).join("")
      : "<tr><td colspan='3'>no feed has reported yet</td></tr>";
    const html = "<tr><th>feed</th><th>state</th><th>last heartbeat</th></tr>" + rows;
    if (table.dataset.html !== html) { table.innerHTML = html; table.dataset.html = html; }
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function renderWall(clock) {
    const wall = location.pathname === "/wall";
    document.body.classList.toggle("wall-mode", wall);
    if (!wall) return;
    setText(document.getElementById("cop-wall-clock"), clock);
    const banner = document.getElementById("cop-wall-banner");
    if (!banner) return;
    const f = freshness();
    const text = f.state === "live" ? "" :
      f.state === "stale" ? f.label + (f.detail ? " — " + f.detail : "") :
      f.state === "connecting" ? "CONNECTING…" : "CONNECTION LOST — RECONNECTING…";
    banner.hidden = text === "";
    banner.classList.toggle("stale", f.state === "stale");
    banner.dataset.state = f.state;
    setText(banner, text);
  }

  function render() {
    const box = document.getElementById("cop-freshness");
    if (box) {
      const f = freshness();
      if (box.dataset.state !== f.state) box.dataset.state = f.state;
      if (document.body.dataset.live !== f.state) document.body.dataset.live = f.state;
      setText(document.getElementById("cop-freshness-label"), f.label);
      setText(document.getElementById("cop-freshness-detail"), f.detail);
    }
    const clock = fmtTime.format(new Date());
    setText(document.getElementById("cop-clock"), clock);
    renderWall(clock);
    document.querySelectorAll("[data-cop-count]").forEach(function (el) {
      const kind = el.dataset.copCount;
      const state = kindState(kind);
      if (!state.ready && !state.pending) live.subscribe(kind);
      setText(el, state.ready ? String(state.entities.size) : "…");
    });
    const feeds = document.getElementById("cop-feeds");
    if (feeds) renderFeeds(feeds);
  }
  COP.render = render;

  window.addEventListener("load", function () {
    connect();
    setInterval(render, 500);
  });
})();
