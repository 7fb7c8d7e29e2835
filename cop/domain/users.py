"""Users, roles and scopes: who may see and change what. Enforced on the server."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from cop.domain.rooms import GLOBAL_ROOM, NATIONAL_ROOM, STATUS_ROOM, province_room

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9_.@-]{1,63}$"


class Role(StrEnum):
    VIEWER = "viewer"  # the video wall: reads everything, changes nothing
    ANALYST = "analyst"  # reads everything, exports
    COORDINATOR = "coordinator"  # reads and writes within their provinces (all, if none given)
    HOSPITAL_MANAGER = "hospital_manager"  # updates their own hospitals; reads national capacity
    ADMIN = "admin"  # everything, including users and tokens


class User(BaseModel):
    """A person who logs in. `provinces` and `hospitals` are their write (and read) scope."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    username: str = Field(pattern=USERNAME_PATTERN)
    display_name: str = Field(default="", max_length=120)
    role: Role
    provinces: frozenset[str] = frozenset()
    hospitals: frozenset[str] = frozenset()
    disabled: bool = False
    created_at: AwareDatetime
    # Bumped on password change or logout-everywhere; sessions carrying an older one end.
    session_version: int = 1

    @model_validator(mode="after")
    def _scope_fits_role(self) -> User:
        if self.hospitals and self.role is not Role.HOSPITAL_MANAGER:
            raise ValueError("hospitals: only a hospital_manager is scoped to hospitals")
        if self.role is Role.HOSPITAL_MANAGER and not self.hospitals:
            raise ValueError("hospitals: a hospital_manager needs at least one hospital")
        if self.provinces and self.role is not Role.COORDINATOR:
            raise ValueError("provinces: only a coordinator is scoped to provinces")
        return self

    @property
    def national(self) -> bool:
        """True if this user reads every province."""
        return not (self.role is Role.COORDINATOR and self.provinces)

    def can_read_province(self, prov_code: str | None) -> bool:
        if self.national or prov_code is None:
            return True
        return prov_code in self.provinces

    def can_write_province(self, prov_code: str | None) -> bool:
        if self.role is Role.ADMIN:
            return True
        if self.role is not Role.COORDINATOR:
            return False
        return not self.provinces or (prov_code is not None and prov_code in self.provinces)

    def can_manage_hospital(self, hospital_id: str) -> bool:
        if self.role is Role.ADMIN:
            return True
        return self.role is Role.HOSPITAL_MANAGER and hospital_id in self.hospitals

    def rooms(self) -> list[str]:
        """The Socket.IO rooms this user's connections join: never more than the scope allows."""
        if self.national:
            return [STATUS_ROOM, NATIONAL_ROOM]
        return [STATUS_ROOM, GLOBAL_ROOM, *(province_room(p) for p in sorted(self.provinces))]

    def data_rooms(self) -> list[str]:
        return [room for room in self.rooms() if room != STATUS_ROOM]
