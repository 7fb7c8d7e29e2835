"""Imports every payload model so the envelope registry knows all stream kinds."""

from cop.domain import alerts, chem, hospitals, incidents, indicators, positions, zones  # noqa: F401  (register the kinds)
from cop.domain.envelope import PAYLOAD_MODELS

__all__ = ["PAYLOAD_MODELS"]
