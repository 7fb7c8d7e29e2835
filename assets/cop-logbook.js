/* Logbooks live: the logbook page joins its incident's room and refreshes its list when an entry
 * arrives (the list itself is rendered by a Dash callback); the video wall shows the newest
 * entries of the open incidents as a ticker, with the current coordination phase.
 * After every reconnect both resubscribe and refresh, so nothing written meanwhile is missed.
 */
(function () {
  "use strict";
  const COP = (window.COP = window.COP || {});
  const fmt = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Europe/Brussels", hour: "2-digit", minute: "2-digit", hour12: false,
  });
  const PHASE = { municipal: "Municipal phase", provincial: "Provincial phase", federal: "Federal phase" };
  const log = (COP.logbook = { wired: null, incidents: [], ticker: [], received: 0, subscribedWall: false });

  function esc(text) {
    return String(text === undefined || text === null ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function mapGroup() {
    const lm = COP.liveMap;
    const group = lm && lm.groups && lm.groups["logbook-entries"];
    return group && lm.map && lm.map.getContainer().isConnected ? group : null;
  }

  function wanted() {
    const page = document.getElementById("cop-log-page");
    if (page && page.dataset.incident) return [page.dataset.incident];
    if (document.getElementById("cop-wall-ticker") || mapGroup()) return log.incidents.map(function (e) { return e.id; });
    return [];
  }

  function subscribe() {
    const live = COP.live;
    const ids = wanted();
    if (!live || !live.socket || !live.connected || !ids.length) return;
    live.socket.emit("subscribe_log", { incidents: ids });
    log.subscribedTo = ids.join(",");
  }

  function bump() {
    if (document.getElementById("cop-log-page") && window.dash_clientside && dash_clientside.set_props) {
      dash_clientside.set_props("cop-log-version", { data: Date.now() });
    }
  }

  function onEntry(entry) {
    log.received += 1;
    log.last = entry;
    const page = document.getElementById("cop-log-page");
    if (page && page.dataset.incident === entry.incident_id) bump();
    log.ticker.unshift(entry);
    log.ticker = log.ticker.slice(0, 12);
    renderTicker();
    placeOnMap(entry);
  }

  // -- located entries on the live map ("Logbook entries" layer) ----------------------------------

  function placeOnMap(entry) {
    const group = mapGroup();
    if (!group || entry.lat === null || entry.lat === undefined) return;
    if (log.mapGroup !== group) { log.mapGroup = group; log.markers = new Map(); }
    if (log.markers.has(entry.id)) return;
    const marker = L.marker([entry.lat, entry.lon], {
      icon: L.divIcon({ className: "log-pin", html: "✎", iconSize: [20, 20], iconAnchor: [10, 10] }),
    }).bindTooltip("<b>" + esc(title(entry.incident_id)) + "</b> · " + esc(entry.discipline) + " · " +
      esc(entry.category) + " · " + fmt.format(new Date(entry.event_time)) + "<br>" + esc(entry.text.slice(0, 200)) +
      (entry.corrected_by ? " <i>(corrected)</i>" : ""));
    group.addLayer(marker);
    log.markers.set(entry.id, marker);
  }

  function loadMap() {
    const group = mapGroup();
    if (!group) return;
    for (const id of wanted()) {
      fetch("/api/v1/logbooks/" + encodeURIComponent(id) + "/entries?limit=500", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (body) { body.items.forEach(placeOnMap); })
        .catch(function () { /* live entries still arrive */ });
    }
  }

  function wire() {
    const live = COP.live;
    if (!live || !live.socket) return;
    if (log.wired !== live.socket) {
      log.wired = live.socket;
      live.socket.on("log", onEntry);
      live.socket.on("connect", function () { subscribe(); bump(); loadTicker(); });
    }
    const group = mapGroup();
    if (group && log.mapGroup !== group) { log.mapGroup = group; log.markers = new Map(); log.subscribedTo = null; }
    const ids = wanted().join(",");
    if (ids && ids !== log.subscribedTo) { subscribe(); loadTicker(); loadMap(); }
    if ((document.getElementById("cop-wall-ticker") || group) && !log.subscribedWall) {
      log.subscribedWall = true;
      live.subscribe("incident", function (items) {
        log.incidents = Array.from(live.entities("incident").values()).filter(function (e) {
          return e.data.status === "open";
        });
        renderPhase();
        wire();
      });
    }
  }

  // -- the wall ------------------------------------------------------------------------------------

  function loadTicker() {
    if (!document.getElementById("cop-wall-ticker")) return;
    const ids = wanted();
    Promise.all(ids.map(function (id) {
      return fetch("/api/v1/logbooks/" + encodeURIComponent(id) + "/entries?limit=10", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; });
    })).then(function (bodies) {
      const all = [].concat.apply([], bodies.map(function (b) { return b.items; }));
      all.sort(function (a, b) { return b.entry_time < a.entry_time ? -1 : 1; });
      log.ticker = all.slice(0, 12);
      renderTicker();
    }).catch(function () { /* live entries still arrive */ });
  }

  function title(id) {
    const incident = log.incidents.find(function (e) { return e.id === id; });
    return incident ? incident.data.title : id;
  }

  function renderTicker() {
    const el = document.getElementById("cop-wall-ticker");
    if (!el) return;
    const html = log.ticker.map(function (e) {
      return "<span class='tick priority-" + esc(e.priority) + "'><b>" + fmt.format(new Date(e.entry_time)) + "</b> " +
        (e.exercise ? "<i class='exercise-chip'>EXERCISE</i> " : "") + esc(title(e.incident_id)) + " · " +
        esc(e.discipline === "multi" ? "MULTI" : e.discipline) + " · " + esc(e.category) + ": " + esc(e.text) + "</span>";
    }).join("");
    if (el.dataset.html !== html) {
      el.innerHTML = html || "<span class='tick muted'>No logbook entry yet.</span>";
      el.dataset.html = html;
    }
  }

  function renderPhase() {
    const el = document.getElementById("cop-wall-phase");
    if (!el) return;
    const order = { federal: 0, provincial: 1, municipal: 2 };
    const serious = log.incidents.filter(function (e) { return !e.data.always_open; })
      .sort(function (a, b) { return order[a.data.level] - order[b.data.level]; });
    const html = serious.length
      ? serious.slice(0, 3).map(function (e) {
        return "<div class='phase phase-" + esc(e.data.level) + "'>" + esc(PHASE[e.data.level]) + "</div><div class='phase-title'>" +
          esc(e.data.title) + (e.exercise ? " <i class='exercise-chip'>EXERCISE</i>" : "") + "</div>";
      }).join("")
      : "<div class='phase phase-none'>No incident open</div>";
    if (el.dataset.html !== html) { el.innerHTML = html; el.dataset.html = html; }
  }

  setInterval(wire, 500);
})();
