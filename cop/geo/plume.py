"""Gaussian plume dispersion: concentrations, threat zones and the release rate from readings.

Pure numpy, metres in Belgian Lambert 2008 (EPSG:3812); results in WGS84 GeoJSON. The formulas,
stability table and Briggs (1973) coefficients are those of reference/DOMAIN.md §3.

Conventions
- Plume frame: x downwind from the source, y crosswind, z above ground, metres.
- Wind direction is where the wind comes *from*, degrees clockwise from true north.
- Split stability classes (A–B, B–C, C–D in the Pasquill–Gifford table) resolve to the more
  stable of the two ("stable", the default: longer, narrower ground-level zones downwind, the
  cautious choice for evacuation distances) or, on request, to the average of both classes' σ
  ("average").
- σy is scaled for the averaging time by the power law σy(t) = σy(10 min)·(t / 10 min)^0.2
  (Turner); Briggs σ are 10-minute values, so the default of 10 min uses them unchanged.
- Briggs σ are valid from 100 m to 10 km: concentrations outside that range are not computed,
  threat zones are clipped to it and say so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from cop.geo.crs import grid_convergence_deg, to_lambert, to_wgs84

FloatArray = NDArray[np.float64]
Terrain = Literal["rural", "urban"]
SplitRule = Literal["stable", "average"]
CLASSES = "ABCDEF"
X_MIN_M = 100.0  # Briggs validity range
X_MAX_M = 10_000.0
LOW_WIND_MS = 1.3  # below this the model is unreliable
AIR_MW = 28.97

# σ = a·x·(1 + b·x)^p, per terrain, class and axis.
BRIGGS: dict[Terrain, dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]]] = {
    "rural": {
        "A": ((0.22, 0.0001, -0.5), (0.20, 0.0, 1.0)),
        "B": ((0.16, 0.0001, -0.5), (0.12, 0.0, 1.0)),
        "C": ((0.11, 0.0001, -0.5), (0.08, 0.0002, -0.5)),
        "D": ((0.08, 0.0001, -0.5), (0.06, 0.0015, -0.5)),
        "E": ((0.06, 0.0001, -0.5), (0.03, 0.0003, -1.0)),
        "F": ((0.04, 0.0001, -0.5), (0.016, 0.0003, -1.0)),
    },
    "urban": {
        "A": ((0.32, 0.0004, -0.5), (0.24, 0.001, 0.5)),
        "B": ((0.32, 0.0004, -0.5), (0.24, 0.001, 0.5)),
        "C": ((0.22, 0.0004, -0.5), (0.20, 0.0, 1.0)),
        "D": ((0.16, 0.0004, -0.5), (0.14, 0.0003, -0.5)),
        "E": ((0.11, 0.0004, -0.5), (0.08, 0.0015, -0.5)),
        "F": ((0.11, 0.0004, -0.5), (0.08, 0.0015, -0.5)),
    },
}

# Pasquill–Gifford classes by 10 m wind speed (upper bound of the bin, m/s) and sky.
SKY_COLUMNS = ("strong_sun", "moderate_sun", "slight_sun", "night_cloudy", "night_clear")
PG_TABLE: tuple[tuple[float, tuple[str, ...]], ...] = (
    (2.0, ("A", "A-B", "B", "E", "F")),
    (3.0, ("A-B", "B", "C", "E", "F")),
    (5.0, ("B", "B-C", "C", "D", "E")),
    (6.0, ("C", "C-D", "D", "D", "D")),
    (math.inf, ("C", "D", "D", "D", "D")),
)


def stability_class(wind_speed_ms: float, sky: str, split: SplitRule = "stable") -> str:
    """The Pasquill–Gifford class from wind and sky: "overcast" (day or night, and the hour
    around sunrise or sunset) is D; otherwise the table. A split class resolves by `split`:
    "stable" gives one letter, "average" keeps "A-B" (σ averaged by `sigmas`)."""
    if wind_speed_ms < 0 or not math.isfinite(wind_speed_ms):
        raise ValueError("wind_speed_ms: must be a non-negative number")
    if sky == "overcast":
        return "D"
    if sky not in SKY_COLUMNS:
        raise ValueError(f"sky: unknown {sky!r} (known: overcast, {', '.join(SKY_COLUMNS)})")
    column = SKY_COLUMNS.index(sky)
    for upper, row in PG_TABLE:
        # Bins are "< 2", "2–3", "3–5", "5–6", "> 6": a speed on a bound belongs to the higher bin,
        # except 6 m/s, which is still "5–6".
        if wind_speed_ms < upper or (upper == 6.0 and wind_speed_ms == 6.0):
            cls = row[column]
            break
    if "-" in cls and split == "stable":
        return cls.split("-")[1]
    return cls


def _briggs(x: FloatArray, coefficients: tuple[float, float, float]) -> FloatArray:
    a, b, p = coefficients
    return a * x * (1.0 + b * x) ** p


def sigmas(
    x: ArrayLike, stability: str, terrain: Terrain = "rural", averaging_min: float = 10.0
) -> tuple[FloatArray, FloatArray]:
    """Briggs σy, σz (m) at downwind distances x (m). "A-B" averages the two classes' σ."""
    xs = np.asarray(x, dtype=float)
    classes = stability.split("-")
    if not all(c in CLASSES and c for c in classes) or len(classes) > 2:
        raise ValueError(f"stability: unknown class {stability!r} (A–F, or a split such as A-B)")
    if terrain not in BRIGGS:
        raise ValueError(f"terrain: unknown {terrain!r} (rural or urban)")
    sy = np.mean([_briggs(xs, BRIGGS[terrain][c][0]) for c in classes], axis=0)
    sz = np.mean([_briggs(xs, BRIGGS[terrain][c][1]) for c in classes], axis=0)
    if averaging_min != 10.0:
        sy = sy * (averaging_min / 10.0) ** 0.2
    return sy, sz


