"""Situation reports: a draft generated from the live state, edited, then published — immutable
and numbered per incident in `{p}:sitrep:{incident}` — and compared with the one before."""

from __future__ import annotations

import html
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from cop.domain.errors import FieldProblem, InvalidInput
from cop.domain.users import User
from cop.feeds.hospitals import reported_beds
from cop.feeds.logbook import PRINT_CSS, IncidentDesk, LogBook, LogQuery, may_write_incident
from cop.feeds.zones import NotAllowed, UnitPositions
from cop.geo.reference import province_name
from cop.store.audit import audit
from cop.store.connection import Store
from cop.store.keys import as_text

NARRATIVE = ("situation", "actions", "outlook", "needs")
NARRATIVE_TITLES = {
    "situation": "Situation",
    "actions": "Actions taken",
    "outlook": "Outlook",
    "needs": "Needs and requests",
}
# Publishing assigns the next number atomically and appends: a report is never rewritten.
PUBLISH = """
local n = redis.call('XLEN', KEYS[1]) + 1
local doc = cjson.decode(ARGV[1])
doc['number'] = n
local body = cjson.encode(doc)
local id = redis.call('XADD', KEYS[1], '*', 'r', body)
redis.call('HDEL', KEYS[2], ARGV[2])
return {n, id}
"""


def _values(store: Store, kind: str) -> list[dict[str, Any]]:
    return [orjson.loads(raw) for raw in store.client.hvals(store.keys.state(kind))]


def snapshot(
    store: Store, incident_id: str, *, since: datetime | None, now: datetime, stale_after_s: float
) -> dict[str, Any]:
    """The figures of a report, read from the live state at `now`."""
    positions = [p for p in _values(store, "position") if not p["data"].get("deleted")]
    located = UnitPositions.from_state(positions)
    stale_before = (now - timedelta(seconds=stale_after_s)).isoformat()
    units = {
        "total": len(positions),
        "stale": sum(1 for p in positions if p["observed_at"] < stale_before),
        "by_discipline": dict(sorted(Counter(p["data"]["discipline"] for p in positions).items())),
        "by_status": dict(sorted(Counter(p["data"]["status"] for p in positions).items())),
    }
    hospitals = reported_beds(store)
    available = sum(h.available for h in hospitals)
    baseline = sum(h.baseline for h in hospitals)
    capacity = {
        "reporting": len(hospitals),
        "available": available,
        "baseline": baseline,
        "free_pct": round(100 * available / baseline, 1) if baseline else None,
        "most_loaded": [
            {"name": h.name, "available": h.available, "baseline": h.baseline, "free_pct": h.free_pct}
            for h in sorted(hospitals, key=lambda h: h.free_pct)[:5]
        ],
    }
    zones = []
    for z in _values(store, "zone"):
        d = z["data"]
        if d.get("deleted") or d.get("incident_id") != incident_id:
            continue
        zones.append(
            {
                "id": z["id"],
                "zone_type": d["zone_type"],
                "label": d.get("label", ""),
                "area_km2": d.get("area_km2"),
                "municipalities": [m["name"] for m in d["inside"]["municipalities"]],
                "hospitals": [h["name"] for h in d["inside"]["hospitals"]],
                "sites": [s["name"] for s in d["inside"]["sites"]],
                "units_inside": located.inside(d["geometry"]),
            }
        )
    zones.sort(key=lambda z: ("red", "orange", "yellow", "cp_ops").index(z["zone_type"]))
    risk: dict[str, dict[str, Any]] = {}
    for i in _values(store, "indicator"):
        d = i["data"]
        if d.get("valid_to") and d["valid_to"] < now.isoformat():
            continue
        best = risk.get(d["indicator"])
        if best is None or (d["severity"], d["level"]) > (best["severity"], best["level"]):
            risk[d["indicator"]] = {
                "severity": d["severity"],
                "level": d["level"],
                "label": d["label"],
                "where": [],
            }
        if risk[d["indicator"]]["level"] == d["level"]:
            risk[d["indicator"]]["where"].append(_area(d))
    alerts = []
    for a in _values(store, "alert"):
        d = a["data"]
        if d.get("state") not in {"active", "published"} or (
            d.get("expires") and d["expires"] < now.isoformat()
        ):
            continue
        alerts.append(
            {
                "headline": d.get("headline") or d.get("event"),
                "severity": d.get("severity"),
                "expires": d.get("expires"),
                "provinces": [province_name(p) for p in d.get("prov_codes", [])],
                "status": d.get("status"),
            }
        )
    _total, decisions = LogBook(store).query(
        incident_id, LogQuery(categories=("decision",), since=since, limit=200)
    )
    return {
        "units": units,
        "hospitals": capacity,
        "zones": zones,
        "risk": dict(sorted(risk.items())),
        "alerts": alerts,
        "decisions": [
            {
                "id": e["id"],
                "event_time": e["event_time"],
                "author": e["author"],
                "discipline": e["discipline"],
                "text": e["text"],
                "corrected_by": e.get("corrected_by"),
            }
            for e in reversed(decisions)
        ],
    }


