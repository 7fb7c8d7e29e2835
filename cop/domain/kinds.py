"""Imports every payload model so the envelope registry knows all stream kinds."""

from cop.domain import hospitals, positions  # noqa: F401  (register `hospital`, `position`)
from cop.domain.envelope import PAYLOAD_MODELS

__all__ = ["PAYLOAD_MODELS"]
