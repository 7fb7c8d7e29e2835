/* The chemical incident on the live map: detector readings and drone tracks, plumes, zones.
 *
 * Fills the "Chemical readings", "Plumes", "Intervention zones" and "Command posts" groups that
 * dash-leaflet created (found by COP.liveMap), from the socket (kinds chem and zone) and, for the
 * tracks, from the reading history (/api/v1/readings). Renders the chem panel's live parts, the
 * selected platform's chart (set_props, at most once a second) and the selected zone's panel with
 * the units inside it now. Zone shape edits and deletions go to /api/v1/zones (the server checks
 * the user's right to change them).
 */
(function () {
  "use strict";
  const COP = (window.COP = window.COP || {});
  const ALARM = { none: "#5ec8f0", low: "#ffb224", high: "#e5484d" };
  const ALARM_LABEL = { none: "no alarm", low: "LOW ALARM", high: "HIGH ALARM" };
  const ZONE = { red: "#e5484d", orange: "#f76b15", yellow: "#ffd60a", cp_ops: "#3e63dd" };
  const ZONE_NAME = {
    red: "Red zone (exclusion)", orange: "Orange zone (isolation)", yellow: "Yellow zone (deterrence)",
    cp_ops: "CP-Ops",
  };
  const DISCIPLINES = ["D1", "D2", "D3", "D4", "D5"];
  const MAX_POINTS = 3600; // per platform: an hour of 1 Hz readings
  const HISTORY_MINUTES = 60;
  // Plotly draws date strings as they are: give it Brussels wall-clock time ("2026-11-21 15:00:30").
  const brusselsStamp = new Intl.DateTimeFormat("sv-SE", {
    timeZone: "Europe/Brussels", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
    minute: "2-digit", second: "2-digit", hour12: false,
  });
  const fmt = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Europe/Brussels", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
  });

  const chem = (COP.chem = {
    map: null,
    groups: null,
    platforms: new Map(),   // platform id -> {points, markers, track, label}
    plumes: new Map(),      // entity id -> {env, layer}
    zones: new Map(),       // entity id -> {env, layer}
    selectedPlatform: null,
    selectedZone: null,
    editing: null,
    subscribed: false,
    chartDirty: false,
    substances: {},
  });

  function esc(text) {
    return String(text === undefined || text === null ? "–" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function setHtml(id, html) {
    const el = document.getElementById(id);
    if (el && el.dataset.html !== html) { el.innerHTML = html; el.dataset.html = html; }
    return el;
  }

  function wantedGroups() {
    const g = COP.liveMap && COP.liveMap.groups;
    if (!g) return null;
    const keys = ["chemical-readings", "plumes", "intervention-zones", "command-posts"];
    return keys.every(function (k) { return g[k]; }) ? g : null;
  }

  // -- attach to the map (again after every page change) -----------------------------------------

  function check() {
    const lm = COP.liveMap;
    if (!lm || !lm.map || !lm.map.getContainer().isConnected) return;
    const groups = wantedGroups();
    if (!groups || (chem.map === lm.map && chem.groups === groups)) return;
    attach(lm.map, groups);
  }

  function attach(map, groups) {
    chem.map = map;
    chem.groups = groups;
    chem.platforms = new Map();
    chem.plumes = new Map();
    chem.zones = new Map();
    chem.selectedZone = null;
    chem.editing = null;
    const panel = document.getElementById("cop-chem-panel");
    if (panel && panel.dataset.substances) chem.substances = JSON.parse(panel.dataset.substances);
    map.on("click", function () { selectZone(null); });
    if (!chem.subscribed) {
      chem.subscribed = true;
      COP.live.subscribe("chem", onChem);
      COP.live.subscribe("zone", onZones);
    } else {
      onChem(Array.from(COP.live.entities("chem").values()), { snapshot: true });
      onZones(Array.from(COP.live.entities("zone").values()), { snapshot: true });
    }
    loadHistory();
  }

  function loadHistory() {
    const map = chem.map;
    fetch("/api/v1/readings?minutes=" + HISTORY_MINUTES, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (body) {
        if (chem.map !== map) return;
        // One redraw of each track and label after the whole history, not one per reading.
        const touched = new Set();
        for (const env of body.items) touched.add(addReading(env, true));
        touched.forEach(function (p) { if (p) redrawTrack(p); });
        renderPlatforms();
      })
      .catch(function () { /* the live readings still arrive */ });
  }

  // -- readings -------------------------------------------------------------------------------------

  function renderer() {
    return (COP.liveMap && COP.liveMap.renderer) || undefined;
  }

  function onChem(items, info) {
    if (!chem.map) return;
    const plumes = [];
    for (const env of items) {
      if (env.data && env.data.type === "plume") plumes.push(env);
      else if (env.data && env.data.deleted && chem.plumes.has(env.id)) plumes.push(env);
      else if (env.data && env.data.type === "reading") addReading(env);
    }
    if (info && info.snapshot) {
      const present = new Set(plumes.map(function (e) { return e.id; }));
      for (const id of Array.from(chem.plumes.keys())) if (!present.has(id)) removePlume(id);
    }
    for (const env of plumes) drawPlume(env);
    renderPlatforms();
    renderPlumeSummary();
  }

  function redrawTrack(p) {
    p.track.setLatLngs(p.points.map(function (q) { return [q.lat, q.lon]; }));
    updateLabel(p);
  }

  // Adds a reading to its platform; returns the platform (`batch`: the caller redraws the track).
  function addReading(env, batch) {
    const d = env.data;
    const groups = chem.groups;
    let p = chem.platforms.get(d.platform_id);
    if (!p) {
      p = { id: d.platform_id, points: [], markers: [], seen: new Set(), label: null,
            track: L.polyline([], { color: "#5ec8f0", weight: 2, opacity: 0.6, dashArray: "3 5",
                                    interactive: false, renderer: renderer() }) };
      groups["chemical-readings"].addLayer(p.track);
      chem.platforms.set(d.platform_id, p);
    }
    const key = env.id + "@" + env.observed_at;
    if (p.seen.has(key)) return p;
    p.seen.add(key);
    const point = {
      t: Date.parse(env.observed_at), sensor: d.sensor_id, substance: d.substance_key || d.substance,
      value: d.value, unit: d.unit, ppm: d.value_ppm, alarm: d.alarm || "none", status: d.status,
      lat: d.lat, lon: d.lon, exercise: env.exercise,
    };
    const marker = L.circleMarker([d.lat, d.lon], {
      renderer: renderer(), radius: point.alarm === "none" ? 3.5 : 5, color: "#0b1118", weight: 1,
      fillColor: ALARM[point.alarm] || ALARM.none, fillOpacity: 0.9,
    });
    marker.on("click", function (e) { L.DomEvent.stopPropagation(e); selectPlatform(p.id); });
    groups["chemical-readings"].addLayer(marker);
    // Keep time order (history may arrive after the first live readings).
    let at = p.points.length;
    while (at > 0 && p.points[at - 1].t > point.t) at -= 1;
    p.points.splice(at, 0, point);
    p.markers.splice(at, 0, marker);
    while (p.points.length > MAX_POINTS) {
      groups["chemical-readings"].removeLayer(p.markers.shift());
      p.points.shift();
    }
    if (!batch) redrawTrack(p);
    if (chem.selectedPlatform === p.id) chem.chartDirty = true;
    return p;
  }

  function latest(p) {
    return p.points[p.points.length - 1];
  }

  function describe(point) {
    const s = chem.substances[point.substance];
    const name = s ? s.formula : point.substance;
    const value = point.ppm !== null && point.ppm !== undefined
      ? (+point.ppm).toPrecision(3) + " ppm" : point.value + " " + point.unit;
    return name + " " + value;
  }

  function updateLabel(p) {
    const last = latest(p);
    const html = "<b>" + esc(p.id) + "</b> " + esc(describe(last));
    const icon = L.divIcon({
      className: "reading-label alarm-" + last.alarm, html: html, iconSize: null, iconAnchor: [-8, 10],
    });
    if (!p.label) {
      p.label = L.marker([last.lat, last.lon], { icon: icon, keyboard: false });
      p.label.on("click", function () { selectPlatform(p.id); });
      chem.groups["chemical-readings"].addLayer(p.label);
    } else {
      p.label.setLatLng([last.lat, last.lon]);
      if (p.labelHtml !== html + last.alarm) p.label.setIcon(icon);
    }
    p.labelHtml = html + last.alarm;
  }

  function renderPlatforms() {
    const rows = Array.from(chem.platforms.values()).map(function (p) {
      const last = latest(p);
      const age = Math.round((Date.now() - last.t) / 1000);
      return "<li data-platform='" + esc(p.id) + "' class='alarm-" + last.alarm +
        (chem.selectedPlatform === p.id ? " selected" : "") + "'><b>" + esc(p.id) + "</b> " +
        esc(describe(last)) + " <span class='muted'>" + esc(ALARM_LABEL[last.alarm]) + " · " +
        (age < 120 ? age + " s ago" : Math.round(age / 60) + " min ago") + "</span></li>";
    });
    const el = setHtml("cop-chem-platforms",
      rows.length ? "<ul>" + rows.join("") + "</ul>" : "<p class='muted'>No detector readings in the last hour.</p>");
    if (el && !el.dataset.wired) {
      el.dataset.wired = "1";
      el.addEventListener("click", function (e) {
        const li = e.target.closest("li[data-platform]");
        if (li) selectPlatform(li.dataset.platform);
      });
    }
  }

  function selectPlatform(id) {
    chem.selectedPlatform = id;
    chem.chartDirty = true;
    renderPlatforms();
    drawChart();
  }
  chem.selectPlatform = selectPlatform;

  function drawChart() {
    if (!chem.chartDirty || !window.dash_clientside || !dash_clientside.set_props) return;
    const p = chem.platforms.get(chem.selectedPlatform);
    if (!p) return;
    chem.chartDirty = false;
    const traces = {};
    for (const q of p.points) {
      const key = q.sensor + " · " + q.substance;
      const tr = (traces[key] = traces[key] || { x: [], y: [], name: key, type: "scatter",
                                                  mode: "lines+markers", marker: { size: 3 } });
      tr.x.push(brusselsStamp.format(new Date(q.t)));
      tr.y.push(q.ppm !== null && q.ppm !== undefined ? q.ppm : q.value);
    }
    const shapes = [];
    const substance = chem.substances[latest(p).substance];
    if (substance && substance.unit === "ppm") {
      for (const [level, colour] of [["low", ALARM.low], ["high", ALARM.high]]) {
        if (substance[level] === null) continue;
        shapes.push({ type: "line", xref: "paper", x0: 0, x1: 1, y0: substance[level], y1: substance[level],
                      line: { color: colour, dash: "dot", width: 1 } });
      }
    }
    dash_clientside.set_props("cop-chem-chart", {
      figure: {
        data: Object.values(traces),
        layout: {
          height: 220, margin: { l: 44, r: 10, t: 28, b: 32 }, showlegend: Object.keys(traces).length > 1,
          paper_bgcolor: "#131c26", plot_bgcolor: "#131c26", font: { color: "#c9d5e0", size: 11 },
          title: { text: p.id + " · " + HISTORY_MINUTES + " min (alarm set-points dotted)", font: { size: 12 } },
          xaxis: { gridcolor: "#243240", type: "date" }, yaxis: { gridcolor: "#243240", title: { text: "ppm" } },
          shapes: shapes, uirevision: p.id,
        },
      },
    });
  }

  // -- plumes ---------------------------------------------------------------------------------------

  function removePlume(id) {
    const old = chem.plumes.get(id);
    if (old) chem.groups.plumes.removeLayer(old.layer);
    chem.plumes.delete(id);
  }

  function plumeText(d) {
    const rate = d.rate_source === "estimated"
      ? Math.round(d.rate_g_s) + " g/s, estimated from " + d.fit.readings_used + " readings (R² " +
        (d.fit.r2 === null ? "–" : d.fit.r2) + ")"
      : (+d.rate_g_s.toPrecision(4)) + " g/s, entered";
    const reach = d.zones.features.slice().reverse().map(function (f) {
      return f.properties.name + " " + f.properties.threshold_ppm + " ppm: " +
        (f.properties.max_distance_m / 1000).toFixed(1) + " km" + (f.properties.truncated ? "+" : "");
    });
    return { rate: rate, reach: reach };
  }

  function drawPlume(env) {
    removePlume(env.id);
    if (env.data.deleted) return;
    const d = env.data;
    const zones = L.geoJSON(d.zones, {
      style: function (f) {
        return { color: f.properties.colour, weight: 1.5, dashArray: "6 4", fillColor: f.properties.colour,
                 fillOpacity: 0.13 };
      },
    });
    const source = [d.release.lat, d.release.lon];
    const near = L.circle(source, { radius: 100, color: "#c9d5e0", weight: 1, dashArray: "2 4", fill: false,
                                    interactive: false });
    const marker = L.circleMarker(source, { radius: 6, color: "#ffffff", weight: 2, fillColor: "#111",
                                            fillOpacity: 1 });
    const text = plumeText(d);
    const html = "<b>Plume · " + esc(text.reach.length ? d.zones.features[0].properties.substance : "") +
      "</b><br>" + esc(text.rate) + "<br>Class " + esc(d.stability) + ", wind " + esc(d.weather.wind_speed_ms) +
      " m/s from " + esc(d.weather.wind_from_deg) + "°<br>" + text.reach.map(esc).join("<br>") +
      "<br><span class='muted'>Computed " + fmt.format(new Date(env.observed_at)) + "</span>" +
      (env.exercise ? "<br><b class='exercise-inline'>EXERCISE</b>" : "");
    const layer = L.featureGroup([zones, near, marker]).bindPopup(html);
    chem.groups.plumes.addLayer(layer);
    chem.plumes.set(env.id, { env: env, layer: layer });
  }

  function renderPlumeSummary() {
    const incident = selectedIncident();
    const rows = [];
    for (const entry of chem.plumes.values()) {
      const d = entry.env.data;
      if (incident && d.incident_id !== incident) continue;
      const text = plumeText(d);
      rows.push("<div class='plume-card'><b>" + esc(d.zones.features.length ?
        d.zones.features[0].properties.substance : d.release.substance) + "</b> · " + esc(text.rate) +
        "<br>Class " + esc(d.stability) + " · wind " + esc(d.weather.wind_speed_ms) + " m/s from " +
        esc(d.weather.wind_from_deg) + "° · " + fmt.format(new Date(entry.env.observed_at)) +
        "<ul>" + text.reach.map(function (r) { return "<li>" + esc(r) + "</li>"; }).join("") + "</ul>" +
        "<details><summary>Limits of the model</summary><ul>" +
        d.warnings.map(function (w) { return "<li>" + esc(w) + "</li>"; }).join("") + "</ul></details></div>");
    }
    setHtml("cop-plume-summary", rows.length ? rows.join("") : "<p class='muted'>No plume for this incident.</p>");
  }

  function selectedIncident() {
    const panel = document.getElementById("cop-chem-panel");
    return (panel && panel.dataset.incident) || null;
  }

  // -- zones ----------------------------------------------------------------------------------------

  function onZones(items, info) {
    if (!chem.map) return;
    if (info && info.snapshot) {
      const present = new Set(items.map(function (e) { return e.id; }));
      for (const id of Array.from(chem.zones.keys())) if (!present.has(id)) removeZone(id);
    }
    for (const env of items) drawZone(env);
    orderZones();
    renderZoneList();
    if (chem.selectedZone) renderZonePanel();
  }

  function groupFor(type) {
    return type === "cp_ops" ? chem.groups["command-posts"] : chem.groups["intervention-zones"];
  }

  function removeZone(id, redrawing) {
    const old = chem.zones.get(id);
    if (old) groupFor(old.env.data.zone_type).removeLayer(old.layer);
    chem.zones.delete(id);
    if (chem.selectedZone === id && !redrawing) selectZone(null);
  }

  function drawZone(env) {
    if (chem.editing && chem.editing.id === env.id && !env.data.deleted) return; // keep the shape being edited
    removeZone(env.id, !env.data.deleted);
    if (env.data.deleted) return;
    const d = env.data;
    let layer;
    if (d.zone_type === "cp_ops") {
      const [lon, lat] = d.geometry.coordinates;
      layer = L.marker([lat, lon], {
        icon: L.divIcon({ className: "cp-ops-icon", html: "CP-Ops", iconSize: [58, 22], iconAnchor: [29, 11] }),
      });
    } else {
      layer = L.geoJSON(d.geometry, {
        style: { color: ZONE[d.zone_type], weight: 2.5, fillColor: ZONE[d.zone_type],
                 fillOpacity: d.zone_type === "red" ? 0.22 : 0.12 },
      });
    }
    layer.on("click", function (e) { L.DomEvent.stopPropagation(e); selectZone(env.id); });
    layer.bindTooltip(ZONE_NAME[d.zone_type] + (d.label ? " · " + d.label : ""), { sticky: true });
    groupFor(d.zone_type).addLayer(layer);
    chem.zones.set(env.id, { env: env, layer: layer });
  }

  function orderZones() {
    // Yellow underneath, red on top, whatever order they arrived in.
    for (const type of ["yellow", "orange", "red"]) {
      for (const entry of chem.zones.values()) {
        if (entry.env.data.zone_type === type && entry.layer.bringToFront) entry.layer.bringToFront();
      }
    }
  }

  function renderZoneList() {
    const incident = selectedIncident();
    const order = { red: 0, orange: 1, yellow: 2, cp_ops: 3 };
    const rows = Array.from(chem.zones.values())
      .filter(function (z) { return !incident || z.env.data.incident_id === incident; })
      .sort(function (a, b) { return order[a.env.data.zone_type] - order[b.env.data.zone_type]; })
      .map(function (z) {
        const d = z.env.data;
        return "<li data-zone='" + esc(z.env.id) + "'" + (chem.selectedZone === z.env.id ? " class='selected'" : "") +
          "><span class='zone-swatch' style='background:" + ZONE[d.zone_type] + "'></span>" +
          esc(ZONE_NAME[d.zone_type]) + (d.area_km2 ? " · " + d.area_km2.toFixed(2) + " km²" : "") +
          " <span class='muted'>" + esc(d.origin) + ", " + esc(d.author) + "</span></li>";
      });
    const el = setHtml("cop-zone-list",
      rows.length ? "<ul>" + rows.join("") + "</ul>" : "<p class='muted'>No zone drawn for this incident.</p>");
    if (el && !el.dataset.wired) {
      el.dataset.wired = "1";
      el.addEventListener("click", function (e) {
        const li = e.target.closest("li[data-zone]");
        if (!li) return;
        selectZone(li.dataset.zone);
        const entry = chem.zones.get(li.dataset.zone);
        if (entry && chem.map) {
          const bounds = entry.layer.getBounds ? entry.layer.getBounds() : L.latLngBounds([entry.layer.getLatLng()]);
          chem.map.fitBounds(bounds.pad(0.3), { maxZoom: 14 });
        }
      });
    }
  }

  function selectZone(id) {
    if (chem.editing && chem.editing.id !== id) cancelEdit();
    chem.selectedZone = id;
    renderZoneList();
    renderZonePanel();
  }
  chem.selectZone = selectZone;

  // Point in polygon (ray casting) over GeoJSON rings, with a bounding-box test first.
  function ringContains(ring, x, y) {
    let inside = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }

  function polygonContains(rings, x, y) {
    if (!ringContains(rings[0], x, y)) return false;
    for (let k = 1; k < rings.length; k++) if (ringContains(rings[k], x, y)) return false;
    return true;
  }

  function geometryContains(geometry, x, y) {
    if (geometry.type === "Polygon") return polygonContains(geometry.coordinates, x, y);
    if (geometry.type === "MultiPolygon") {
      return geometry.coordinates.some(function (p) { return polygonContains(p, x, y); });
    }
    return false;
  }

  function bbox(geometry) {
    let w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
    const polys = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
    for (const p of polys) for (const c of p[0]) {
      if (c[0] < w) w = c[0]; if (c[0] > e) e = c[0]; if (c[1] < s) s = c[1]; if (c[1] > n) n = c[1];
    }
    return [w, s, e, n];
  }

  function unitsInside(geometry) {
    const counts = { total: 0, stale: 0 };
    for (const d of DISCIPLINES) counts[d] = 0;
    if (geometry.type === "Point") return counts;
    const box = bbox(geometry);
    const staleMs = (COP.liveMap && COP.liveMap.staleAfterMs) || 120000;
    const now = Date.now();
    for (const env of COP.live.entities("position").values()) {
      const x = env.data.lon, y = env.data.lat;
      if (x < box[0] || x > box[2] || y < box[1] || y > box[3]) continue;
      if (!geometryContains(geometry, x, y)) continue;
      counts[env.data.discipline] += 1;
      counts.total += 1;
      if (now - Date.parse(env.observed_at) > staleMs) counts.stale += 1;
    }
    return counts;
  }
  chem.unitsInside = unitsInside;

  function list(items, render) {
    return items.length ? "<ul>" + items.map(render).join("") + "</ul>" : "<p class='muted'>none</p>";
  }

  function renderZonePanel() {
    const panel = document.getElementById("cop-zone-panel");
    if (!panel) return;
    const entry = chem.selectedZone && chem.zones.get(chem.selectedZone);
    if (!entry) { panel.hidden = true; panel.dataset.html = ""; return; }
    const d = entry.env.data;
    const counts = unitsInside(d.geometry);
    const units = d.zone_type === "cp_ops" ? "" :
      "<h4>Units inside now</h4><table class='units-inside'>" + DISCIPLINES.map(function (k) {
        return "<tr><td>" + k + "</td><td class='num' data-discipline='" + k + "'>" + counts[k] + "</td></tr>";
      }).join("") + "<tr class='total'><td>Total" + (counts.stale ? " (" + counts.stale + " stale)" : "") +
      "</td><td class='num' data-total>" + counts.total + "</td></tr></table>";
    const editing = chem.editing && chem.editing.id === entry.env.id;
    const html =
      "<h3 style='border-color:" + ZONE[d.zone_type] + "'>" + esc(ZONE_NAME[d.zone_type]) + "</h3>" +
      (d.label ? "<p>" + esc(d.label) + "</p>" : "") +
      "<dl><dt>Incident</dt><dd>" + esc(d.incident_id) + "</dd><dt>Made</dt><dd>" + esc(d.origin) + " by " +
      esc(d.author) + ", " + fmt.format(new Date(entry.env.observed_at)) + "</dd>" +
      (d.area_km2 ? "<dt>Area</dt><dd>" + d.area_km2.toFixed(2) + " km²</dd>" : "") + "</dl>" +
      units +
      "<h4>Municipalities</h4>" + list(d.inside.municipalities, function (m) { return "<li>" + esc(m.name) + "</li>"; }) +
      "<h4>Hospitals</h4>" + list(d.inside.hospitals, function (h) { return "<li>" + esc(h.name) + "</li>"; }) +
      "<h4>Critical sites</h4>" + list(d.inside.sites, function (s) { return "<li>" + esc(s.name) + "</li>"; }) +
      (entry.env.exercise ? "<p class='exercise-tag'>EXERCISE</p>" : "") +
      "<div class='zone-actions'>" + (editing
        ? "<button class='button' data-action='save'>Save shape</button><button class='button' data-action='cancel'>Cancel</button>"
        : "<button class='button' data-action='edit'>Edit shape</button><button class='button danger' data-action='delete'>Delete</button>") +
      "</div><div class='form-message' role='status' data-message>" + esc(chem.zoneMessage || "") + "</div>";
    if (panel.dataset.html !== html) { panel.innerHTML = html; panel.dataset.html = html; }
    panel.dataset.zone = entry.env.id;
    panel.hidden = false;
    if (!panel.dataset.wired) {
      panel.dataset.wired = "1";
      panel.addEventListener("click", function (e) {
        const button = e.target.closest("button[data-action]");
        if (button) zoneAction(button.dataset.action);
      });
    }
  }

  function say(text) {
    chem.zoneMessage = text;
    renderZonePanel();
  }

  function send(method, id, body) {
    return fetch("/api/v1/zones/" + id.split("/").map(encodeURIComponent).join("/"), {
      method: method, credentials: "same-origin",
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    }).then(function (r) {
      return r.json().then(function (j) {
        if (r.ok) return j;
        const detail = j.errors ? j.errors.map(function (x) { return x.field + ": " + x.problem; }).join("; ") : j.message;
        throw new Error(detail || "refused (" + r.status + ")");
      });
    });
  }

  function zoneAction(action) {
    const entry = chem.zones.get(chem.selectedZone);
    if (!entry) return;
    const id = entry.env.id;
    chem.zoneMessage = "";
    if (action === "delete") {
      if (!window.confirm("Delete " + ZONE_NAME[entry.env.data.zone_type] + "?")) return;
      send("DELETE", id).then(function () { say("Deleted."); }).catch(function (e) { say("Not deleted: " + e.message); });
    } else if (action === "edit") {
      startEdit(entry);
    } else if (action === "cancel") {
      cancelEdit();
      renderZonePanel();
    } else if (action === "save") {
      const geometry = editedGeometry(entry);
      send("PATCH", id, { geometry: geometry })
        .then(function () { chem.editing = null; say("Shape saved."); })
        .catch(function (e) { say("Not saved: " + e.message); });
    }
  }

  function editables(entry) {
    const found = [];
    if (entry.layer.eachLayer) entry.layer.eachLayer(function (l) { found.push(l); });
    else found.push(entry.layer);
    return found;
  }

  function startEdit(entry) {
    const layers = editables(entry);
    if (entry.env.data.zone_type === "cp_ops") {
      entry.layer.dragging.enable();
    } else if (entry.env.data.geometry.type !== "Polygon" || !layers.every(function (l) { return l.editing; })) {
      say("This shape cannot be edited here (several parts, or no editing tools): draw it again.");
      return;
    } else {
      layers.forEach(function (l) { l.editing.enable(); });
    }
    chem.editing = { id: entry.env.id };
    renderZonePanel();
  }

  function cancelEdit() {
    if (!chem.editing) return;
    const entry = chem.zones.get(chem.editing.id);
    chem.editing = null;
    if (entry) {
      editables(entry).forEach(function (l) { if (l.editing) l.editing.disable(); });
      if (entry.layer.dragging) entry.layer.dragging.disable();
      drawZone(entry.env); // back to the stored shape
    }
  }

  function editedGeometry(entry) {
    if (entry.env.data.zone_type === "cp_ops") {
      const ll = entry.layer.getLatLng();
      return { type: "Point", coordinates: [ll.lng, ll.lat] };
    }
    const layer = editables(entry)[0];
    return layer.toGeoJSON().geometry;
  }

  // -- the incident chosen in the panel ------------------------------------------------------------

  chem.setIncident = function (incidentId) {
    const panel = document.getElementById("cop-chem-panel");
    if (panel) panel.dataset.incident = incidentId || "";
    renderZoneList();
    renderPlumeSummary();
    return incidentId;
  };

  setInterval(check, 400);
  setInterval(function () {
    if (!chem.map) return;
    drawChart();
    renderPlatforms();
    if (chem.selectedZone) renderZonePanel();
  }, 1000);
})();
