"""Coordinate reference systems: WGS84 for storage and display, Belgian Lambert 2008 for metres."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer

WGS84 = "EPSG:4326"
LAMBERT_2008 = "EPSG:3812"  # ETRS89 / Belgian Lambert 2008: measure, buffer and model here


@cache
def _to_lambert() -> Transformer:
    return Transformer.from_crs(WGS84, LAMBERT_2008, always_xy=True)


@cache
def _to_wgs84() -> Transformer:
    return Transformer.from_crs(LAMBERT_2008, WGS84, always_xy=True)


def to_lambert(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(easting, northing) in metres of WGS84 points."""
    e, n = _to_lambert().transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(e, dtype=float), np.asarray(n, dtype=float)


def to_wgs84(e: ArrayLike, n: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(lon, lat) of Belgian Lambert 2008 points."""
    lon, lat = _to_wgs84().transform(np.asarray(e, dtype=float), np.asarray(n, dtype=float))
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def geometry_to_lambert(geometry: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geometry, lambda xy: np.column_stack(to_lambert(xy[:, 0], xy[:, 1])))


def geometry_to_wgs84(geometry: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geometry, lambda xy: np.column_stack(to_wgs84(xy[:, 0], xy[:, 1])))


def grid_convergence_deg(lon: float, lat: float) -> float:
    """Angle from grid north to true north at a point, clockwise, in degrees (under 1° in Belgium).

    A direction with true bearing b has grid bearing b + this angle.
    """
    e0, n0 = to_lambert(lon, lat)
    e1, n1 = to_lambert(lon, lat + 0.01)
    return math.degrees(math.atan2(float(e1 - e0), float(n1 - n0)))
