"""Who may do what, checked on the server for every write endpoint and every role and scope:
anonymous, token, viewer, analyst, a coordinator of the incident's province, a coordinator of
another province, a hospital manager and an admin."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cop.domain.envelope import Envelope
from cop.domain.incidents import IncidentPayload
from cop.domain.users import Role
from cop.hub.worker import Hub
from cop.layouts.pages import PAGES
from cop.store.streams import StreamWriter
from cop.store.users import UserStore
from tests.conftest import PASSWORD
from tests.integration.helpers import Recorder, drain
from tests.integration.helpers import login as form_login

LIMBURG, LIEGE = "70000", "60000"
ROLES = ("anonymous", "token", "viewer", "analyst", "limburg", "liege", "manager", "admin")


@pytest.fixture
def clients(app, store, settings):
    users = UserStore(store.client, store.keys)
    users.add("viewer", PASSWORD, Role.VIEWER)
    users.add("analyst", PASSWORD, Role.ANALYST)
    users.add("limburg", PASSWORD, Role.COORDINATOR, provinces=frozenset({LIMBURG}))
    users.add("liege", PASSWORD, Role.COORDINATOR, provinces=frozenset({LIEGE}))
    users.add("manager", PASSWORD, Role.HOSPITAL_MANAGER, hospitals=frozenset({"h1"}))
    users.add("admin", PASSWORD, Role.ADMIN)
    token = users.add_token("matrix")
    incident = Envelope.build(
        kind="incident",
        entity_id="inc-l",
        source="t",
        observed_at=datetime.now(UTC),
        data=IncidentPayload(title="Limburg", incident_type="fire", lat=51.065, lon=5.08, prov_code=LIMBURG),
    )
    StreamWriter(store.client, store.keys, settings).append([incident])
    drain(Hub(store, Recorder(), consumer="c"), "incident")
    result = {}
    for role in ROLES:
        client = app.server.test_client()
        if role not in {"anonymous", "token"}:
            assert form_login(client, role).status_code == 302
        result[role] = (client, {"Authorization": f"Bearer {token}"} if role == "token" else {})
    return result


def square(lon: float, lat: float) -> dict[str, object]:
    d = 0.002
    ring = [
        [lon - d, lat - d],
        [lon + d, lat - d],
        [lon + d, lat + d],
        [lon - d, lat + d],
        [lon - d, lat - d],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


WRITES = {
    "open an incident in Limburg": (
        "/api/v1/incidents",
        {"title": "x", "incident_type": "fire", "lat": 50.93, "lon": 5.33},
        {"limburg", "admin"},
    ),
    "draw a zone of the Limburg incident": (
        "/api/v1/zones",
        {"incident_id": "inc-l", "zone_type": "red", "geometry": square(5.08, 51.065)},
        {"limburg", "admin"},
    ),
    "buffer zones around the Limburg incident": (
        "/api/v1/zones/buffers",
        {"incident_id": "inc-l", "radii_m": {"red": 200}},
        {"limburg", "admin"},
    ),
    "write the Limburg logbook": (
        "/api/v1/logbooks/inc-l/entries",
        {"category": "information", "text": "x"},
        {"limburg", "admin"},
    ),
    "draft a public alert for Limburg": (
        "/api/v1/alerts/drafts",
        {
            "event": "x",
            "category": "Safety",
            "urgency": "Immediate",
            "severity": "Severe",
            "certainty": "Observed",
            "texts": {"nl": {"headline": "x"}},
            "provinces": [LIMBURG],
        },
        {"limburg", "admin"},
    ),
    "generate a Limburg situation report": ("/api/v1/sitreps/inc-l/generate", {}, {"limburg", "admin"}),
    "run a plume for the Limburg incident": (
        "/api/v1/plumes",
        {
            "release_id": "r",
            "incident_id": "inc-l",
            "release": {"lat": 51.065, "lon": 5.08, "substance": "chlorine", "rate_g_s": 100},
            "weather": {"wind_speed_ms": 3, "wind_from_deg": 200, "stability": "D"},
        },
        {"limburg", "admin", "token"},  # other systems may publish model runs
    ),
}


@pytest.mark.parametrize("action", sorted(WRITES))
def test_write_matrix(clients, action):
    url, body, allowed = WRITES[action]
    outcomes = {}
    for role in ROLES:
        client, headers = clients[role]
        response = client.post(url, json=body, headers=headers)
        outcomes[role] = response.status_code
    for role, status in outcomes.items():
        if role == "anonymous":
            assert status == 401, (action, role, status)
        elif role in allowed:
            assert status in {200, 201}, (action, role, status)
        else:
            assert status == 403, (action, role, status)


def test_read_matrix(clients):
    """Everyone logged in opens every page; scoped reads follow the province."""
    for role in ROLES:
        client, headers = clients[role]
        for page in PAGES:
            status = client.get(page.path, headers=headers).status_code
            assert status == (302 if role in {"anonymous", "token"} else 200), (role, page.path, status)
        logbook = client.get("/api/v1/logbooks/inc-l/entries", headers=headers).status_code
        expected = {"anonymous": 401, "liege": 403}.get(role, 200)
        assert logbook == expected, (role, logbook)


def test_hospital_form_only_for_its_managers(clients):
    for role in ROLES:
        client, headers = clients[role]
        status = client.get("/hospitals/h2/edit", headers=headers).status_code
        assert status == {"anonymous": 302, "token": 302, "admin": 200}.get(role, 403), (role, status)
