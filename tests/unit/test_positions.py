"""Positions: observation validation, point-in-polygon placement and the simulator's movement."""

import random
from datetime import UTC, datetime

import numpy as np
import pytest
from pydantic import ValidationError

from cop.api.ingest import read_batch, validate_items
from cop.domain.errors import InvalidInput
from cop.domain.positions import PositionObservation
from cop.feeds.positions import DEMO_INCIDENT, KM_PER_DEG_LAT, make_units, move
from cop.geo.boundaries import municipalities

GOOD = {
    "id": "amb-21",
    "callsign": "AMB 21",
    "discipline": "D2",
    "unit_type": "ambulance",
    "status": "en_route",
    "lat": 50.85,
    "lon": 4.35,
    "speed_kmh": 80,
    "observed_at": "2026-11-21T03:00:00Z",
}


def test_a_good_observation_validates():
    observation = PositionObservation.model_validate(GOOD)
    assert observation.observed_at == datetime(2026, 11, 21, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lat", 95.0),
        ("lon", -181.0),
        ("discipline", "D7"),
        ("status", "flying"),
        ("observed_at", "2026-11-21T03:00:00"),
        ("speed_kmh", -3),
        ("heading_deg", 360),
    ],
)
def test_bad_fields_are_named(field, value):
    with pytest.raises(ValidationError) as error:
        PositionObservation.model_validate({**GOOD, field: value})
    assert error.value.errors()[0]["loc"] == (field,)


def test_a_bad_item_never_blocks_the_good_ones():
    items = [GOOD, {**GOOD, "id": "x", "lat": 100}, "not an object", {**GOOD, "id": "amb-22"}]
    good, rejected = validate_items(items, PositionObservation)
    assert [i for i, _ in good] == [0, 3]
    assert [(r.index, r.id) for r in rejected] == [(1, "x"), (2, None)]
    assert rejected[0].problems[0].field == "lat"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"", "body"),
        (b"{nope", "body"),
        (b'{"a": 1}', "body"),
        (b"[NaN]", "body"),
        (b"[" + b",".join([b"{}"] * 11) + b"]", "items"),
    ],
)
def test_batch_body_problems_are_named(body, field):
    with pytest.raises(InvalidInput) as error:
        read_batch(body, max_items=10)
    assert error.value.problems[0].field == field


def test_batch_accepts_an_array_or_an_items_object():
    assert read_batch(b"[1, 2]", 10) == [1, 2]
    assert read_batch(b'{"items": [1]}', 10) == [1]


def test_points_are_placed_in_their_municipality_and_province():
    lons = np.array([4.3525, 4.4211, 5.5797, 3.7174, 4.9])
    lats = np.array([50.8467, 51.2172, 50.6326, 51.0543, 52.37])
    nis, prov = municipalities().locate(lons, lats)
    assert nis[:4] == ["21004", "11002", "62063", "44021"]
    assert prov == ["04000", "10000", "60000", "40000", None]


def test_simulated_units_are_in_belgium_and_some_converge_on_the_incident():
    rng = random.Random(1)
    units = make_units(500, rng)
    nis, _ = municipalities().locate(np.array([u.lon for u in units]), np.array([u.lat for u in units]))
    assert all(code is not None for code in nis)
    assert {u.discipline for u in units} == {"D1", "D2", "D3", "D4", "D5"}
    converging = [u for u in units if u.status.value == "en_route"]
    assert 20 < len(converging) < 100
    unit = converging[0]

    def km_to_incident(u):
        return np.hypot(
            (u.lat - DEMO_INCIDENT[0]) * KM_PER_DEG_LAT,
            (u.lon - DEMO_INCIDENT[1]) * KM_PER_DEG_LAT * np.cos(np.radians(u.lat)),
        )

    before = km_to_incident(unit)
    move(unit, 60, rng)  # one minute at 60-90 km/h
    travelled = before - km_to_incident(unit)
    assert 0.9 <= travelled <= 1.6 or unit.status.value == "on_scene"
