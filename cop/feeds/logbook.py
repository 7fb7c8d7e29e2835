"""Incidents and their logbooks.

A logbook is the Redis stream `{p}:log:{incident}`: append-only and never trimmed (it is a legal
record). There is no code path that changes or removes an entry: a correction is a new entry that
points to the one it corrects. New entries are pushed live to the room `log/{incident}`.
"""

from __future__ import annotations

import csv
import html
import io
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

import numpy as np
import orjson
from pydantic import ValidationError

from cop.domain.envelope import Envelope
from cop.domain.errors import FieldProblem, InvalidInput, problems_from
from cop.domain.incidents import (
    DAILY_OPERATIONS_ID,
    IncidentDraft,
    IncidentPayload,
    IncidentStatus,
    LogEntryDraft,
)
from cop.domain.users import Role, User
from cop.feeds.zones import NotAllowed
from cop.geo.boundaries import municipalities
from cop.store.audit import audit
from cop.store.connection import Store
from cop.store.keys import as_text
from cop.store.state import StateStore
from cop.store.streams import StreamWriter

LOG_EVENT = "log"
CSV_COLUMNS = (
    "entry_id",
    "entry_time_utc",
    "event_time_utc",
    "discipline",
    "category",
    "priority",
    "author",
    "text",
    "lat",
    "lon",
    "links",
    "corrects",
    "corrected_by",
    "exercise",
)


class Emitter(Protocol):
    def emit(self, event: str, data: Any, room: str) -> None: ...


def log_room(incident_id: str) -> str:
    return f"log/{incident_id}"


# -- incidents ------------------------------------------------------------------------------------------


def may_read(user: User, incident: Envelope) -> bool:
    return user.can_read_province(incident.data.get("prov_code"))


def may_write_incident(user: User, prov_code: str | None) -> bool:
    """Coordinators (of the province, or any for national incidents) and admins."""
    if user.role is Role.ADMIN:
        return True
    if user.role is not Role.COORDINATOR:
        return False
    return prov_code is None or user.can_write_province(prov_code)


def may_log(user: User, incident: Envelope, discipline: str) -> bool:
    """Who may write which logbook: coordinators and admins every discipline of the incidents they
    may change; hospital managers only D2, and only where the incident allows it."""
    if incident.data.get("status") != IncidentStatus.OPEN.value:
        return False
    if user.role is Role.HOSPITAL_MANAGER:
        return (
            discipline == "D2"
            and bool(incident.data.get("hospital_managers_may_log"))
            and may_read(user, incident)
        )
    return may_write_incident(user, incident.data.get("prov_code"))


class IncidentDesk:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.state = StateStore(store.client, store.keys)
        self.writer = StreamWriter(store.client, store.keys, store.settings)

    def seed_daily_operations(self) -> bool:
        """The always-open "daily operations" incident, written once."""
        if not self.store.client.set(
            self.store.keys.seeded("incident"), datetime.now(UTC).isoformat(), nx=True
        ):
            return False
        payload = IncidentPayload(
            title="Daily operations",
            incident_type="daily operations",
            lat=50.8467,
            lon=4.3525,
            level="federal",  # type: ignore[arg-type]
            disciplines=["D1", "D2", "D3", "D4", "D5"],
            always_open=True,
        )
        self.writer.append(
            [
                Envelope.build(
                    kind="incident",
                    entity_id=DAILY_OPERATIONS_ID,
                    source="seed",
                    observed_at=datetime(2000, 1, 1, tzinfo=UTC),
                    data=payload,
                )
            ]
        )
        return True

    def get(self, incident_id: str) -> Envelope:
        incident = self.state.get("incident", incident_id)
        if incident is None or incident.deleted:
            raise InvalidInput([FieldProblem("incident_id", f"no incident {incident_id!r}")])
        return incident

    def visible(self, user: User) -> list[Envelope]:
        found = [e for e in self.state.all("incident").values() if not e.deleted and may_read(user, e)]
        # Open first, the daily operations incident first of those, then the newest.
        return sorted(
            found,
            key=lambda e: (
                e.data.get("status") != "open",
                e.id != DAILY_OPERATIONS_ID,
                -e.observed_at.timestamp(),
            ),
        )

    def save(
        self,
        raw: dict[str, Any],
        *,
        user: User,
        now: datetime,
        incident_id: str | None = None,
        origin: str = "",
    ) -> str:
        """Open an incident, or change one (its phase, status, disciplines…)."""
        try:
            draft = IncidentDraft.model_validate(raw)
        except ValidationError as error:
            raise InvalidInput(problems_from(error)) from error
        nis, prov = municipalities().locate(np.array([draft.lon]), np.array([draft.lat]))
        if incident_id is not None:
            current = self.get(incident_id)
            if current.data.get("always_open") and draft.status is not IncidentStatus.OPEN:
                raise InvalidInput([FieldProblem("status", "the daily operations incident is always open")])
            prov_code = current.data.get("prov_code")
            exercise = current.exercise  # an exercise stays one, and a real incident stays real
        else:
            prov_code = prov[0]
            exercise = draft.exercise
            incident_id = f"inc-{now:%Y%m%d-%H%M%S}-{now.microsecond // 1000:03d}"
        if not may_write_incident(user, prov_code):
            raise NotAllowed(f"{user.username} may not open or change incidents in this province")
        payload = IncidentPayload(
            title=draft.title,
            incident_type=draft.incident_type,
            lat=draft.lat,
            lon=draft.lon,
            status=draft.status,
            level=draft.level,
            nis_code=nis[0],
            prov_code=prov_code,
            disciplines=draft.disciplines,
            hospital_managers_may_log=draft.hospital_managers_may_log,
            always_open=incident_id == DAILY_OPERATIONS_ID,
        )
        envelope = Envelope.build(
            kind="incident",
            entity_id=incident_id,
            source="web",
            observed_at=now,
            data=payload,
            exercise=exercise,
        )
        self.writer.append_audited(
            envelope,
            actor=user.username,
            action="incident.save",
            origin=origin,
            detail={"status": draft.status.value, "level": draft.level.value},
        )
        return incident_id


