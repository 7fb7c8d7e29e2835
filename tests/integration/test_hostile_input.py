"""Hostile input, property-based (Hypothesis): whatever arrives at a JSON ingest endpoint or an XML
importer gets a 2xx or a 4xx with a message naming the problem — never a 500 — and only the valid
items change anything."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cop.domain.users import Role
from cop.store.users import UserStore
from tests.conftest import PASSWORD, SHARED
from tests.integration.helpers import login as form_login

RUNS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
times = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)).map(
        lambda d: d.isoformat()
    ),
    st.text(max_size=30),
    st.integers(),
)


def position_items():
    good = st.fixed_dictionaries(
        {
            "id": st.from_regex(r"[A-Za-z0-9]{1,12}", fullmatch=True),
            "callsign": st.text(min_size=0, max_size=70),
            "discipline": st.sampled_from(["D1", "D2", "D3", "D4", "D5", "D6", "", "d1"]),
            "unit_type": st.text(max_size=70),
            "status": st.sampled_from(["available", "en_route", "on_scene", "flying", ""]),
            "lat": st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5), st.none()),
            "lon": st.one_of(st.floats(min_value=-200, max_value=200), st.integers()),
            "observed_at": times,
        }
    )
    return st.lists(st.one_of(good, json_values), max_size=12)


@pytest.fixture
def token(store):
    return UserStore(store.client, store.keys).add_token("fuzz")


def check(response, store, kind, before):
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    body = response.json
    assert body is not None
    if response.status_code >= 400:
        errors = body.get("errors") or body.get("rejected") or [{"problem": body.get("message")}]
        assert errors and all(e for e in errors)
    accepted = body.get("accepted", 0) if response.status_code < 400 else 0
    accepted = len(accepted) if isinstance(accepted, list) else accepted
    grown = store.client.xlen(store.keys.stream(kind)) - before
    assert grown >= accepted  # a reading with its platform also writes a position (other stream)
    if response.status_code >= 400 or accepted == 0:
        assert grown == 0


@RUNS
@given(items=position_items())
def test_positions_endpoint_never_fails_and_keeps_only_valid_items(app, store, token, items):
    before = store.client.xlen(store.keys.stream("position"))
    raw = json.dumps(items).encode()  # NaN and Infinity come out as such: not JSON, to be refused
    response = app.server.test_client().post(
        "/api/v1/positions",
        data=raw,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    check(response, store, "position", before)


@RUNS
@given(body=json_values)
def test_every_json_endpoint_answers_4xx_to_any_json(app, store, token, body):
    client = app.server.test_client()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for endpoint, kind in (("positions", "position"), ("readings", "chem"), ("indicators", "indicator")):
        before = store.client.xlen(store.keys.stream(kind))
        response = client.post(f"/api/v1/{endpoint}", data=json.dumps(body).encode(), headers=headers)
        check(response, store, kind, before)


@RUNS
@given(data=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_garbage_bodies_are_refused_cleanly(app, store, token, data):
    client = app.server.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    for endpoint, kind in (
        ("positions", "position"),
        ("indicators", "indicator"),
        ("cap", "alert"),
        ("have", "hospital"),
    ):
        before = store.client.xlen(store.keys.stream(kind))
        response = client.post(f"/api/v1/{endpoint}", data=data, headers=headers)
        assert response.status_code < 500, (endpoint, response.get_data(as_text=True)[:200])
        assert store.client.xlen(store.keys.stream(kind)) == before or response.status_code == 200


SAMPLE = (SHARED / "conformance/cap-1.2/google__thunderstorm.cap").read_bytes()


@RUNS
@given(cut=st.integers(min_value=0, max_value=len(SAMPLE) - 1), junk=st.binary(max_size=20))
def test_truncated_and_spliced_cap_is_refused_with_a_message(app, store, token, cut, junk):
    before = store.client.xlen(store.keys.stream("alert"))
    response = app.server.test_client().post(
        "/api/v1/cap", data=SAMPLE[:cut] + junk, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code < 500
    if response.status_code >= 400:
        assert response.json["errors"][0]["field"] and response.json["errors"][0]["problem"]
        assert store.client.xlen(store.keys.stream("alert")) == before


def test_huge_and_deeply_nested_bodies_are_refused(app, store, token):
    client = app.server.test_client()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    deep = b"[" * 100_000 + b"]" * 100_000
    assert client.post("/api/v1/positions", data=deep, headers=headers).status_code == 400
    huge = b"[" + b",".join([b'{"id":"x"}'] * 2_000_000) + b"]"
    response = client.post("/api/v1/positions", data=huge, headers=headers)
    assert response.status_code == 413
    billion_laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        b"<alert>&lol2;</alert>"
    )
    response = client.post("/api/v1/cap", data=billion_laughs, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400 and "DTD" in response.json["errors"][0]["problem"]


@pytest.fixture
def coordinator(app, store):
    UserStore(store.client, store.keys).add("fuzzer", PASSWORD, Role.ADMIN)
    client = app.server.test_client()
    assert form_login(client, "fuzzer").status_code == 302
    return client


@RUNS
@given(body=json_values)
def test_session_endpoints_answer_4xx_to_any_json(app, store, coordinator, body):
    for url, kind in (
        ("/api/v1/zones", "zone"),
        ("/api/v1/alerts/drafts", "alert"),
        ("/api/v1/incidents", "incident"),
        ("/api/v1/logbooks/daily-operations/entries", None),
        ("/api/v1/positions", "position"),
        ("/api/v1/readings", "chem"),
        ("/api/v1/indicators", "indicator"),
        ("/api/v1/have", "hospital"),
        ("/api/v1/cap", "alert"),
        ("/api/v1/plumes", "chem"),
        ("/api/v1/zones/buffers", "zone"),
    ):
        before = store.client.xlen(store.keys.stream(kind)) if kind else 0
        response = coordinator.post(
            url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        assert response.status_code < 500, (url, response.get_data(as_text=True)[:200])
        if kind and response.status_code >= 400:
            assert store.client.xlen(store.keys.stream(kind)) == before
        if response.status_code >= 400:
            body_out = response.json
            assert body_out.get("errors") or body_out.get("message") or body_out.get("rejected")


def test_far_past_and_future_timestamps_are_named(app, token):
    client = app.server.test_client()
    items = [
        {
            "id": "old",
            "callsign": "A",
            "discipline": "D1",
            "unit_type": "x",
            "status": "available",
            "lat": 50.8,
            "lon": 4.3,
            "observed_at": "1970-01-01T00:00:00+00:00",
        },
        {
            "id": "new",
            "callsign": "A",
            "discipline": "D1",
            "unit_type": "x",
            "status": "available",
            "lat": 50.8,
            "lon": 4.3,
            "observed_at": (datetime.now(UTC) + timedelta(days=3650)).isoformat(),
        },
    ]
    response = client.post("/api/v1/positions", json=items, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    assert [r["errors"][0]["field"] for r in response.json["rejected"]] == ["observed_at", "observed_at"]
