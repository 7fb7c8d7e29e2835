"""The shipped Belgian reference data (cop/data/be), loaded lazily and cached."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

ATTRIBUTION = (
    "Boundaries © FOD Financiën/SPF Finances (AGDP); codes © Statbel (CC BY 4.0); "
    "hospitals © Eurostat-GISCO / FOD Volksgezondheid; power plants © WRI (CC BY 4.0); "
    "airports: OurAirports (public domain)."
)


def data_path(name: str) -> Path:
    """Path of a shipped data file, e.g. `be_provinces.geojson`."""
    return Path(str(resources.files("cop") / "data" / "be" / name))


@cache
def load_geojson(name: str) -> dict[str, Any]:
    with data_path(name).open(encoding="utf-8") as handle:
        result: dict[str, Any] = json.load(handle)
    return result


@dataclass(frozen=True, slots=True)
class Province:
    """One of the 10 provinces or the Brussels-Capital Region (code 04000)."""

    code: str
    name_nl: str
    name_fr: str
    name_en: str


@cache
def provinces() -> dict[str, Province]:
    features = load_geojson("be_provinces.geojson")["features"]
    result = {}
    for feature in features:
        props = feature["properties"]
        code = props["prov_code"]
        result[code] = Province(code, props["name_nl"], props["name_fr"], props["name_en"])
    return dict(sorted(result.items()))


def province_name(code: str) -> str:
    province = provinces().get(code)
    return province.name_en if province else code
