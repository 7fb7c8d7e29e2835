"""What every benchmark prints: the machine it ran on, and medians and 95th percentiles."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence

import psutil


def machine() -> str:
    return (
        f"{platform.machine()} {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}"
    )


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile (nearest rank) of `values`; NaN when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