def _area(d: dict[str, Any]) -> str:
    if d["scope"] == "province":
        where = province_name(d["scope_id"])
    elif d["scope"] == "national":
        where = "Belgium"
    else:
        where = d.get("name") or d["scope_id"]
    return f"{where} ({d['phenomenon']})" if d.get("phenomenon") else where


class SitReps:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.incidents = IncidentDesk(store)
        self._publish = store.client.register_script(PUBLISH)

    def _drafts_key(self) -> str:
        return f"{self.store.keys.p}:sitrep-drafts"

    def published(self, incident_id: str) -> list[dict[str, Any]]:
        rows = self.store.client.xrange(self.store.keys.sitrep(incident_id)) or []
        reports = []
        for sid, fields in rows:
            report = orjson.loads((fields or {})[b"r"])
            report["stream_id"] = as_text(sid)
            reports.append(report)
        return reports

    def report(self, incident_id: str, number: int) -> dict[str, Any]:
        for report in self.published(incident_id):
            if report["number"] == number:
                return report
        raise InvalidInput([FieldProblem("number", f"no published report {number} for {incident_id!r}")])

    def draft(self, incident_id: str) -> dict[str, Any] | None:
        raw = self.store.client.hget(self._drafts_key(), incident_id)
        return orjson.loads(raw) if raw else None

    def generate(self, incident_id: str, *, user: User, now: datetime) -> dict[str, Any]:
        """A new draft from the live state now (the narrative of an existing draft is kept)."""
        incident = self.incidents.get(incident_id)
        if not may_write_incident(user, incident.data.get("prov_code")):
            raise NotAllowed(f"{user.username} may not write situation reports for this incident")
        previous = self.published(incident_id)
        since = datetime.fromisoformat(previous[-1]["generated_at"]) if previous else None
        old = self.draft(incident_id) or {}
        draft = {
            "incident_id": incident_id,
            "incident": {
                "title": incident.data["title"],
                "type": incident.data["incident_type"],
                "phase": incident.data["level"],
                "status": incident.data["status"],
                "disciplines": incident.data.get("disciplines", []),
                "lat": incident.data["lat"],
                "lon": incident.data["lon"],
            },
            "exercise": incident.exercise,
            "generated_at": now.astimezone(UTC).isoformat(),
            "generated_by": user.username,
            "decisions_since": since.isoformat() if since else None,
            "figures": snapshot(
                self.store, incident_id, since=since, now=now, stale_after_s=self.store.settings.stale_after_s
            ),
            "narrative": old.get("narrative") or {key: "" for key in NARRATIVE},
        }
        self.store.client.hset(self._drafts_key(), incident_id, orjson.dumps(draft))
        return draft

    def edit(self, incident_id: str, narrative: dict[str, str], *, user: User) -> dict[str, Any]:
        draft = self.draft(incident_id)
        if draft is None:
            raise InvalidInput([FieldProblem("incident_id", "no draft: generate one first")])
        incident = self.incidents.get(incident_id)
        if not may_write_incident(user, incident.data.get("prov_code")):
            raise NotAllowed(f"{user.username} may not write situation reports for this incident")
        unknown = set(narrative) - set(NARRATIVE)
        if unknown:
            raise InvalidInput([FieldProblem(f"narrative.{sorted(unknown)[0]}", "unknown section")])
        for key, text in narrative.items():
            if len(text) > 20_000:
                raise InvalidInput([FieldProblem(f"narrative.{key}", "at most 20,000 characters")])
        draft["narrative"] = {
            key: (narrative.get(key, draft["narrative"].get(key, "")) or "").strip() for key in NARRATIVE
        }
        self.store.client.hset(self._drafts_key(), incident_id, orjson.dumps(draft))
        return draft

    def publish(self, incident_id: str, *, user: User, now: datetime, origin: str = "") -> dict[str, Any]:
        """Freeze the draft: numbered, immutable, in the incident's report stream."""
        draft = self.draft(incident_id)
        if draft is None:
            raise InvalidInput([FieldProblem("incident_id", "no draft: generate one first")])
        incident = self.incidents.get(incident_id)
        if not may_write_incident(user, incident.data.get("prov_code")):
            raise NotAllowed(f"{user.username} may not publish situation reports for this incident")
        if not any(draft["narrative"].values()):
            raise InvalidInput(
                [FieldProblem("narrative.situation", "write at least the situation before publishing")]
            )
        report = {**draft, "published_at": now.astimezone(UTC).isoformat(), "published_by": user.username}
        number, stream_id = self._publish(
            keys=[self.store.keys.sitrep(incident_id), self._drafts_key()],
            args=[orjson.dumps(report), incident_id],
        )
        audit(
            self.store.client,
            self.store.keys,
            actor=user.username,
            action="sitrep.publish",
            target=f"{incident_id}/{int(number)}",
            origin=origin,
            detail={"stream_id": as_text(stream_id)},
        )
        return self.report(incident_id, int(number))