# -- logbooks ---------------------------------------------------------------------------------------------


@dataclass
class LogIndex:
    """The entries of one logbook, read incrementally from its stream (oldest first)."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_id: str = "0-0"
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class LogQuery:
    disciplines: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    author: str | None = None
    since: datetime | None = None  # entry time
    until: datetime | None = None
    text: str | None = None
    limit: int = 500


def matches(entry: dict[str, Any], query: LogQuery, words: list[str]) -> bool:
    if query.disciplines and entry["discipline"] not in query.disciplines:
        return False
    if query.categories and entry["category"] not in query.categories:
        return False
    if query.author and entry["author"] != query.author:
        return False
    if query.since and entry["entry_time"] < query.since.isoformat():
        return False
    if query.until and entry["entry_time"] > query.until.isoformat():
        return False
    if words:
        haystack = entry["_search"]
        return all(word in haystack for word in words)
    return True


class LogBook:
    """Appends to and reads the logbooks. Entries are plain dicts (JSON) with their stream id."""

    # One index per logbook and process, shared by every LogBook object (pages, API, exports).
    _indexes: ClassVar[dict[tuple[str, str], LogIndex]] = {}
    _indexes_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, store: Store, emitter: Emitter | None = None) -> None:
        self.store = store
        self.emitter = emitter
        self.incidents = IncidentDesk(store)

    def append(
        self, incident_id: str, raw: dict[str, Any], *, user: User, now: datetime, origin: str = ""
    ) -> dict[str, Any]:
        """Validate and append one entry; returns it (with its id) once it is in Redis."""
        incident = self.incidents.get(incident_id)
        try:
            draft = LogEntryDraft.model_validate(raw)
        except ValidationError as error:
            raise InvalidInput(problems_from(error)) from error
        if not may_log(user, incident, draft.discipline):
            raise NotAllowed(f"{user.username} may not write the {draft.discipline} logbook of this incident")
        if draft.event_time is not None and draft.event_time > now:
            raise InvalidInput([FieldProblem("event_time", "is in the future")])
        if draft.corrects is not None and self.entry(incident_id, draft.corrects) is None:
            raise InvalidInput([FieldProblem("corrects", f"no entry {draft.corrects} in this logbook")])
        entry = {
            "incident_id": incident_id,
            "author": user.username,
            "author_role": user.role.value,
            "discipline": draft.discipline,
            "event_time": (draft.event_time or now).astimezone(UTC).isoformat(),
            "entry_time": now.astimezone(UTC).isoformat(),
            "priority": draft.priority.value,
            "category": draft.category.value,
            "text": draft.text,
            "lat": draft.lat,
            "lon": draft.lon,
            "links": [link.model_dump() for link in draft.links],
            "corrects": draft.corrects,
            "exercise": incident.exercise,
        }
        # No MAXLEN: a logbook is never trimmed.
        stream_id = as_text(
            self.store.client.xadd(self.store.keys.log(incident_id), {"e": orjson.dumps(entry)})
        )
        entry["id"] = stream_id
        audit(
            self.store.client,
            self.store.keys,
            actor=user.username,
            action="log.append",
            target=f"{incident_id}/{stream_id}",
            origin=origin,
            detail={
                "discipline": draft.discipline,
                "category": draft.category.value,
                "corrects": draft.corrects,
            },
        )
        if self.emitter is not None:
            self.emitter.emit(LOG_EVENT, entry, log_room(incident_id))
        return entry

    # -- reading -----------------------------------------------------------------------------------

    def index(self, incident_id: str) -> LogIndex:
        key = (self.store.keys.p, incident_id)
        with self._indexes_lock:
            index = self._indexes.setdefault(key, LogIndex())
        with index.lock:
            stream = self.store.client.xrange(self.store.keys.log(incident_id), f"({index.last_id}", "+")
            for sid, fields in stream or []:
                entry = orjson.loads((fields or {})[b"e"])
                entry["id"] = as_text(sid)
                entry["_search"] = entry["text"].lower() + " " + entry["author"].lower()
                entry["corrected_by"] = None
                index.entries.append(entry)
                index.by_id[entry["id"]] = entry
                if entry.get("corrects") and entry["corrects"] in index.by_id:
                    index.by_id[entry["corrects"]]["corrected_by"] = entry["id"]
                index.last_id = entry["id"]
        return index

    def entry(self, incident_id: str, entry_id: str) -> dict[str, Any] | None:
        return self.index(incident_id).by_id.get(entry_id)

    def query(self, incident_id: str, query: LogQuery) -> tuple[int, list[dict[str, Any]]]:
        """(how many match, the newest `limit` of them, newest first)."""
        words = [w for w in re.split(r"\s+", (query.text or "").lower()) if w]
        entries = self.index(incident_id).entries
        found = [e for e in reversed(entries) if matches(e, query, words)]
        return len(found), [public(e) for e in found[: query.limit]]

    def all_entries(self, incident_id: str) -> list[dict[str, Any]]:
        return [public(e) for e in self.index(incident_id).entries]

    def authors(self, incident_id: str) -> list[str]:
        return sorted({e["author"] for e in self.index(incident_id).entries})


def public(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if not k.startswith("_")}


# -- exports ---------------------------------------------------------------------------------------------


def to_csv(entries: list[dict[str, Any]]) -> str:
    """Oldest first; every row says EXERCISE when the incident is one."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        writer.writerow(
            [
                e["id"],
                e["entry_time"],
                e["event_time"],
                e["discipline"],
                e["category"],
                e["priority"],
                e["author"],
                e["text"],
                "" if e.get("lat") is None else e["lat"],
                "" if e.get("lon") is None else e["lon"],
                " ".join(f"{link['kind']}:{link['id']}" for link in e.get("links", [])),
                e.get("corrects") or "",
                e.get("corrected_by") or "",
                "EXERCISE" if e.get("exercise") else "",
            ]
        )
    return out.getvalue()


