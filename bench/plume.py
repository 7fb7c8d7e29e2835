"""The plume model on this machine: threat zones on a 10 km × 10 km domain at 10 m resolution,
and the release-rate estimate from 1,000 readings. Target: ≤ 1 s each.

python bench/plume.py [--runs 30]

Three figures for the zones: the threat-zone polygons as the product computes them (the
contour is exact across the wind and sampled every 10 m along it), the same plus conversion to
WGS84 GeoJSON (what is stored and sent), and, for comparison, the concentration evaluated on
every cell of the 1,000 × 1,000 grid.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cop.domain.chem import find_substance  # noqa: E402
from cop.geo.crs import to_wgs84  # noqa: E402
from cop.geo.plume import Scenario, concentration, estimate_rate, threat_polygons, zones_geojson  # noqa: E402

EXTENT_M = 10_000.0
RESOLUTION_M = 10.0


def timed(runs: int, work: Callable[[], object]) -> tuple[list[float], object]:
    work()  # warm caches (projection, imports)
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        times.append((time.perf_counter() - start) * 1000)
    return times, result


def report(name: str, times: list[float]) -> None:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(f"{name:<58} median {statistics.median(times):8.1f} ms   p95 {p95:8.1f} ms   (n={len(times)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    print(
        f"# machine: {platform.machine()} {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )
    chlorine = find_substance("chlorine")
    assert chlorine is not None
    thresholds = {level: chlorine.ppm_to_g_m3(ppm) for level, ppm in chlorine.aegl.items() if ppm is not None}
    # A large chlorine release in stable air: every zone long, the yellow one reaching the 10 km edge.
    scenario = Scenario(
        lon=5.08,
        lat=51.065,
        rate_g_s=2000.0,
        height_m=2.0,
        wind_speed_ms=2.0,
        wind_from_deg=240.0,
        stability="E",
    )

    times, zones = timed(
        args.runs, lambda: threat_polygons(scenario, thresholds, extent_m=EXTENT_M, resolution_m=RESOLUTION_M)
    )
    report("three threat-zone polygons, 10 km x 10 km at 10 m", times)
    for zone in zones:  # type: ignore[union-attr]
        print(
            f"    AEGL-{zone.level}: {zone.max_distance_m / 1000:.2f} km downwind, "
            f"{zone.polygon.area / 1e6:.2f} km², {len(zone.polygon.exterior.coords)} vertices"
            f"{', truncated at the edge' if zone.truncated else ''}"
        )
    times, _ = timed(
        args.runs,
        lambda: zones_geojson(
            scenario, threat_polygons(scenario, thresholds, extent_m=EXTENT_M, resolution_m=RESOLUTION_M)
        ),
    )
    report("  ... and as WGS84 GeoJSON", times)

    x, y = np.meshgrid(
        np.arange(0, EXTENT_M, RESOLUTION_M) + RESOLUTION_M / 2, np.arange(-5000, 5000, RESOLUTION_M)
    )
    grid = lambda: concentration(  # noqa: E731
        x, y, 0.0, rate_g_s=2000.0, wind_speed_ms=2.0, height_m=2.0, stability="E"
    )
    times, _field = timed(max(5, args.runs // 3), grid)
    report(f"for comparison: concentration on all {x.size:,} grid cells", times)

    # 1,000 readings: a drone's crosswind sweeps 0.3 – 5 km downwind at 30 m, 10 % noise.
    rng = np.random.default_rng(7)
    frame = scenario.frame
    xs = rng.uniform(300, 5000, 1000)
    ys = rng.uniform(-800, 800, 1000)
    lon, lat = to_wgs84(*frame.to_lambert(xs, ys))
    true = concentration(xs, ys, 30.0, rate_g_s=2000.0, wind_speed_ms=2.0, height_m=2.0, stability="E")
    observed = true * (1 + 0.10 * rng.standard_normal(1000))
    times, estimate = timed(args.runs, lambda: estimate_rate(scenario, lon, lat, 30.0, observed))
    report("release rate from 1,000 readings (least squares)", times)
    print(
        f"    estimate {estimate.rate_g_s:.0f} g/s for a true 2000 g/s "  # type: ignore[union-attr]
        f"({(estimate.rate_g_s / 2000 - 1) * 100:+.1f} %), R² {estimate.r2:.3f}, "  # type: ignore[union-attr]
        f"{estimate.used} used, {estimate.outside} outside"  # type: ignore[union-attr]
    )


if __name__ == "__main__":
    main()