def compare(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """What changed between two reports' figures: (what, before, after)."""
    changes = []

    def change(what: str, old: Any, new: Any) -> None:
        if old != new:
            changes.append({"what": what, "before": old, "after": new})

    a, b = before["figures"], after["figures"]
    change("units", a["units"]["total"], b["units"]["total"])
    for d in sorted(set(a["units"]["by_discipline"]) | set(b["units"]["by_discipline"])):
        change(f"units {d}", a["units"]["by_discipline"].get(d, 0), b["units"]["by_discipline"].get(d, 0))
    change("hospital beds free (%)", a["hospitals"]["free_pct"], b["hospitals"]["free_pct"])
    change("hospital beds free", a["hospitals"]["available"], b["hospitals"]["available"])
    zones_a = {z["zone_type"]: z for z in a["zones"]}
    zones_b = {z["zone_type"]: z for z in b["zones"]}
    for zone_type in ("red", "orange", "yellow", "cp_ops"):
        za, zb = zones_a.get(zone_type), zones_b.get(zone_type)
        change(f"{zone_type} zone area (km²)", za and za["area_km2"], zb and zb["area_km2"])
        change(
            f"units inside the {zone_type} zone",
            za and sum(za["units_inside"].values()),
            zb and sum(zb["units_inside"].values()),
        )
    for key in sorted(set(a["risk"]) | set(b["risk"])):
        change(f"risk: {key}", a["risk"].get(key, {}).get("label"), b["risk"].get(key, {}).get("label"))
    change("alerts in force", len(a["alerts"]), len(b["alerts"]))
    change("incident phase", before["incident"]["phase"], after["incident"]["phase"])
    return changes


def sitrep_html(report: dict[str, Any], *, to_local: Any) -> str:
    """A printable page (print to PDF from the browser)."""
    f = report["figures"]
    esc = html.escape
    exercise = "<p class='exercise'>EXERCISE — EXERCISE — EXERCISE</p>" if report["exercise"] else ""
    number = report.get("number")
    title = f"Situation report {number if number else '(draft)'} · {esc(report['incident']['title'])}"
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{title}</title><style>{PRINT_CSS}</style></head><body>",
        exercise,
        f"<h1>{title}</h1>",
        f"<p>Phase: {esc(report['incident']['phase'])} · status {esc(report['incident']['status'])} · "
        f"figures at {esc(to_local(report['generated_at']))}"
        + (
            f" · published {esc(to_local(report['published_at']))} by {esc(report['published_by'])}"
            if number
            else ""
        )
        + "</p>",
    ]
    for key in NARRATIVE:
        text = report["narrative"].get(key) or ""
        parts.append(f"<h2>{NARRATIVE_TITLES[key]}</h2><p>{esc(text) or '—'}</p>")
    units = f["units"]
    parts.append(
        "<h2>Units</h2><table><tr>"
        + "".join(f"<th>{esc(k)}</th>" for k in units["by_discipline"])
        + "<th>total</th><th>stale</th></tr><tr>"
        + "".join(f"<td>{v}</td>" for v in units["by_discipline"].values())
        + f"<td>{units['total']}</td><td>{units['stale']}</td></tr></table>"
    )
    hosp = f["hospitals"]
    parts.append(
        f"<h2>Hospitals</h2><p>{hosp['reporting']} reporting · "
        f"{hosp['available']} of {hosp['baseline']} beds free "
        f"({hosp['free_pct']} %)</p><table><tr><th>Most loaded</th><th>free</th><th>beds</th></tr>"
        + "".join(
            f"<tr><td>{esc(h['name'])}</td><td>{h['free_pct']} %</td>"
            f"<td>{h['available']}/{h['baseline']}</td></tr>"
            for h in hosp["most_loaded"]
        )
        + "</table>"
    )
    parts.append(
        "<h2>Zones</h2><table><tr><th>zone</th><th>km²</th><th>municipalities</th><th>hospitals</th>"
        "<th>units inside</th></tr>"
        + "".join(
            f"<tr><td>{esc(z['zone_type'])} {esc(z['label'])}</td><td>{z['area_km2'] or ''}</td>"
            f"<td>{esc(', '.join(z['municipalities']))}</td><td>{esc(', '.join(z['hospitals']))}</td>"
            f"<td>{esc(', '.join(f'{k} {v}' for k, v in z['units_inside'].items()))}</td></tr>"
            for z in f["zones"]
        )
        + "</table>"
    )
    parts.append(
        "<h2>Risk levels</h2><ul>"
        + "".join(
            f"<li>{esc(k)}: {esc(v['label'])} ({esc(', '.join(v['where'][:6]))})</li>"
            for k, v in f["risk"].items()
        )
        + "</ul><h2>Alerts in force</h2><ul>"
        + "".join(f"<li>{esc(a['headline'] or '')} · {esc(a['severity'] or '')}</li>" for a in f["alerts"])
        + "</ul><h2>Decisions</h2><ul>"
        + "".join(
            f"<li>{esc(to_local(d['event_time']))} · {esc(d['author'])} ({esc(d['discipline'])}): "
            f"{esc(d['text'])}</li>"
            for d in f["decisions"]
        )
        + "</ul>"
    )
    parts.append(exercise + "</body></html>")
    return "".join(parts)
