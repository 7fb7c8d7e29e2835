"""The Gaussian plume model against DOMAIN.md's worked figures and against independent reasoning."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from cop.domain.chem import find_substance
from cop.geo.crs import to_lambert
from cop.geo.plume import (
    Scenario,
    concentration,
    estimate_rate,
    sigmas,
    stability_class,
    threat_polygons,
    warnings_for,
    zones_geojson,
)

CHLORINE = find_substance("chlorine")
assert CHLORINE is not None
AEGL = {level: CHLORINE.ppm_to_g_m3(ppm) for level, ppm in CHLORINE.aegl.items() if ppm is not None}
TESSENDERLO = (5.08, 51.065)


def scenario(**overrides: object) -> Scenario:
    values: dict[str, object] = dict(
        lon=TESSENDERLO[0],
        lat=TESSENDERLO[1],
        rate_g_s=2000.0,
        height_m=0.0,
        wind_speed_ms=3.0,
        wind_from_deg=270.0,
        stability="D",
    )
    values.update(overrides)
    return Scenario(**values)  # type: ignore[arg-type]


def test_briggs_check_values_rural_d_at_one_kilometre() -> None:
    sy, sz = sigmas(1000.0, "D", "rural")
    assert float(sy) == pytest.approx(76.28, abs=0.01)
    assert float(sz) == pytest.approx(37.95, abs=0.01)


@pytest.mark.parametrize(
    ("stability", "terrain", "expected_sz"),
    [
        ("E", "rural", 0.03 * 1000 / 1.3),  # exponent −1, not −½
        ("F", "rural", 0.016 * 1000 / 1.3),
        ("A", "urban", 0.24 * 1000 * math.sqrt(2.0)),  # exponent +½
        ("B", "urban", 0.24 * 1000 * math.sqrt(2.0)),  # as A
        ("C", "urban", 0.20 * 1000),
        ("F", "urban", 0.08 * 1000 / math.sqrt(2.5)),  # as E
    ],
)
def test_briggs_sigma_z_exponents(stability: str, terrain: str, expected_sz: float) -> None:
    _, sz = sigmas(1000.0, stability, terrain)  # type: ignore[arg-type]
    assert float(sz) == pytest.approx(expected_sz, rel=1e-9)


def test_worked_example_de_visscher() -> None:
    c = concentration(1000.0, 0.0, 0.0, rate_g_s=5.0, wind_speed_ms=2.0, height_m=30.0, stability="D")
    assert float(c) * 1e6 == pytest.approx(201.14, abs=0.05)  # µg/m³


def test_symmetric_across_the_wind() -> None:
    y = np.linspace(0, 400, 41)
    left = concentration(1500.0, y, 1.5, rate_g_s=10, wind_speed_ms=4, height_m=20, stability="C")
    right = concentration(1500.0, -y, 1.5, rate_g_s=10, wind_speed_ms=4, height_m=20, stability="C")
    np.testing.assert_allclose(left, right, rtol=1e-12)
    assert np.all(np.diff(left) < 0)  # and falls off away from the axis


@pytest.mark.parametrize("stability", list("ABCDEF"))
def test_decreases_with_distance_far_downwind(stability: str) -> None:
    x = np.linspace(3000, 10_000, 50)
    c = concentration(x, 0.0, 0.0, rate_g_s=100, wind_speed_ms=3, height_m=10, stability=stability)
    assert np.all(np.diff(c) < 0)


def test_nothing_upwind() -> None:
    c = concentration([-500.0, 0.0], 0.0, 0.0, rate_g_s=100, wind_speed_ms=3, height_m=0, stability="D")
    assert c.tolist() == [0.0, 0.0]


def test_linear_in_release_rate() -> None:
    kwargs = dict(wind_speed_ms=2.5, height_m=15.0, stability="E")
    x, y = np.meshgrid(np.linspace(100, 8000, 30), np.linspace(-300, 300, 7))
    one = concentration(x, y, 0.0, rate_g_s=1.0, **kwargs)  # type: ignore[arg-type]
    seven = concentration(x, y, 0.0, rate_g_s=7.0, **kwargs)  # type: ignore[arg-type]
    np.testing.assert_allclose(seven, 7.0 * one, rtol=1e-12)


def test_ground_release_limit() -> None:
    """H = 0, z = 0: the two reflection terms merge into Q / (π u σy σz)."""
    x = np.array([200.0, 1000.0, 5000.0])
    sy, sz = sigmas(x, "B")
    c = concentration(x, 0.0, 0.0, rate_g_s=3.0, wind_speed_ms=2.0, height_m=0.0, stability="B")
    np.testing.assert_allclose(c, 3.0 / (math.pi * 2.0 * sy * sz), rtol=1e-12)


def test_averaging_time_widens_the_plume() -> None:
    sy10, sz10 = sigmas(2000.0, "D")
    sy60, sz60 = sigmas(2000.0, "D", averaging_min=60.0)
    assert float(sy60) == pytest.approx(float(sy10) * 6**0.2)
    assert float(sz60) == float(sz10)


@pytest.mark.parametrize(
    ("wind", "sky", "expected"),
    [
        (1.0, "strong_sun", "A"),
        (1.0, "moderate_sun", "B"),  # A–B → the more stable
        (2.5, "strong_sun", "B"),  # A–B
        (2.0, "slight_sun", "C"),  # 2 m/s is in "2–3"
        (4.0, "moderate_sun", "C"),  # B–C
        (5.5, "moderate_sun", "D"),  # C–D
        (5.5, "strong_sun", "C"),
        (6.0, "strong_sun", "C"),  # 6 m/s is still "5–6"
        (7.0, "moderate_sun", "D"),
        (1.5, "night_cloudy", "E"),
        (1.5, "night_clear", "F"),
        (4.0, "night_clear", "E"),
        (4.0, "night_cloudy", "D"),
        (1.0, "overcast", "D"),
    ],
)
def test_pasquill_gifford_table(wind: float, sky: str, expected: str) -> None:
    assert stability_class(wind, sky) == expected


def test_split_class_average_rule_averages_sigma() -> None:
    assert stability_class(1.0, "moderate_sun", split="average") == "A-B"
    sy, sz = sigmas(1000.0, "A-B")
    sya, sza = sigmas(1000.0, "A")
    syb, szb = sigmas(1000.0, "B")
    assert float(sy) == pytest.approx((float(sya) + float(syb)) / 2)
    assert float(sz) == pytest.approx((float(sza) + float(szb)) / 2)


def test_bad_inputs_name_the_field() -> None:
    with pytest.raises(ValueError, match="sky"):
        stability_class(3.0, "sunny")
    with pytest.raises(ValueError, match="stability"):
        sigmas(100.0, "G")


def test_threat_zones_nest_and_follow_the_contour() -> None:
    s = scenario()
    zones = {z.level: z for z in threat_polygons(s, AEGL)}
    assert set(zones) == {1, 2, 3}
    # Red inside orange inside yellow (allowing for simplification at 2.5 m).
    assert zones[2].polygon.buffer(5).contains(zones[3].polygon)
    assert zones[1].polygon.buffer(5).contains(zones[2].polygon)
    assert zones[3].max_distance_m < zones[2].max_distance_m < zones[1].max_distance_m
    # Independently: sample the field on a grid; inside a zone the concentration reaches its
    # level, outside it does not (cells within 15 m of the edge are left out).
    x, y = np.meshgrid(np.arange(105, 9995, 37.0), np.arange(-2000, 2000, 23.0))
    c = concentration(x, y, 0.0, rate_g_s=s.rate_g_s, wind_speed_ms=3.0, height_m=0.0, stability="D")
    points = shapely.points(x.ravel(), y.ravel())
    for level, zone in zones.items():
        edge = zone.polygon.boundary.buffer(15)
        clear = ~shapely.contains(edge, points)
        inside = shapely.contains(zone.polygon, points)
        above = c.ravel() >= AEGL[level]
        assert np.array_equal(inside[clear], above[clear]), level


def test_a_zone_beyond_ten_kilometres_says_it_is_truncated() -> None:
    zones = {z.level: z for z in threat_polygons(scenario(stability="F", wind_speed_ms=2.0), AEGL)}
    assert zones[1].truncated and zones[1].max_distance_m == 10_000
    assert not zones[3].truncated
    assert any("extends further" in w for w in warnings_for(scenario(), CHLORINE.mw, list(zones.values())))


def test_no_zone_when_the_level_is_never_reached() -> None:
    assert threat_polygons(scenario(rate_g_s=0.001), AEGL) == []


@pytest.mark.parametrize(("wind_from", "direction"), [(270.0, "east"), (0.0, "south"), (90.0, "west")])
def test_zones_lie_downwind_in_wgs84(wind_from: float, direction: str) -> None:
    s = scenario(wind_from_deg=wind_from)
    collection = zones_geojson(s, threat_polygons(s, AEGL))
    red = shapely.geometry.shape(collection["features"][-1]["geometry"])
    assert collection["features"][-1]["properties"]["level"] == 3
    centre = red.centroid
    lon0, lat0 = TESSENDERLO
    offset = {"east": centre.x - lon0, "west": lon0 - centre.x, "south": lat0 - centre.y}[direction]
    assert offset > 0
    # Longitude first, near the source.
    assert 4.5 < centre.x < 5.7 and 50.8 < centre.y < 51.3


def test_rate_estimated_from_noisy_readings_within_fifteen_percent() -> None:
    """Readings generated from a known rate plus 10 % noise: the estimate is within 15 %."""
    rng = np.random.default_rng(2026)
    true_rate = 850.0
    s = scenario(rate_g_s=true_rate, wind_from_deg=235.0, stability="C", height_m=5.0)
    frame = s.frame
    # A drone flying crosswind transects 500 m – 4 km downwind at 30 m above ground.
    x = np.repeat(np.linspace(500, 4000, 8), 60)
    y = np.tile(np.linspace(-600, 600, 60), 8)
    e, n = frame.to_lambert(x, y)
    from cop.geo.crs import to_wgs84

    lon, lat = to_wgs84(e, n)
    model = concentration(x, y, 30.0, rate_g_s=true_rate, wind_speed_ms=3.0, height_m=5.0, stability="C")
    observed = model * (1 + 0.10 * rng.standard_normal(model.shape))
    estimate = estimate_rate(s, lon, lat, 30.0, observed)
    assert estimate.rate_g_s is not None
    assert abs(estimate.rate_g_s - true_rate) / true_rate < 0.15
    assert estimate.used == len(x) and estimate.outside == 0
    assert estimate.r2 is not None and estimate.r2 > 0.9
    assert estimate.relative_rmse is not None and estimate.relative_rmse < 0.5


def test_rate_estimate_ignores_readings_it_cannot_model() -> None:
    s = scenario()
    e0, n0 = to_lambert(*TESSENDERLO)
    from cop.geo.crs import to_wgs84

    # Upwind (the wind blows from the west, so west of the source) and 50 m away.
    lon, lat = to_wgs84(np.array([e0 - 2000.0, e0 + 50.0]), np.array([n0, n0]))
    estimate = estimate_rate(s, lon, lat, 0.0, [1.0, 1.0])
    assert estimate.rate_g_s is None and estimate.used == 0 and estimate.outside == 2