def concentration(
    x: ArrayLike,
    y: ArrayLike,
    z: ArrayLike,
    *,
    rate_g_s: float,
    wind_speed_ms: float,
    height_m: float,
    stability: str,
    terrain: Terrain = "rural",
    averaging_min: float = 10.0,
) -> FloatArray:
    """Concentration (g/m³) at plume-frame points, with ground reflection. Zero upwind (x ≤ 0);
    computed for any x > 0, but only 100 m – 10 km is within the coefficients' validity."""
    xs, ys, zs = np.broadcast_arrays(
        np.asarray(x, dtype=float), np.asarray(y, dtype=float), np.asarray(z, dtype=float)
    )
    result = np.zeros(xs.shape, dtype=float)
    ahead = xs > 0
    if not ahead.any():
        return result
    xa, ya, za = xs[ahead], ys[ahead], zs[ahead]
    sy, sz = sigmas(xa, stability, terrain, averaging_min)
    vertical = np.exp(-((za - height_m) ** 2) / (2 * sz**2)) + np.exp(-((za + height_m) ** 2) / (2 * sz**2))
    result[ahead] = (
        rate_g_s / (2 * math.pi * wind_speed_ms * sy * sz) * np.exp(-(ya**2) / (2 * sy**2)) * vertical
    )
    return result


# -- geography of a release ------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """The plume frame of one release and wind, in Belgian Lambert 2008."""

    source_e: float
    source_n: float
    downwind: tuple[float, float]  # unit vector (dE, dN)
    crosswind: tuple[float, float]  # unit vector, to the right of downwind

    @classmethod
    def at(cls, lon: float, lat: float, wind_from_deg: float) -> Frame:
        e, n = to_lambert(lon, lat)
        grid_bearing = math.radians((wind_from_deg + 180.0 + grid_convergence_deg(lon, lat)) % 360.0)
        down = (math.sin(grid_bearing), math.cos(grid_bearing))
        return cls(float(e), float(n), down, (down[1], -down[0]))

    def to_plume(self, e: ArrayLike, n: ArrayLike) -> tuple[FloatArray, FloatArray]:
        de = np.asarray(e, dtype=float) - self.source_e
        dn = np.asarray(n, dtype=float) - self.source_n
        x = de * self.downwind[0] + dn * self.downwind[1]
        y = de * self.crosswind[0] + dn * self.crosswind[1]
        return x, y

    def to_lambert(self, x: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray]:
        xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        e = self.source_e + xs * self.downwind[0] + ys * self.crosswind[0]
        n = self.source_n + xs * self.downwind[1] + ys * self.crosswind[1]
        return e, n


