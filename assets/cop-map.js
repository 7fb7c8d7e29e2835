/* Live units on the Leaflet map: canvas circle markers moved in place from hub deltas.
 *
 * dash-leaflet builds the map and empty LayerGroups (one per discipline); when a group is added to
 * the map its "add" event hands us the Leaflet object (COP.liveMap.onLayerAdd) and we fill it. No
 * Dash callback runs per update and no layer is rebuilt: a delta moves the markers it names.
 */
(function () {
  "use strict";
  const COP = (window.COP = window.COP || {});
  const COLOURS = { D1: "#e5484d", D2: "#30a46c", D3: "#3e63dd", D4: "#f76b15", D5: "#c8c8c8" };
  const NAMES = {
    D1: "Rescue (fire, Civil Protection)", D2: "Medical", D3: "Police", D4: "Logistics",
    D5: "Information",
  };
  const STATUS_LABELS = {
    available: "available", dispatched: "dispatched", en_route: "en route", on_scene: "on scene",
    transporting: "transporting", returning: "returning", at_station: "at station",
    out_of_service: "out of service",
  };
  const fmt = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Europe/Brussels", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
  });

  const lm = (COP.liveMap = COP.liveMap || {
    map: null,
    groups: {},            // layer key -> Leaflet LayerGroup (from dash-leaflet)
    units: new Map(),      // unit id -> {marker, env, stale, shown}
    renderer: null,
    provinces: new Set(),  // empty = every province the server sends us
    selected: null,
    staleAfterMs: 120000,
    subscribed: false,
    latencies: [],         // ms from received_at to the marker drawn (bench/map_latency.py)
    awaitingDraw: [],      // received_at of moves not yet drawn
    moves: 0,
  });

  function style(discipline, stale) {
    const colour = COLOURS[discipline] || "#ffffff";
    const k = lm.scale || 1;
    return stale
      ? { radius: 4 * k, color: "#7d8590", weight: k, opacity: 0.5, fillColor: colour, fillOpacity: 0.22 }
      : { radius: 5 * k, color: "#0b1118", weight: k, opacity: 1, fillColor: colour, fillOpacity: 0.95 };
  }

  const BELGIUM = [[49.45, 2.5], [51.55, 6.45]];

  function drawn() {
    // The moves since the last redraw are now on screen: record received_at → drawn.
    const now = Date.now();
    for (const received of lm.awaitingDraw) lm.latencies.push(now - received);
    lm.awaitingDraw = [];
    if (lm.latencies.length > 400000) lm.latencies.splice(0, 200000);
  }

  function throttledCanvas() {
    // Leaflet redraws the canvas on every animation frame in which a marker moved; with tens of
    // thousands of units moving that is a full redraw 60 times a second. Redraw at most every
    // 40-200 ms instead (more units, less often): positions are seconds apart anyway.
    const renderer = L.canvas({ padding: 0.2 });
    renderer._requestRedraw = function (layer) {
      if (!this._map) return;
      this._extendRedrawBounds(layer);
      if (!this._redrawRequest) {
        const interval = Math.min(200, Math.max(40, lm.units.size / 200));
        const self = this;
        this._redrawRequest = setTimeout(function () {
          L.Util.requestAnimFrame(function () {
            // The map may have been left (page change) while the redraw waited: its canvas is gone.
            if (!self._map || !self._ctx) {
              self._redrawRequest = null;
              return;
            }
            self._redraw();
            drawn();
          });
        }, interval);
      }
    };
    return renderer;
  }

  function fitWall(map) {
    // The wall shows all of Belgium on whatever screen it has, with markers sized for the distance.
    map.invalidateSize();
    map.fitBounds(BELGIUM, { animate: false });
    lm.scale = Math.max(1, map.getContainer().clientWidth / 1600);
  }

  function isStale(env, now) {
    return now - Date.parse(env.observed_at) > lm.staleAfterMs;
  }

  function wanted(env) {
    return lm.provinces.size === 0 || lm.provinces.has(env.data.prov_code);
  }

  function groupOf(env) {
    return lm.groups["resources-" + env.data.discipline];
  }

  function place(unit) {
    const group = groupOf(unit.env);
    const show = wanted(unit.env) && !!group;
    if (unit.group && (unit.group !== group || !show)) {
      unit.group.removeLayer(unit.marker);
      unit.group = null;
    }
    if (show && unit.group !== group) {
      group.addLayer(unit.marker);
      unit.group = group;
    }
  }

  function upsert(env, now) {
    const lat = env.data.lat;
    const lon = env.data.lon;
    let unit = lm.units.get(env.id);
    if (env.data.deleted) {
      if (unit) {
        if (unit.group) unit.group.removeLayer(unit.marker);
        lm.units.delete(env.id);
      }
      return;
    }
    const stale = isStale(env, now);
    if (!unit) {
      const marker = L.circleMarker([lat, lon], Object.assign({ renderer: lm.renderer }, style(env.data.discipline, stale)));
      marker.on("click", function () { select(env.id); });
      unit = { marker: marker, env: env, stale: stale, group: null };
      lm.units.set(env.id, unit);
    } else {
      const previous = unit.env;
      unit.env = env;
      if (previous.data.lat !== lat || previous.data.lon !== lon) unit.marker.setLatLng([lat, lon]);
      if (previous.data.discipline !== env.data.discipline || unit.stale !== stale) {
        unit.stale = stale;
        unit.marker.setStyle(style(env.data.discipline, stale));
      }
    }
    place(unit);
    if (env.received_at) lm.awaitingDraw.push(Date.parse(env.received_at));
    lm.moves += 1;
  }

  function onPositions(items, info) {
    if (!lm.map) return;
    const now = Date.now();
    if (info && info.snapshot) {
      const present = new Set(items.map(function (e) { return e.id; }));
      for (const [id, unit] of lm.units) {
        if (!present.has(id)) {
          if (unit.group) unit.group.removeLayer(unit.marker);
          lm.units.delete(id);
        }
      }
    }
    for (const env of items) upsert(env, now);
    if (lm.selected) renderPanel();
  }

  // -- dash-leaflet hands us its layer groups --------------------------------------------------

  lm.onLayerAdd = function (e) {
    const map = e.target._map;
    const container = map && map.getContainer();
    if (!container || container.id !== "cop-map") return;
    if (lm.map !== map) attach(map);
    // The layers control may register the group just after adding it to the map.
    setTimeout(resolveGroups, 0);
  };

  function resolveGroups() {
    // dash-leaflet does not pass component ids to Leaflet: find our groups by the overlay names
    // under which the layers control of this map registered them.
    let changed = false;
    for (const control of L.Control.Layers.prototype._copInstances || []) {
      for (const entry of control._layers || []) {
        if (!entry.overlay) continue;
        const key = keyFromName(entry.name);
        if (lm.groups[key] !== entry.layer && (control._map === lm.map || entry.layer._map === lm.map)) {
          lm.groups[key] = entry.layer;
          changed = true;
        }
      }
    }
    if (changed) for (const unit of lm.units.values()) place(unit);
  }

  function keyFromName(name) {
    const match = /^Resources · (D[1-5])/.exec(name);
    if (match) return "resources-" + match[1];
    return name.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  }

  function attach(map) {
    lm.map = map;
    lm.units = new Map();
    lm.groups = {};
    lm.renderer = throttledCanvas();
    const frame = map.getContainer().closest(".map-frame");
    if (frame && frame.dataset.staleAfterS) lm.staleAfterMs = parseFloat(frame.dataset.staleAfterS) * 1000;
    lm.scale = 1;
    if (frame && frame.dataset.mode === "wall") {
      // Refit whenever the wall's map area changes size (first layout, screen change).
      new ResizeObserver(function () {
        if (lm.map === map) {
          fitWall(map);
          for (const unit of lm.units.values()) unit.marker.setStyle(style(unit.env.data.discipline, unit.stale));
        }
      }).observe(map.getContainer());
    }
    const municipalities = map.getPane("municipalities");
    const showMunicipalities = function () {
      if (municipalities) municipalities.style.display = map.getZoom() >= 10 ? "" : "none";
    };
    map.on("zoomend", showMunicipalities);
    showMunicipalities();
    map.on("click", function () { select(null); });
    if (!lm.subscribed) {
      lm.subscribed = true;
      COP.live.subscribe("position", onPositions);
    } else {
      onPositions(Array.from(COP.live.entities("position").values()), { snapshot: true });
    }
  }

  // Track layer-control instances as Leaflet creates them (there is no public registry).
  function trackControls() {
    if (!(window.L && L.Control && L.Control.Layers)) return false;
    const proto = L.Control.Layers.prototype;
    if (!proto._copInstances) {
      proto._copInstances = [];
      L.Control.Layers.addInitHook(function () { proto._copInstances.push(this); });
    }
    return true;
  }
  if (!trackControls()) window.addEventListener("load", trackControls);

  // -- staleness, province filter, counts and the unit panel -------------------------------------

  function refresh() {
    if (!lm.map) return;
    resolveGroups();
    const now = Date.now();
    let stale = 0;
    let shown = 0;
    const perDiscipline = { D1: 0, D2: 0, D3: 0, D4: 0, D5: 0 };
    const perStatus = {};
    for (const unit of lm.units.values()) {
      const nowStale = isStale(unit.env, now);
      if (nowStale !== unit.stale) {
        unit.stale = nowStale;
        unit.marker.setStyle(style(unit.env.data.discipline, nowStale));
      }
      if (!wanted(unit.env)) continue;
      shown += 1;
      if (nowStale) stale += 1;
      perDiscipline[unit.env.data.discipline] += 1;
      const status = unit.env.data.status;
      perStatus[status] = (perStatus[status] || 0) + 1;
    }
    lm.counts = { shown: shown, stale: stale, perDiscipline: perDiscipline, perStatus: perStatus };
    setText("cop-units-shown", String(shown));
    setText("cop-stale-count", String(stale));
    for (const d in perDiscipline) setText("cop-count-discipline-" + d, String(perDiscipline[d]));
    renderWall();
    if (lm.selected) renderPanel();
  }

  function setText(id, text) {
    const el = document.getElementById(id);
    if (el && el.textContent !== text) el.textContent = text;
  }

  lm.setProvinces = function (codes) {
    lm.provinces = new Set(codes || []);
    for (const unit of lm.units.values()) place(unit);
    refresh();
    return codes;
  };

  function select(id) {
    lm.selected = id;
    renderPanel();
  }
  lm.select = select;

  function escapeHtml(text) {
    return String(text === undefined || text === null ? "–" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function age(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 120) return s + " s";
    if (s < 7200) return Math.round(s / 60) + " min";
    return Math.round(s / 3600) + " h";
  }

  function renderPanel() {
    const panel = document.getElementById("cop-unit-panel");
    if (!panel) return;
    const unit = lm.selected && lm.units.get(lm.selected);
    if (!unit) {
      panel.hidden = true;
      return;
    }
    const d = unit.env.data;
    const observed = Date.parse(unit.env.observed_at);
    const rows = [
      ["Discipline", d.discipline + " · " + NAMES[d.discipline]],
      ["Type", d.unit_type],
      ["Status", STATUS_LABELS[d.status] || d.status],
      ["Speed", d.speed_kmh === null || d.speed_kmh === undefined ? "–" : Math.round(d.speed_kmh) + " km/h"],
      ["Last update", fmt.format(new Date(observed))],
      ["Age", age(Date.now() - observed) + (unit.stale ? " — STALE" : "")],
      ["Position", d.lat.toFixed(5) + ", " + d.lon.toFixed(5)],
    ];
    const html =
      "<h3 style='border-color:" + (COLOURS[d.discipline] || "#fff") + "'>" + escapeHtml(d.callsign) +
      "</h3><dl>" + rows.map(function (r) {
        return "<dt>" + r[0] + "</dt><dd>" + escapeHtml(r[1]) + "</dd>";
      }).join("") + "</dl>" + (unit.env.exercise ? "<p class='exercise-tag'>EXERCISE</p>" : "");
    if (panel.dataset.html !== html) { panel.innerHTML = html; panel.dataset.html = html; }
    panel.hidden = false;
    panel.dataset.unit = unit.env.id;
    panel.classList.toggle("stale", unit.stale);
  }

  // -- the video wall's side panel ----------------------------------------------------------------

  function renderWall() {
    const counts = lm.counts;
    const table = document.getElementById("cop-wall-counts");
    if (table && counts) {
      const html = Object.keys(counts.perDiscipline).map(function (d) {
        return "<tr><td><span class='legend-dot' style='background:" + COLOURS[d] + "'></span>" + d +
               " " + NAMES[d] + "</td><td class='num'>" + counts.perDiscipline[d] + "</td></tr>";
      }).join("") + "<tr class='total'><td>Total (" + counts.stale + " stale)</td><td class='num'>" +
        counts.shown + "</td></tr>";
      if (table.dataset.html !== html) { table.innerHTML = html; table.dataset.html = html; }
    }
    const statusTable = document.getElementById("cop-wall-status-counts");
    if (statusTable && counts) {
      const html = Object.keys(STATUS_LABELS).filter(function (s) { return counts.perStatus[s]; })
        .map(function (s) {
          return "<tr><td>" + STATUS_LABELS[s] + "</td><td class='num'>" + counts.perStatus[s] + "</td></tr>";
        }).join("");
      if (statusTable.dataset.html !== html) { statusTable.innerHTML = html; statusTable.dataset.html = html; }
    }
  }

  setInterval(refresh, 1000);
})();
