"""What the drawing tools send becomes a zone geometry: circles are buffered in metres."""

from __future__ import annotations

import pytest
import shapely.geometry

from cop.callbacks.chem import drawn_geometry, feature_key
from cop.domain.zones import ZoneDraft
from cop.geo.zones import area_km2


def test_a_drawn_circle_becomes_a_polygon_of_that_radius_in_metres():
    circle = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [5.08, 51.065]},
        "properties": {"type": "circle", "_radius": 1000},
    }
    geometry = drawn_geometry(circle, "orange")
    assert geometry["type"] == "Polygon"
    assert area_km2(shapely.geometry.shape(geometry)) == pytest.approx(3.1416, rel=0.005)
    assert ZoneDraft(incident_id="i", zone_type="orange", geometry=geometry).geometry == geometry


def test_a_marker_stays_a_point_for_cp_ops_and_polygons_pass_through():
    marker = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [5.08, 51.065]},
        "properties": {},
    }
    assert drawn_geometry(marker, "cp_ops") == marker["geometry"]
    square = {"type": "Polygon", "coordinates": [[[5, 51], [5.1, 51], [5.1, 51.1], [5, 51.1], [5, 51]]]}
    assert drawn_geometry({"geometry": square, "properties": {}}, "red") == square


def test_a_drawn_shape_is_recognised_across_reports():
    a = {"geometry": {"type": "Point", "coordinates": [5.08, 51.065]}, "properties": {"_radius": 10}}
    b = {"geometry": {"type": "Point", "coordinates": [5.08, 51.065]}, "properties": {"_radius": 11}}
    assert feature_key(a) == feature_key(dict(a)) != feature_key(b)
