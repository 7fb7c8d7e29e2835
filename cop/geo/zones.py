"""Spatial joins for zones: what a zone touches and contains, and buffers in metres."""

from __future__ import annotations

from functools import cache

import numpy as np
import shapely
import shapely.geometry

from cop.domain.zones import Inside, Named
from cop.geo.boundaries import municipalities
from cop.geo.crs import geometry_to_lambert, geometry_to_wgs84, to_lambert
from cop.geo.sites import critical_sites, emergency_hospitals

BUFFER_SEGMENTS = 32  # per quarter circle: a 1 km circle is within 1.3 m of the true one


@cache
def _hospital_points() -> np.ndarray:
    points: np.ndarray = shapely.points([(h.lon, h.lat) for h in emergency_hospitals()])
    return points


@cache
def _site_points() -> np.ndarray:
    points: np.ndarray = shapely.points([(s.lon, s.lat) for s in critical_sites()])
    return points


def inside(geometry: shapely.Geometry) -> Inside:
    """Municipalities the zone touches, hospitals and critical sites inside it (WGS84 geometry)."""
    if geometry.geom_type == "Point":
        geometry = geometry.buffer(1e-9)
    shapely.prepare(geometry)
    towns = municipalities()
    touched = sorted(towns.tree.query(geometry, predicate="intersects").tolist())
    hospitals = emergency_hospitals()
    sites = critical_sites()
    in_hospitals = np.flatnonzero(
        shapely.contains_xy(geometry, *shapely.get_coordinates(_hospital_points()).T)
    )
    in_sites = np.flatnonzero(shapely.contains_xy(geometry, *shapely.get_coordinates(_site_points()).T))
    return Inside(
        municipalities=[Named(id=str(towns.nis_codes[i]), name=str(towns.names[i])) for i in touched],
        hospitals=[Named(id=hospitals[i].site_id, name=hospitals[i].name) for i in in_hospitals.tolist()],
        sites=[
            Named(id=sites[i].site_id, name=sites[i].name, category=sites[i].category)
            for i in in_sites.tolist()
        ],
    )


def provinces_touched(geometry: shapely.Geometry) -> list[str]:
    """Codes of the provinces a geometry touches, sorted."""
    towns = municipalities()
    hits = towns.tree.query(geometry, predicate="intersects")
    return sorted({str(towns.prov_codes[i]) for i in hits.tolist()})


def area_km2(geometry: shapely.Geometry) -> float:
    return float(geometry_to_lambert(geometry).area) / 1e6


def circle(lon: float, lat: float, radius_m: float) -> shapely.Geometry:
    """A circle of `radius_m` metres around a WGS84 point, buffered in Belgian Lambert 2008."""
    e, n = to_lambert(lon, lat)
    disc = shapely.Point(float(e), float(n)).buffer(radius_m, quad_segs=BUFFER_SEGMENTS)
    return geometry_to_wgs84(disc)


def rings(lon: float, lat: float, radii_m: dict[str, float]) -> dict[str, shapely.Geometry]:
    """Nested circles around a point, by zone type (red smallest)."""
    return {zone_type: circle(lon, lat, radius) for zone_type, radius in radii_m.items()}


def round_geometry(geometry: shapely.Geometry, digits: int = 6) -> dict[str, object]:
    """GeoJSON mapping with coordinates rounded (6 decimals ≈ 0.1 m)."""
    rounded = shapely.set_precision(geometry, 10**-digits) if geometry.geom_type != "Point" else geometry
    mapping: dict[str, object] = shapely.geometry.mapping(rounded)
    return mapping
