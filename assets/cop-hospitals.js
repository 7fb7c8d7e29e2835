/* Hospital capacity, live: grid rows updated by transaction (sort, filter and scroll survive),
 * province totals and a chart on the hospitals page, and hospital markers coloured by free
 * capacity and staleness on the map.
 */
(function () {
  "use strict";
  const COP = (window.COP = window.COP || {});
  const fmt = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Europe/Brussels", day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit",
    hour12: false,
  });
  const BED_LABELS = {
    EmergencyDepartment: "Emergency dept.", AdultICU: "ICU adult", PediatricICU: "ICU paediatric",
    MedicalSurgical: "Medical/surgical", Pediatrics: "Paediatrics",
    NegativeFlowIsolation: "Isolation (neg. pressure)", OperatingRooms: "Operating rooms",
  };

  const h = (COP.hospitals = COP.hospitals || {
    rows: new Map(), provinces: new Set(), bedType: "AdultICU", provinceNames: {}, staleAfterMs: 3600000,
    api: null, gridElement: null, canEdit: new Set(), admin: false, subscribed: false, markers: new Map(),
  });

  function beds(env) {
    const map = {};
    for (const bed of env.data.beds || []) map[bed.bed_type] = bed;
    return map;
  }

  function toRow(env) {
    const site = env.data.site_name ? env.data.site_name + " · " + env.data.city : env.data.city;
    const editable = h.admin || h.canEdit.has(env.id);
    return {
      id: env.id, name: env.data.name, site: site, prov: env.data.prov_code,
      province: h.provinceNames[env.data.prov_code] || env.data.prov_code || "",
      ems: env.data.ems_traffic, beds: beds(env), updated_ms: Date.parse(env.observed_at),
      updated_by: env.data.updated_by, exercise: env.exercise,
      edit: editable ? "[Update](/hospitals/" + encodeURIComponent(env.id) + "/edit)" : "",
    };
  }

  // -- value helpers used by the grid's column definitions -----------------------------------------

  h.free = function (params, bedType) {
    const bed = params.data && params.data.beds[bedType];
    return bed && bed.available !== null && bed.available !== undefined ? bed.available : null;
  };
  h.bedText = function (params, bedType) {
    const bed = params.data && params.data.beds[bedType];
    if (!bed) return "";
    return (bed.available === null || bed.available === undefined ? "?" : bed.available) + " / " + bed.baseline;
  };
  h.lowShare = function (params, bedType) {
    const bed = params.data && params.data.beds[bedType];
    return !!bed && bed.available !== null && bed.baseline > 0 && bed.available > 0 &&
      bed.available / bed.baseline < 0.1;
  };
  h.isStale = function (params, staleAfterS) {
    return !!params.data && Date.now() - params.data.updated_ms > staleAfterS * 1000;
  };
  h.timeText = function (ms) { return ms ? fmt.format(new Date(ms)) : ""; };
  h.ageText = function (ms) {
    if (!ms) return "";
    const minutes = Math.floor((Date.now() - ms) / 60000);
    if (minutes < 1) return "now";
    if (minutes < 120) return minutes + " min";
    if (minutes < 48 * 60) return Math.floor(minutes / 60) + " h";
    return Math.floor(minutes / 1440) + " days";
  };
  h.filterPresent = function () { return h.provinces.size > 0; };
  h.filterPasses = function (node) { return h.provinces.size === 0 || h.provinces.has(node.data.prov); };

  // dash-ag-grid evaluates column functions in its own namespace.
  const dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});
  dagfuncs.copFree = h.free;
  dagfuncs.copBedText = h.bedText;
  dagfuncs.copLowShare = h.lowShare;
  dagfuncs.copIsStale = h.isStale;
  dagfuncs.copTimeText = h.timeText;
  dagfuncs.copAgeText = h.ageText;
  dagfuncs.copFilterPresent = function () { return h.filterPresent(); };
  dagfuncs.copFilterPasses = function (node) { return h.filterPasses(node); };

  h.setFilters = function (provinces, bedType) {
    h.provinces = new Set(provinces || []);
    h.bedType = bedType || "AdultICU";
    if (h.api) h.api.onFilterChanged();
    renderTotals();
    return [provinces, bedType];
  };

  // -- live updates ---------------------------------------------------------------------------------

  function onHospitals(items, info) {
    const add = [];
    const update = [];
    const remove = [];
    if (info && info.snapshot) {
      const present = new Set(items.map(function (e) { return e.id; }));
      for (const id of h.rows.keys()) if (!present.has(id)) remove.push(h.rows.get(id));
    }
    for (const env of items) {
      if (env.data.deleted) {
        if (h.rows.has(env.id)) { remove.push(h.rows.get(env.id)); h.rows.delete(env.id); }
        continue;
      }
      const row = toRow(env);
      (h.rows.has(env.id) ? update : add).push(row);
      h.rows.set(env.id, row);
    }
    for (const row of remove) h.rows.delete(row.id);
    if (h.api && (add.length || update.length || remove.length)) {
      h.api.applyTransactionAsync({ add: add, update: update, remove: remove });
    }
    renderTotals();
    renderMarkers(items);
  }

  function attachGrid() {
    const element = document.getElementById("cop-hospital-grid");
    if (!element || element === h.gridElement || !window.dash_ag_grid) return;
    h.gridElement = element;
    const page = document.getElementById("cop-hospitals-page");
    if (page) {
      h.provinceNames = JSON.parse(page.dataset.provinces || "{}");
      h.staleAfterMs = parseFloat(page.dataset.staleAfterS || "3600") * 1000;
      h.canEdit = new Set(JSON.parse(page.dataset.canEdit || "[]"));
      h.admin = page.dataset.admin === "1";
    }
    window.dash_ag_grid.getApiAsync("cop-hospital-grid").then(function (api) {
      h.api = api;
      h.rows = new Map();
      const rows = Array.from(COP.live.entities("hospital").values())
        .filter(function (e) { return !(e.data && e.data.deleted); }).map(toRow);
      for (const row of rows) h.rows.set(row.id, row);
      api.setGridOption("rowData", rows);
      renderTotals();
    });
  }

  function ensureSubscribed() {
    if (h.subscribed || !COP.live) return;
    h.subscribed = true;
    COP.live.subscribe("hospital", onHospitals);
  }

  // -- totals per province and the capacity chart ---------------------------------------------------

  function totals() {
    const perProvince = {};
    let freeAll = 0, baseAll = 0, stale = 0;
    const now = Date.now();
    for (const row of h.rows.values()) {
      if (h.provinces.size && !h.provinces.has(row.prov)) continue;
      const bed = row.beds[h.bedType];
      const t = (perProvince[row.prov] = perProvince[row.prov] || { free: 0, base: 0, hospitals: 0, stale: 0 });
      t.hospitals += 1;
      if (now - row.updated_ms > h.staleAfterMs) { t.stale += 1; stale += 1; }
      if (!bed) continue;
      t.free += bed.available || 0;
      t.base += bed.baseline;
      freeAll += bed.available || 0;
      baseAll += bed.baseline;
    }
    return { perProvince: perProvince, free: freeAll, base: baseAll, stale: stale };
  }

  function renderTotals() {
    const table = document.getElementById("cop-hospital-totals");
    if (!table) return;
    const t = totals();
    const codes = Object.keys(t.perProvince).sort(function (a, b) {
      return (h.provinceNames[a] || a).localeCompare(h.provinceNames[b] || b);
    });
    const row = function (name, v, cls) {
      return "<tr class='" + (cls || "") + "'><td>" + name + "</td><td class='num'>" + v.free + " / " + v.base +
        "</td><td class='num stale-col'>" + (v.stale ? v.stale + " stale" : "") + "</td></tr>";
    };
    const html = "<tr><th>" + (BED_LABELS[h.bedType] || h.bedType) + "</th><th class='num'>free / baseline</th><th></th></tr>" +
      codes.map(function (c) { return row(h.provinceNames[c] || c, t.perProvince[c]); }).join("") +
      row("National", t, "total");
    if (table.dataset.html !== html) { table.innerHTML = html; table.dataset.html = html; }
    renderChart(codes, t);
  }

  let chartKey = "";
  function renderChart(codes, t) {
    if (!document.getElementById("cop-hospital-chart") || !window.dash_clientside ||
        !window.dash_clientside.set_props) return;
    const names = codes.map(function (c) { return h.provinceNames[c] || c; });
    const free = codes.map(function (c) { return t.perProvince[c].free; });
    const used = codes.map(function (c) { return Math.max(0, t.perProvince[c].base - t.perProvince[c].free); });
    const key = JSON.stringify([names, free, used, h.bedType]);
    if (key === chartKey) return;
    chartKey = key;
    window.dash_clientside.set_props("cop-hospital-chart", {
      figure: {
        data: [
          { type: "bar", orientation: "h", y: names, x: free, name: "free", marker: { color: "#2ea043" } },
          { type: "bar", orientation: "h", y: names, x: used, name: "occupied", marker: { color: "#6e7681" } },
        ],
        layout: {
          barmode: "stack", margin: { l: 120, r: 10, t: 30, b: 30 }, height: 340,
          title: { text: (BED_LABELS[h.bedType] || h.bedType) + " beds", font: { size: 13, color: "#e6edf3" } },
          paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
          font: { color: "#c9d5e0" }, legend: { orientation: "h", y: -0.12 },
          xaxis: { gridcolor: "#2a3a4a" }, yaxis: { automargin: true },
        },
      },
    });
  }

  // -- the map's hospitals layer: colour by free capacity, faded when stale ------------------------

  function markerStyle(env) {
    const share = freeShare(env);
    const stale = Date.now() - Date.parse(env.observed_at) > h.staleAfterMs;
    const fill = share === null ? "#8b949e" : share < 0.05 ? "#da3633" : share < 0.15 ? "#d29922" : "#2ea043";
    return { radius: 7, color: stale ? "#8b949e" : "#ffffff", weight: stale ? 1 : 2, dashArray: stale ? "2 3" : null,
             fillColor: fill, fillOpacity: stale ? 0.35 : 0.95 };
  }

  function freeShare(env) {
    let free = 0, base = 0;
    for (const bed of env.data.beds || []) {
      if (bed.available === null || bed.available === undefined || !bed.baseline) continue;
      free += bed.available; base += bed.baseline;
    }
    return base ? free / base : null;
  }

  function popupHtml(env) {
    const rows = (env.data.beds || []).map(function (b) {
      return "<tr><td>" + (BED_LABELS[b.bed_type] || b.bed_type) + "</td><td class='num'>" +
        (b.available === null || b.available === undefined ? "?" : b.available) + " / " + b.baseline + "</td></tr>";
    }).join("");
    return "<div class='hospital-popup'><strong>" + escapeHtml(env.data.name) + "</strong><br>" +
      escapeHtml(env.data.site_name || "") + "<br>ED: " + env.data.ems_traffic + " · updated " +
      fmt.format(new Date(Date.parse(env.observed_at))) + "<table>" + rows + "</table></div>";
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function renderMarkers(items) {
    const lm = COP.liveMap;
    const group = lm && lm.groups && lm.groups["hospitals"];
    if (!group || !window.L) return;
    if (h.markerGroup !== group) {
      // A new map was built: draw every hospital into its layer group.
      h.markers = new Map();
      h.markerGroup = group;
      items = Array.from(COP.live.entities("hospital").values());
    }
    for (const env of items) {
      let marker = h.markers.get(env.id);
      if (env.data.deleted) {
        if (marker) { group.removeLayer(marker); h.markers.delete(env.id); }
        continue;
      }
      if (!marker) {
        marker = L.circleMarker([env.data.lat, env.data.lon], Object.assign({ renderer: lm.renderer }, markerStyle(env)));
        marker.bindPopup(function () { return popupHtml(marker._env); });
        group.addLayer(marker);
        h.markers.set(env.id, marker);
      } else {
        marker.setStyle(markerStyle(env));
      }
      marker._env = env;
    }
  }

  let ticks = 0;
  setInterval(function () {
    ticks += 1;
    ensureSubscribed();
    if (h.api && ticks % 30 === 0) h.api.redrawRows();  // re-evaluate the stale-row highlight
    attachGrid();
    if (h.api) h.api.refreshCells({ columns: ["age"], force: true });
    if (COP.liveMap && COP.liveMap.groups && COP.liveMap.groups["hospitals"] !== h.markerGroup) renderMarkers([]);
  }, 1000);
})();
