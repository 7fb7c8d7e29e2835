"""Point-in-polygon on the shipped 2025 municipalities: which municipality and province a point is in.

Vectorised with a shapely STRtree, because positions arrive thousands per second. Coordinates are
WGS84 degrees (EPSG:4326); the municipalities tile Belgium exactly (no gaps, no overlaps), so a
point inside Belgium has exactly one answer and a point outside has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import shapely
from numpy.typing import NDArray

from cop.geo.reference import load_geojson


@dataclass(frozen=True)
class Municipalities:
    """The 565 municipalities (2025) with their codes, and a spatial index over them."""

    nis_codes: NDArray[np.str_]
    prov_codes: NDArray[np.str_]
    names: NDArray[np.str_]
    geometries: NDArray[np.object_]
    tree: shapely.STRtree

    def locate(
        self, lons: NDArray[np.float64], lats: NDArray[np.float64]
    ) -> tuple[list[str | None], list[str | None]]:
        """(nis_code, prov_code) of each point; None for points outside Belgium."""
        points = shapely.points(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
        point_idx, poly_idx = self.tree.query(points, predicate="intersects")
        nis: list[str | None] = [None] * len(points)
        prov: list[str | None] = [None] * len(points)
        # A point exactly on a shared border intersects two municipalities: keep the first.
        for p, m in zip(point_idx.tolist(), poly_idx.tolist(), strict=True):
            if nis[p] is None:
                nis[p] = str(self.nis_codes[m])
                prov[p] = str(self.prov_codes[m])
        return nis, prov


@cache
def municipalities() -> Municipalities:
    features = load_geojson("be_municipalities_2025.geojson")["features"]
    geometries = np.array([shapely.geometry.shape(f["geometry"]) for f in features], dtype=object)
    shapely.prepare(geometries)
    return Municipalities(
        nis_codes=np.array([f["properties"]["nis_code"] for f in features]),
        prov_codes=np.array([f["properties"]["prov_code"] for f in features]),
        names=np.array([f["properties"]["name_nl"] or f["properties"]["name_fr"] for f in features]),
        geometries=geometries,
        tree=shapely.STRtree(geometries),
    )


@cache
def country() -> shapely.Geometry:
    """Belgium's outline (WGS84)."""
    feature = load_geojson("be_country.geojson")["features"][0]
    geometry = shapely.geometry.shape(feature["geometry"])
    shapely.prepare(geometry)
    return geometry


@cache
def province_label_points() -> dict[str, tuple[float, float]]:
    """A point inside each province for its label, as (lat, lon)."""
    result = {}
    for feature in load_geojson("be_provinces.geojson")["features"]:
        point = shapely.geometry.shape(feature["geometry"]).point_on_surface()
        result[feature["properties"]["prov_code"]] = (point.y, point.x)
    return result
