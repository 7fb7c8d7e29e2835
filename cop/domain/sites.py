"""Critical sites and the nuclear emergency-planning zones around them (DOMAIN.md section 2)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PlanningZones:
    """Radii in km of the pre-planned zones around a nuclear site (FANC, RD 1 March 2018 / 2024)."""

    sheltering_km: float
    iodine_km: float
    evacuation_km: float | None


# Keyed by the site ids of be_critical_sites.csv. Mol and Dessel share the Mol-Dessel zone.
NUCLEAR_PLANNING_ZONES: dict[str, PlanningZones] = {
    "NPP-DOEL": PlanningZones(20, 20, 10),
    "NPP-TIHANGE": PlanningZones(20, 20, 10),
    "NUC-MOL-SCKCEN": PlanningZones(20, 20, 4),
    "NUC-DESSEL": PlanningZones(20, 20, 4),
    "NUC-FLEURUS-IRE": PlanningZones(10, 10, None),
    "NPP-CHOOZ-FR": PlanningZones(20, 20, 10),
    "NPP-BORSSELE-NL": PlanningZones(20, 20, 10),
}


@dataclass(frozen=True, slots=True)
class Site:
    site_id: str
    category: str  # airport, nuclear, nuclear_foreign, seaport, inland_port
    name: str
    detail: str
    lat: float
    lon: float
    approximate: bool

    @property
    def zones(self) -> PlanningZones | None:
        return NUCLEAR_PLANNING_ZONES.get(self.site_id)
