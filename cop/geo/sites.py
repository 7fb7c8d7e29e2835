"""Loading the shipped critical sites and emergency hospitals (WGS84)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache

from cop.domain.sites import Site
from cop.geo.reference import data_path, load_geojson


@cache
def critical_sites() -> tuple[Site, ...]:
    with data_path("be_critical_sites.csv").open(encoding="utf-8") as handle:
        return tuple(
            Site(
                site_id=row["site_id"],
                category=row["category"],
                name=row["name"],
                detail=row["detail"],
                lat=float(row["lat"]),
                lon=float(row["lon"]),
                approximate=row["coord_quality"] != "good",
            )
            for row in csv.DictReader(handle)
        )


@dataclass(frozen=True, slots=True)
class HospitalSite:
    """An emergency hospital site of the shipped data (FPS Public Health, 2020)."""

    site_id: str
    name: str
    site_name: str
    city: str
    beds: int
    prov_code: str
    nis_code: str
    lat: float
    lon: float


@cache
def emergency_hospitals() -> tuple[HospitalSite, ...]:
    features = load_geojson("be_hospitals_emergency_2020.geojson")["features"]
    return tuple(
        HospitalSite(
            site_id=f["properties"]["site_id"],
            name=f["properties"]["hospital_name"],
            site_name=f["properties"]["site_name"],
            city=f["properties"]["city"],
            beds=int(f["properties"]["beds"]),
            prov_code=f["properties"]["prov_code"],
            nis_code=f["properties"]["nis_code"],
            lat=f["geometry"]["coordinates"][1],
            lon=f["geometry"]["coordinates"][0],
        )
        for f in features
    )