PRINT_CSS = (
    "body{font:12px sans-serif;margin:1.5cm} table{border-collapse:collapse;width:100%}"
    "td,th{border:1px solid #999;padding:3px 5px;vertical-align:top;text-align:left}"
    ".corrected .text{text-decoration:line-through;color:#666}"
    ".exercise{background:#d2a8ff;font-weight:800;text-align:center;padding:4px;letter-spacing:.2em}"
    "@media print{a{color:inherit}}"
)


def to_html(incident: Envelope, entries: list[dict[str, Any]], *, to_local: Callable[[str], str]) -> str:
    """A printable page of the logbook (oldest first), corrected entries struck through."""
    exercise = incident.exercise
    rows = []
    for e in entries:
        struck = " class='corrected'" if e.get("corrected_by") else ""
        note = ""
        if e.get("corrects"):
            note = f" <em>(corrects <a href='#e{e['corrects']}'>{e['corrects']}</a>)</em>"
        if e.get("corrected_by"):
            note += f" <em>(corrected by <a href='#e{e['corrected_by']}'>{e['corrected_by']}</a>)</em>"
        rows.append(
            f"<tr id='e{html.escape(e['id'])}'{struck}><td>{html.escape(to_local(e['event_time']))}</td>"
            f"<td>{html.escape(to_local(e['entry_time']))}</td><td>{html.escape(e['discipline'])}</td>"
            f"<td>{html.escape(e['category'])}</td><td>{html.escape(e['priority'])}</td>"
            f"<td>{html.escape(e['author'])}</td>"
            f"<td><span class='text'>{html.escape(e['text'])}</span>{note}</td></tr>"
        )
    banner = "<p class='exercise'>EXERCISE — EXERCISE — EXERCISE</p>" if exercise else ""
    title = html.escape(incident.data["title"])
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Logbook · {title}{' · EXERCISE' if exercise else ''}</title>"
        f"<style>{PRINT_CSS}</style></head><body>"
        f"{banner}<h1>Logbook · {title}</h1><p>{len(entries)} entries · times in Brussels time · exported "
        f"{html.escape(to_local(datetime.now(UTC).isoformat()))}</p>"
        "<table><thead><tr><th>Event</th><th>Entered</th><th>Discipline</th><th>Category</th><th>Priority</th>"
        f"<th>Author</th><th>Entry</th></tr></thead><tbody>{''.join(rows)}</tbody></table>{banner}</body></html>"
    )


def since_text(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput([FieldProblem("since", f"not a date and time: {value!r}")]) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
