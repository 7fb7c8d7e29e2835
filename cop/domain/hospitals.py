"""Hospital status as EDXL-HAVE 1.0 models it: the payload of stream kind `hospital`.

Bed types, capacity statuses and the other enumerations are spelled exactly as the schema
(`edxl-have.xsd`) spells them, so that import and export are lossless.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cop.domain.envelope import Payload, register_payload


class BedType(StrEnum):
    ADULT_ICU = "AdultICU"
    PEDIATRIC_ICU = "PediatricICU"
    NEONATAL_ICU = "NeonatalICU"
    EMERGENCY_DEPARTMENT = "EmergencyDepartment"
    NURSERY_BEDS = "NurseryBeds"
    MEDICAL_SURGICAL = "MedicalSurgical"
    REHAB_LONG_TERM_CARE = "RehabLongTermCare"
    BURN = "Burn"
    PEDIATRICS = "Pediatrics"
    ADULT_PSYCHIATRIC = "AdultPsychiatric"
    PEDIATRIC_PSYCHIATRIC = "PediatricPsychiatric"
    NEGATIVE_FLOW_ISOLATION = "NegativeFlowIsolation"
    OTHER_ISOLATION = "OtherIsolation"
    OPERATING_ROOMS = "OperatingRooms"


BED_TYPE_LABELS: dict[str, str] = {
    "AdultICU": "ICU adult",
    "PediatricICU": "ICU paediatric",
    "NeonatalICU": "ICU neonatal",
    "EmergencyDepartment": "Emergency dept.",
    "NurseryBeds": "Nursery",
    "MedicalSurgical": "Medical/surgical",
    "RehabLongTermCare": "Rehab/long term",
    "Burn": "Burns",
    "Pediatrics": "Paediatrics",
    "AdultPsychiatric": "Psychiatric adult",
    "PediatricPsychiatric": "Psychiatric paediatric",
    "NegativeFlowIsolation": "Isolation (negative pressure)",
    "OtherIsolation": "Isolation (other)",
    "OperatingRooms": "Operating rooms",
}


class CapacityStatus(StrEnum):
    VACANT_AVAILABLE = "Vacant/Available"
    NOT_AVAILABLE = "NotAvailable"


class EMSTrafficStatus(StrEnum):
    NORMAL = "Normal"
    ADVISORY = "Advisory"
    CLOSED = "Closed"
    NOT_APPLICABLE = "NotApplicable"


class ClinicalStatus(StrEnum):
    NORMAL = "Normal"
    FULL = "Full"


class FacilityStatus(StrEnum):
    NORMAL = "Normal"
    COMPROMISED = "Compromised"
    EVACUATING = "Evacuating"
    CLOSED = "Closed"


class DeconCapacityStatus(StrEnum):
    INACTIVE = "Inactive"
    OPEN = "Open"
    FULL = "Full"
    EXCEEDED = "Exceeded"


class Adequacy(StrEnum):
    ADEQUATE = "Adequate"
    INSUFFICIENT = "Insufficient"


class BedCapacity(BaseModel):
    """One bed type's capacity (HAVE `BedCapacity`/`Capacity`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bed_type: BedType
    status: CapacityStatus = CapacityStatus.VACANT_AVAILABLE
    available: int | None = Field(default=None, ge=0, le=100_000)
    baseline: int = Field(ge=0, le=100_000)
    additional_24h: int = Field(default=0, ge=0, le=100_000)
    additional_72h: int = Field(default=0, ge=0, le=100_000)

    @model_validator(mode="after")
    def _available_fits(self) -> BedCapacity:
        if self.available is not None and self.available > self.baseline + self.additional_24h:
            raise ValueError(
                f"available ({self.available}) exceeds baseline + additional 24 h "
                f"({self.baseline} + {self.additional_24h})"
            )
        return self


@register_payload
class HospitalPayload(Payload):
    """A hospital's status. The envelope's `observed_at` is HAVE's `LastUpdateTime`."""

    kind: ClassVar[str] = "hospital"

    name: str = Field(min_length=1, max_length=200)
    site_name: str = Field(default="", max_length=200)
    city: str = Field(default="", max_length=100)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    nis_code: str | None = Field(default=None, pattern=r"^\d{5}$")
    ems_traffic: EMSTrafficStatus = EMSTrafficStatus.NORMAL
    ems_traffic_reason: str = Field(default="", max_length=500)
    beds: tuple[BedCapacity, ...] = ()
    clinical_status: ClinicalStatus = ClinicalStatus.NORMAL
    facility_status: FacilityStatus = FacilityStatus.NORMAL
    decon_status: DeconCapacityStatus | None = None
    staffing: Adequacy | None = None
    facility_operations: Adequacy | None = None
    clinical_operations: Adequacy | None = None
    comments: tuple[str, ...] = ()
    updated_by: str = Field(default="", max_length=120)

    @field_validator("beds")
    @classmethod
    def _one_entry_per_bed_type(cls, beds: tuple[BedCapacity, ...]) -> tuple[BedCapacity, ...]:
        seen: set[str] = set()
        for bed in beds:
            if bed.bed_type in seen:
                raise ValueError(f"bed type {bed.bed_type.value} appears twice")
            seen.add(bed.bed_type)
        return beds

    def bed(self, bed_type: BedType | str) -> BedCapacity | None:
        return next((b for b in self.beds if b.bed_type == bed_type), None)


def changed_fields(before: HospitalPayload | None, after: HospitalPayload) -> dict[str, object]:
    """What an update changed, for the audit stream (bed counts per type, statuses)."""
    if before is None:
        return {"created": True}
    changes: dict[str, object] = {}
    for field in ("ems_traffic", "clinical_status", "facility_status", "decon_status", "staffing"):
        old, new = getattr(before, field), getattr(after, field)
        if old != new:
            changes[field] = [str(old) if old else None, str(new) if new else None]
    for bed in after.beds:
        previous = before.bed(bed.bed_type)
        if previous is None or previous.model_dump() != bed.model_dump():
            changes[f"beds.{bed.bed_type.value}"] = {
                "available": [previous.available if previous else None, bed.available],
                "baseline": [previous.baseline if previous else None, bed.baseline],
            }
    return changes
