"""The envelope refuses bad input at the boundary, naming the field, and round-trips exactly."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from cop.domain import kinds  # noqa: F401
from cop.domain.envelope import Envelope
from cop.domain.errors import InvalidInput
from cop.store.state import order_key

T0 = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
POSITION = {
    "callsign": "AMB 21",
    "discipline": "D2",
    "unit_type": "ambulance",
    "status": "en_route",
    "lat": 50.85,
    "lon": 4.35,
    "prov_code": "04000",
}


def build(**overrides):
    values = dict(kind="position", entity_id="amb-21", source="test", observed_at=T0, data=dict(POSITION))
    values.update(overrides)
    return Envelope.build(**values)


def fields(error: InvalidInput) -> set[str]:
    return {p.field for p in error.problems}


def test_valid_envelope_round_trips_through_json():
    envelope = build()
    again = Envelope.from_json(envelope.to_json())
    assert again == envelope
    assert again.prov_code == "04000"
    assert again.observed_at.tzinfo is not None


def test_observed_time_is_normalised_to_utc():
    brussels = timezone(timedelta(hours=1))
    envelope = build(observed_at=datetime(2026, 11, 21, 4, 0, tzinfo=brussels))
    assert envelope.observed_at == T0
    assert envelope.observed_at.utcoffset() == timedelta(0)


def test_naive_time_is_refused_naming_observed_at():
    with pytest.raises(InvalidInput) as error:
        build(observed_at=datetime(2026, 11, 21, 3, 0))
    assert "observed_at" in fields(error.value)


def test_unknown_kind_is_refused_naming_kind():
    with pytest.raises(InvalidInput) as error:
        build(kind="weather")
    assert "kind" in fields(error.value)


def test_payload_field_problems_name_the_payload_field():
    with pytest.raises(InvalidInput) as error:
        build(data={**POSITION, "lat": 123.0, "discipline": "D9"})
    assert fields(error.value) == {"data.lat", "data.discipline"}
    assert "data.lat: Input should be less than or equal to 90" in str(error.value)


def test_extra_payload_fields_are_refused():
    with pytest.raises(InvalidInput) as error:
        build(data={**POSITION, "colour": "red"})
    assert fields(error.value) == {"data.colour"}


def test_entity_id_with_spaces_is_refused():
    with pytest.raises(InvalidInput) as error:
        build(entity_id="amb 21")
    assert "id" in fields(error.value)


def test_nan_coordinates_are_refused():
    with pytest.raises(InvalidInput):
        build(data={**POSITION, "lon": float("nan")})


def test_garbage_from_the_stream_is_refused_not_crashing():
    with pytest.raises(InvalidInput):
        Envelope.from_json(b"{not json")
    with pytest.raises(InvalidInput):
        Envelope.from_json(b'{"v": 1}')


def test_order_key_sorts_by_observed_time_then_stream_id():
    early = order_key(build(observed_at=T0).observed_us, "1700000000000-9")
    late = order_key(build(observed_at=T0 + timedelta(microseconds=1)).observed_us, "1-0")
    same_time_later_entry = order_key(build(observed_at=T0).observed_us, "1700000000001-0")
    assert early < late
    assert early < same_time_later_entry < late