@dataclass(frozen=True)
class Scenario:
    """Everything the model needs about one release, in SI units."""

    lon: float
    lat: float
    rate_g_s: float
    height_m: float
    wind_speed_ms: float
    wind_from_deg: float
    stability: str
    terrain: Terrain = "rural"
    averaging_min: float = 10.0
    receptor_height_m: float = 0.0

    @property
    def frame(self) -> Frame:
        return Frame.at(self.lon, self.lat, self.wind_from_deg)

    def centreline(self, x: FloatArray, rate_g_s: float | None = None) -> tuple[FloatArray, FloatArray]:
        """(concentration on the plume axis at receptor height, σy) at distances x."""
        sy, _ = sigmas(x, self.stability, self.terrain, self.averaging_min)
        c = concentration(
            x,
            0.0,
            self.receptor_height_m,
            rate_g_s=self.rate_g_s if rate_g_s is None else rate_g_s,
            wind_speed_ms=self.wind_speed_ms,
            height_m=self.height_m,
            stability=self.stability,
            terrain=self.terrain,
            averaging_min=self.averaging_min,
        )
        return c, sy


@dataclass(frozen=True)
class ThreatZone:
    level: int  # 3 red, 2 orange, 1 yellow
    threshold_g_m3: float
    polygon: shapely.Geometry  # plume frame, metres
    max_distance_m: float
    max_half_width_m: float
    truncated: bool  # the zone reaches the edge of the domain or of the model's validity


def threat_polygons(
    scenario: Scenario,
    thresholds_g_m3: dict[int, float],
    *,
    extent_m: float = X_MAX_M,
    resolution_m: float = 10.0,
) -> list[ThreatZone]:
    """Threat zones as polygons in the plume frame: where the concentration at receptor height
    reaches each threshold, between 100 m and `extent_m` (≤ 10 km) downwind and within
    ±extent_m/2 crosswind, sampled every `resolution_m` along the wind.

    Across the wind the concentration falls as exp(−y²/2σy²), so at each distance the zone is
    the interval |y| ≤ σy·√(2·ln(C(x,0)/threshold)): the contour is exact across the wind and
    sampled along it.
    """
    if resolution_m <= 0:
        raise ValueError("resolution_m: must be positive")
    x_max = min(extent_m, X_MAX_M)
    x = np.arange(X_MIN_M, x_max + resolution_m / 2, resolution_m)
    centre, sy = scenario.centreline(x)
    half_domain = extent_m / 2.0
    zones = []
    for level, threshold in sorted(thresholds_g_m3.items()):
        if threshold <= 0:
            raise ValueError(f"thresholds_g_m3[{level}]: must be positive")
        inside = centre >= threshold
        if not inside.any():
            continue
        half = np.zeros_like(x)
        half[inside] = sy[inside] * np.sqrt(2.0 * np.log(centre[inside] / threshold))
        clipped = half > half_domain
        half = np.minimum(half, half_domain)
        polygons = []
        for start, stop in _runs(inside):
            xs, hs = x[start:stop], half[start:stop]
            ring = np.concatenate([np.column_stack([xs, hs]), np.column_stack([xs[::-1], -hs[::-1]])])
            if len(ring) >= 3:
                polygons.append(shapely.Polygon(ring).buffer(0))
        shape = shapely.unary_union(polygons) if len(polygons) > 1 else polygons[0]
        shape = shapely.simplify(shape, resolution_m / 4.0)
        zones.append(
            ThreatZone(
                level=level,
                threshold_g_m3=threshold,
                polygon=shape,
                max_distance_m=float(x[inside].max()),
                max_half_width_m=float(half.max()),
                truncated=bool(inside[-1] or clipped.any()),
            )
        )
    return zones


