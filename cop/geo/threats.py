"""A plume model run: from a coordinator's request (and readings) to a stored `plume` payload."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
import shapely.geometry

from cop.domain.chem import Fit, PlumePayload, PlumeRequest, find_substance
from cop.domain.errors import FieldProblem, InvalidInput
from cop.geo.boundaries import municipalities
from cop.geo.plume import (
    Scenario,
    estimate_rate,
    stability_class,
    threat_polygons,
    warnings_for,
    zones_geojson,
)
from cop.geo.zones import provinces_touched

LEVELS = {
    3: {"name": "AEGL-3", "zone_type": "red", "colour": "#e5484d", "meaning": "life-threatening"},
    2: {"name": "AEGL-2", "zone_type": "orange", "colour": "#f76b15", "meaning": "disabling"},
    1: {"name": "AEGL-1", "zone_type": "yellow", "colour": "#ffd60a", "meaning": "discomfort"},
}


@dataclass(frozen=True, slots=True)
class Sample:
    """A reading as the rate estimate needs it."""

    lon: float
    lat: float
    height_agl_m: float
    ppm: float


def run_plume(request: PlumeRequest, samples: Sequence[Sample], *, author: str | None = None) -> PlumePayload:
    """Compute the threat zones of a release; estimate its rate from `samples` if asked.

    Raises InvalidInput naming the field when the request cannot be modelled.
    """
    substance = find_substance(request.release.substance)
    assert substance is not None  # Release validates it
    weather = request.weather
    stability = weather.stability or stability_class(weather.wind_speed_ms, weather.sky or "overcast")
    scenario = Scenario(
        lon=request.release.lon,
        lat=request.release.lat,
        rate_g_s=request.release.rate_g_s or 1.0,
        height_m=request.release.height_m,
        wind_speed_ms=weather.wind_speed_ms,
        wind_from_deg=weather.wind_from_deg,
        stability=stability,
        terrain=weather.terrain,
        averaging_min=request.averaging_min,
        receptor_height_m=request.receptor_height_m,
    )
    rate = request.release.rate_g_s
    fit = None
    if request.estimate_from_readings:
        estimate = estimate_rate(
            scenario,
            np.array([s.lon for s in samples]),
            np.array([s.lat for s in samples]),
            np.array([s.height_agl_m for s in samples]),
            np.array([substance.ppm_to_g_m3(s.ppm) for s in samples]),
        )
        if estimate.rate_g_s is None:
            if rate is None:
                raise InvalidInput(
                    [
                        FieldProblem(
                            "estimate_from_readings",
                            f"no usable {substance.name.lower()} readings 100 m – 10 km downwind in the last "
                            f"{request.readings_window_min:g} min ({estimate.outside} outside); enter a rate",
                        )
                    ]
                )
        else:
            rate = estimate.rate_g_s
            fit = Fit(
                readings_used=estimate.used,
                readings_outside=estimate.outside,
                r2=None if estimate.r2 is None else round(estimate.r2, 3),
                relative_rmse=None if estimate.relative_rmse is None else round(estimate.relative_rmse, 3),
            )
    assert rate is not None
    scenario = dataclasses.replace(scenario, rate_g_s=rate)
    thresholds = {
        level: substance.ppm_to_g_m3(ppm) for level, ppm in substance.aegl.items() if ppm is not None
    }
    zones = threat_polygons(scenario, thresholds)
    properties = {
        level: {**LEVELS[level], "threshold_ppm": substance.aegl[level], "substance": substance.name}
        for level in thresholds
    }
    collection = zones_geojson(scenario, zones, properties)
    warnings = warnings_for(scenario, substance.mw, zones)
    if substance.verify:
        warnings.append(
            f"{substance.name}: some toxic levels have a single source ({', '.join(substance.verify)})."
        )
    _, prov = municipalities().locate(np.array([scenario.lon]), np.array([scenario.lat]))
    provinces = set(filter(None, prov))
    for feature in collection["features"]:
        provinces.update(provinces_touched(shapely.geometry.shape(feature["geometry"])))
    return PlumePayload(
        incident_id=request.incident_id,
        release=request.release.model_copy(update={"rate_g_s": round(rate, 3)}),
        weather=weather,
        stability=stability,  # type: ignore[arg-type]
        rate_g_s=round(rate, 3),
        rate_source="estimated" if fit is not None else "entered",
        fit=fit,
        averaging_min=request.averaging_min,
        receptor_height_m=request.receptor_height_m,
        zones=collection,
        warnings=warnings,
        prov_code=prov[0],
        prov_codes=sorted(provinces),
        author=author,
    )
