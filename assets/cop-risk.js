/* The national risk picture: indicator tiles (risk page and wall), the worst level per province,
 * history charts, the last 24 h of changes, and the public alerts list.
 *
 * Indicators arrive from the socket (kind indicator) after a history load
 * (/api/v1/indicators/history); alerts from kind alert. Nothing goes through a Dash callback:
 * tiles and lists are rendered here, charts through dash_clientside.set_props (at most every 2 s).
 */
(function () {
  "use strict";
  const COP = (window.COP = window.COP || {});
  const HOURS = 72;
  const STALE_MS = 6 * 3600 * 1000;
  const fmt = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Europe/Brussels", weekday: "short", hour: "2-digit", minute: "2-digit", hour12: false,
  });
  const stampFmt = new Intl.DateTimeFormat("sv-SE", {
    timeZone: "Europe/Brussels", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
    minute: "2-digit", second: "2-digit", hour12: false,
  });

  const risk = (COP.risk = {
    context: null,
    history: new Map(),   // entity id -> [envelope, ...] oldest first
    alerts: new Map(),    // alert id -> envelope
    loadedFor: null,
    subscribed: false,
    chartsDirty: true,
    provinceLayers: {},
  });

  function esc(text) {
    return String(text === undefined || text === null ? "–" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function setHtml(el, html) {
    if (el && el.dataset.html !== html) { el.innerHTML = html; el.dataset.html = html; }
  }

  function scaleOf(key) {
    return risk.context.scales.find(function (s) { return s.key === key; });
  }

  function areaName(d) {
    if (d.scope === "national") return "Belgium";
    if (d.scope === "province") return risk.context.provinces[d.scope_id] || d.scope_id;
    if (d.scope === "region") return { "02000": "Flanders", "03000": "Wallonia", "04000": "Brussels" }[d.scope_id] || d.scope_id;
    return d.name || d.scope_id;
  }

  function label(d) {
    return areaName(d) + (d.phenomenon ? " · " + d.phenomenon.replace("_", " ") : "");
  }

  function current() {
    // The latest envelope per entity, still valid.
    const now = Date.now();
    const result = [];
    for (const list of risk.history.values()) {
      const env = list[list.length - 1];
      if (env.data.deleted) continue;
      if (env.data.valid_to && Date.parse(env.data.valid_to) < now) continue;
      result.push(env);
    }
    return result;
  }

  // -- attach: a risk page or a wall in the document -------------------------------------------

  function host() {
    return document.getElementById("cop-risk-page") || document.getElementById("cop-wall-risk");
  }

  function loadContext() {
    const el = host();
    if (!risk.context && el) risk.context = JSON.parse(el.dataset.context);
    return !!risk.context;
  }

  function checkMap() {
    const lm = COP.liveMap;
    if (!lm || !lm.groups || !lm.groups["public-alerts-cap-"] || !window.COP.live) return;
    if (!risk.alertsSubscribed) {
      risk.alertsSubscribed = true;
      COP.live.subscribe("alert", onAlerts);
    }
    renderAlertLayer();
  }

  function check() {
    checkMap();
    const el = host();
    if (!el || !window.COP.live || !loadContext()) return;
    const host_ = el;
    if (risk.loadedFor === host_) return;
    risk.loadedFor = host_;
    risk.chartsDirty = true;
    fetch("/api/v1/indicators/history?hours=" + HOURS, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (body) {
        for (const env of body.items) remember(env);
        if (!risk.subscribed) {
          risk.subscribed = true;
          COP.live.subscribe("indicator", onIndicators);
          if (!risk.alertsSubscribed) { risk.alertsSubscribed = true; COP.live.subscribe("alert", onAlerts); }
        } else {
          onIndicators(Array.from(COP.live.entities("indicator").values()), { snapshot: true });
          onAlerts(Array.from(COP.live.entities("alert").values()), { snapshot: true });
        }
        render();
      })
      .catch(function () { /* retried on the next page visit; live data still arrives */ });
  }

  function remember(env) {
    let list = risk.history.get(env.id);
    if (!list) { list = []; risk.history.set(env.id, list); }
    const last = list[list.length - 1];
    if (last && Date.parse(last.observed_at) >= Date.parse(env.observed_at)) {
      if (last.observed_at === env.observed_at) return;
      // An older reading arriving late: keep the order.
      list.push(env);
      list.sort(function (a, b) { return Date.parse(a.observed_at) - Date.parse(b.observed_at); });
      return;
    }
    list.push(env);
    const cutoff = Date.now() - HOURS * 3600 * 1000;
    while (list.length > 1 && Date.parse(list[0].observed_at) < cutoff) list.shift();
  }

  function onIndicators(items) {
    for (const env of items) remember(env);
    risk.chartsDirty = true;
    render();
  }

  function onAlerts(items, info) {
    if (info && info.snapshot) risk.alerts = new Map();
    for (const env of items) {
      if (env.data.deleted) risk.alerts.delete(env.id);
      else risk.alerts.set(env.id, env);
    }
    renderAlerts();
  }

  // -- tiles ---------------------------------------------------------------------------------------

  function tiles(compact) {
    const now = Date.now();
    const live = current();
    return risk.context.scales.map(function (scale) {
      const mine = live.filter(function (e) { return e.data.indicator === scale.key; });
      if (!mine.length) {
        return "<div class='risk-tile no-data' data-indicator='" + scale.key + "'><div class='tile-name'>" +
          esc(scale.name) + "</div><div class='tile-level'>no data</div></div>";
      }
      mine.sort(function (a, b) { return b.data.severity - a.data.severity || b.data.level - a.data.level; });
      const worst = mine[0].data;
      const same = mine.filter(function (e) { return e.data.level === worst.level; });
      const newest = Math.max.apply(null, mine.map(function (e) { return Date.parse(e.observed_at); }));
      const stale = now - newest > STALE_MS;
      const where = same.slice(0, compact ? 2 : 4).map(function (e) { return label(e.data); }).join(", ") +
        (same.length > (compact ? 2 : 4) ? " +" + (same.length - (compact ? 2 : 4)) : "");
      const textColour = worst.severity === 1 || worst.colour === "#ffd60a" ? "#111" : "#fff";
      return "<div class='risk-tile" + (stale ? " stale" : "") + "' data-indicator='" + scale.key +
        "' data-level='" + esc(worst.code) + "' style='border-color:" + worst.colour + "'>" +
        "<div class='tile-name'>" + esc(scale.name) + "</div>" +
        "<div class='tile-level' style='background:" + worst.colour + ";color:" + textColour + "'>" +
        esc(worst.label) + (worst.value !== null && worst.value !== undefined && !compact
          ? " <span class='tile-value'>" + esc(worst.value) + (worst.unit ? " " + esc(worst.unit) : "") + "</span>" : "") +
        "</div><div class='tile-where'>" + esc(where) + "</div>" +
        "<div class='tile-age'>" + (stale ? "STALE · " : "") + "updated " + fmt.format(new Date(newest)) + "</div></div>";
    }).join("");
  }

  // -- the province map ----------------------------------------------------------------------------

  function worstPerProvince() {
    const worst = {};
    for (const env of current()) {
      const d = env.data;
      const provs = d.prov_codes && d.prov_codes.length ? d.prov_codes : d.prov_code ? [d.prov_code] : [];
      // National indicators are on the tiles; the map shows where the country differs.
      for (const p of provs) {
        if (!worst[p] || d.severity > worst[p].severity) worst[p] = { severity: d.severity, causes: [] };
        if (d.severity > 0 && d.severity === worst[p].severity) worst[p].causes.push(scaleOf(d.indicator).name + ": " + d.label);
      }
    }
    return worst;
  }

  risk.onLayerAdd = function (e) {
    const group = e.target;
    if (!loadContext()) return;
    fetch("/geo/be_provinces.geojson", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (geo) {
        risk.provinceLayers = {};
        L.geoJSON(geo, {
          style: { color: "#0b1118", weight: 1, fillColor: "#30a46c", fillOpacity: 0.85 },
          onEachFeature: function (f, layer) {
            risk.provinceLayers[f.properties.prov_code] = layer;
            layer.bindTooltip(f.properties.name_en, { sticky: true });
          },
        }).addTo(group);
        renderMap();
      });
  };

  function renderMap() {
    const worst = worstPerProvince();
    const colours = risk.context.severity.colours;
    for (const code in risk.provinceLayers) {
      const w = worst[code];
      const layer = risk.provinceLayers[code];
      const severity = w ? w.severity : null;
      layer.setStyle({ fillColor: severity === null ? "#3a4654" : colours[severity] });
      const path = layer.getElement && layer.getElement();
      if (path) path.setAttribute("data-severity", severity === null ? "none" : String(severity));
      layer.setTooltipContent("<b>" + esc(risk.context.provinces[code]) + "</b>" +
        (w && w.causes.length ? "<br>" + w.causes.slice(0, 5).map(esc).join("<br>") : "<br>nothing above green"));
    }
  }

  // -- what changed, history -----------------------------------------------------------------------

  function changes() {
    const since = Date.now() - 24 * 3600 * 1000;
    const found = [];
    for (const list of risk.history.values()) {
      for (let i = 1; i < list.length; i++) {
        const a = list[i - 1].data, b = list[i].data;
        const t = Date.parse(list[i].observed_at);
        if (t >= since && a.level !== b.level) found.push({ t: t, from: a, to: b });
      }
    }
    found.sort(function (x, y) { return y.t - x.t; });
    return found.slice(0, 40);
  }

  function renderCharts() {
    if (!risk.chartsDirty || !window.dash_clientside || !dash_clientside.set_props) return;
    if (!document.getElementById("cop-risk-charts")) return;
    risk.chartsDirty = false;
    for (const scale of risk.context.scales) {
      const id = "cop-risk-chart-" + scale.key;
      if (!document.getElementById(id)) continue;
      const traces = [];
      for (const [entity, list] of risk.history) {
        if (!list.length || list[0].data.indicator !== scale.key) continue;
        traces.push({
          x: list.map(function (e) { return stampFmt.format(new Date(Date.parse(e.observed_at))); }),
          y: list.map(function (e) { return e.data.level; }),
          name: label(list[0].data), type: "scatter", mode: "lines+markers", line: { shape: "hv", width: 1.5 },
          marker: { size: 4, color: list.map(function (e) { return e.data.colour; }) },
          meta: entity,
        });
      }
      dash_clientside.set_props(id, {
        figure: {
          data: traces,
          layout: {
            height: 190, title: { text: scale.name + (traces.length ? "" : " · no data"), font: { size: 12 } },
            margin: { l: 90, r: 8, t: 26, b: 26 }, showlegend: false,
            paper_bgcolor: "#131c26", plot_bgcolor: "#131c26", font: { color: "#c9d5e0", size: 10 },
            xaxis: { type: "date", gridcolor: "#243240",
                     range: [stampFmt.format(new Date(Date.now() - HOURS * 3600 * 1000)), stampFmt.format(new Date())] },
            yaxis: { gridcolor: "#243240", tickmode: "array", tickvals: scale.levels.map(function (l) { return l.level; }),
                     ticktext: scale.levels.map(function (l) { return l.code; }),
                     range: [scale.levels[0].level - 0.3, scale.levels[scale.levels.length - 1].level + 0.3] },
            uirevision: scale.key,
          },
        },
      });
    }
  }

  // -- alerts ---------------------------------------------------------------------------------------

  const SEVERITY_COLOUR = { Extreme: "#e5484d", Severe: "#f76b15", Moderate: "#ffd60a", Minor: "#5ec8f0" };

  function effectiveState(d, now) {
    if (d.state === "active" || d.state === "published") {
      return d.expires && Date.parse(d.expires) < now ? "expired" : d.state;
    }
    return d.state;
  }

  function renderAlerts() {
    renderAlertLayer();
    const el = document.getElementById("cop-alert-list");
    if (!el) return;
    const now = Date.now();
    const me = COP.live && COP.live.hello ? COP.live.hello.user : null;
    const rows = Array.from(risk.alerts.values())
      .sort(function (a, b) { return Date.parse(b.observed_at) - Date.parse(a.observed_at); })
      .map(function (env) {
        const d = env.data;
        const state = effectiveState(d, now);
        let actions = "";
        if (state === "draft") {
          actions = "<br><span class='draft-tag'>DRAFT by " + esc(d.author) + ", awaiting a second person</span>" +
            (me && me !== d.author ? " <button class='button' data-approve='" + esc(env.id) + "'>Approve and publish</button>" : "");
        } else if (d.origin === "ours" && state !== "draft") {
          actions = " <a href='/api/v1/cap/" + esc(env.id) + "' target='_blank'>CAP</a> · approved by " + esc(d.approver);
        }
        return "<li class='alert-row state-" + esc(state) + " severity-" + esc((d.severity || "").toLowerCase()) +
          "' data-alert='" + esc(env.id) + "'><b>" + esc(d.headline || d.event) + "</b> <span class='muted'>" +
          esc(d.event) + " · " + esc(d.severity) + " · " + esc(d.urgency) + " · " + esc(state) +
          (d.status !== "Actual" ? " · " + esc(d.status).toUpperCase() : "") + "</span><br><span class='muted'>" +
          esc(d.sender_name || d.sender) + (d.sent ? " · sent " + fmt.format(new Date(Date.parse(d.sent))) : "") +
          (d.expires ? " · expires " + fmt.format(new Date(Date.parse(d.expires))) : "") +
          (d.prov_codes && d.prov_codes.length ? " · " + d.prov_codes.map(function (p) {
            return esc(risk.context.provinces[p] || p);
          }).join(", ") : "") + "</span>" + actions + "</li>";
      });
    setHtml(el, (risk.alertMessage ? "<p class='form-message' data-message>" + esc(risk.alertMessage) + "</p>" : "") +
      (rows.length ? "<ul class='alert-list'>" + rows.join("") + "</ul>" : "<p class='muted'>No alert.</p>"));
    if (!el.dataset.wired) {
      el.dataset.wired = "1";
      el.addEventListener("click", function (e) {
        const button = e.target.closest("button[data-approve]");
        if (!button) return;
        const id = button.dataset.approve;
        fetch("/api/v1/alerts/" + encodeURIComponent(id) + "/approve", {
          method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: "{}",
        }).then(function (r) {
          return r.json().then(function (j) {
            risk.alertMessage = r.ok ? "Published." : "Not published: " + (j.errors ? j.errors.map(function (x) {
              return x.field + ": " + x.problem; }).join("; ") : j.message);
            renderAlerts();
          });
        });
      });
    }
  }

  // Alerts on the live map ("Public alerts (CAP)" layer): areas coloured by severity.
  function renderAlertLayer() {
    const lm = COP.liveMap;
    const group = lm && lm.groups && lm.groups["public-alerts-cap-"];
    if (!group) return;
    if (risk.alertGroup !== group) { risk.alertGroup = group; risk.alertLayers = new Map(); }
    const now = Date.now();
    const wanted = new Set();
    for (const [id, env] of risk.alerts) {
      const d = env.data;
      const state = effectiveState(d, now);
      if (!d.geometry || (state !== "active" && state !== "published")) continue;
      wanted.add(id);
      const key = id + "@" + env.observed_at;
      const old = risk.alertLayers.get(id);
      if (old && old.key === key) continue;
      if (old) group.removeLayer(old.layer);
      const colour = SEVERITY_COLOUR[d.severity] || "#c9d5e0";
      const layer = L.geoJSON(d.geometry, { style: { color: colour, weight: 2, dashArray: "2 6", fillColor: colour,
                                                     fillOpacity: 0.08 } })
        .bindTooltip(esc(d.headline || d.event) + " · " + esc(d.severity), { sticky: true });
      group.addLayer(layer);
      risk.alertLayers.set(id, { key: key, layer: layer });
    }
    for (const [id, entry] of risk.alertLayers) {
      if (!wanted.has(id)) { group.removeLayer(entry.layer); risk.alertLayers.delete(id); }
    }
  }

  function render() {
    const page = document.getElementById("cop-risk-tiles");
    if (page) setHtml(page, tiles(false));
    const wall = document.getElementById("cop-wall-risk");
    if (wall) setHtml(wall, tiles(true));
    renderMap();
    const list = document.getElementById("cop-risk-changes");
    if (list) {
      const rows = changes().map(function (c) {
        return "<li><span class='muted'>" + fmt.format(new Date(c.t)) + "</span> " + esc(scaleOf(c.to.indicator).name) +
          " · " + esc(label(c.to)) + ": <span class='chip' style='background:" + c.from.colour + "'>" + esc(c.from.code) +
          "</span> → <span class='chip' style='background:" + c.to.colour + "'>" + esc(c.to.code) + "</span></li>";
      });
      setHtml(list, rows.length ? "<ul class='change-list'>" + rows.join("") + "</ul>" : "<p class='muted'>No change.</p>");
    }
    renderAlerts();
  }

  setInterval(check, 500);
  setInterval(function () { if (risk.loadedFor) { render(); } }, 5000);
  setInterval(renderCharts, 2000);
})();