def _runs(mask: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(start, stop) of each run of True values."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def zones_geojson(
    scenario: Scenario, zones: Sequence[ThreatZone], properties: dict[int, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Threat zones as a WGS84 GeoJSON FeatureCollection, lowest level first (drawn underneath)."""
    frame = scenario.frame
    features = []
    for zone in sorted(zones, key=lambda z: z.level):

        def to_lonlat(xy: FloatArray) -> FloatArray:
            e, n = frame.to_lambert(xy[:, 0], xy[:, 1])
            lon, lat = to_wgs84(e, n)
            return np.column_stack([np.round(lon, 6), np.round(lat, 6)])

        geometry = shapely.transform(zone.polygon, to_lonlat)
        features.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(geometry),
                "properties": {
                    "level": zone.level,
                    "threshold_g_m3": zone.threshold_g_m3,
                    "max_distance_m": round(zone.max_distance_m),
                    "max_half_width_m": round(zone.max_half_width_m),
                    "area_km2": round(zone.polygon.area / 1e6, 3),
                    "truncated": zone.truncated,
                    **((properties or {}).get(zone.level, {})),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def warnings_for(scenario: Scenario, molar_mass: float | None, zones: Sequence[ThreatZone]) -> list[str]:
    """What a user must know before trusting the drawing."""
    notes = [
        "Flat terrain, no reactions, steady wind; patchier than drawn near the source.",
        f"Not modelled within {X_MIN_M:.0f} m of the source (outside the coefficients' validity).",
    ]
    if scenario.wind_speed_ms < LOW_WIND_MS:
        notes.append(f"Wind below {LOW_WIND_MS} m/s: the model is unreliable.")
    if molar_mass is not None and molar_mass > AIR_MW * 1.1:
        notes.append("Denser than air: near the source the gas slumps and spreads wider than drawn.")
    if any(z.truncated for z in zones):
        notes.append("A zone reaches the edge of the modelled area (10 km): it extends further.")
    return notes


# -- the release rate from readings -----------------------------------------------------------------


@dataclass(frozen=True)
class RateEstimate:
    rate_g_s: float | None
    used: int
    outside: int  # readings upwind, nearer than 100 m or beyond 10 km: not used
    r2: float | None
    relative_rmse: float | None
    residuals: FloatArray = field(repr=False, default_factory=lambda: np.zeros(0))


def estimate_rate(
    scenario: Scenario,
    lon: ArrayLike,
    lat: ArrayLike,
    height_agl_m: ArrayLike,
    observed_g_m3: ArrayLike,
) -> RateEstimate:
    """Least-squares release rate: the concentration is linear in Q, so with m_i the modelled
    concentration of a 1 g/s release at reading i and c_i the reading, Q = Σ m_i c_i / Σ m_i².

    Goodness of fit: R² of the readings against Q·m_i, and the RMSE relative to the mean
    reading. Readings outside the model's validity (upwind, < 100 m, > 10 km) are not used.
    """
    e, n = to_lambert(lon, lat)
    x, y = scenario.frame.to_plume(e, n)
    z = np.broadcast_to(np.asarray(height_agl_m, dtype=float), x.shape)
    c = np.asarray(observed_g_m3, dtype=float)
    valid = (x >= X_MIN_M) & (x <= X_MAX_M) & np.isfinite(c)
    used = int(valid.sum())
    outside = int(len(x) - used)
    if used == 0:
        return RateEstimate(None, 0, outside, None, None)
    unit = concentration(
        x[valid],
        y[valid],
        z[valid],
        rate_g_s=1.0,
        wind_speed_ms=scenario.wind_speed_ms,
        height_m=scenario.height_m,
        stability=scenario.stability,
        terrain=scenario.terrain,
        averaging_min=scenario.averaging_min,
    )
    observed = c[valid]
    denominator = float(np.dot(unit, unit))
    if denominator <= 0.0:
        return RateEstimate(None, used, outside, None, None)
    rate = float(np.dot(unit, observed) / denominator)
    residuals = observed - rate * unit
    ss_res = float(np.dot(residuals, residuals))
    ss_tot = float(np.sum((observed - observed.mean()) ** 2))
    mean = float(observed.mean())
    return RateEstimate(
        rate_g_s=rate if rate > 0 else None,
        used=used,
        outside=outside,
        r2=1.0 - ss_res / ss_tot if ss_tot > 0 else None,
        relative_rmse=math.sqrt(ss_res / used) / mean if mean > 0 else None,
        residuals=residuals,
    )
