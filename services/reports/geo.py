"""Where a report is: inside the province or not, which ward, its grid cell, and distances.

The spatial index is a plain integer column, `cell`: the 0.01° grid square (about 1.1 km) a point
falls in, numbered row by row (`row * ROW + column`). A bounding box is then one contiguous range of
`cell` per grid row it spans, which an ordinary B-tree index answers on SQLite and PostgreSQL alike,
with no PostGIS extension to install, upgrade or miss on a managed database; the exact box and the
50 m radius (haversine) are checked on the few rows those ranges return. A 5 km box spans about five
rows, so five index ranges.

The shapes (services/seed_data/report_areas.json) are APPROXIMATE: a coarse outline of the province
and a rectangle around each mapped ward's real position, not cadastral boundaries.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

AREAS_FILE = Path(__file__).resolve().parent.parent / "seed_data" / "report_areas.json"
STEP = 100  # cells per degree: 0.01°
ROW = 100_000  # a row's numbering span (360° × STEP columns fit)
EARTH_M = 6_371_008.8
Point = tuple[float, float]  # (lat, lon)


@dataclass(frozen=True)
class Ward:
    ward_code: str
    name: str
    polygon: tuple[Point, ...]
    box: tuple[float, float, float, float]  # south, west, north, east


def _box(points: tuple[Point, ...]) -> tuple[float, float, float, float]:
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    return min(lats), min(lons), max(lats), max(lons)


@dataclass(frozen=True)
class Areas:
    outline: tuple[Point, ...]
    wards: tuple[Ward, ...]


@cache
def areas(path: Path = AREAS_FILE) -> Areas:
    raw = json.loads(path.read_text(encoding="utf-8"))
    wards = []
    for w in raw["wards"]:
        polygon = tuple((float(a), float(b)) for a, b in w["polygon"])
        wards.append(Ward(w["ward_code"], w["name"], polygon, _box(polygon)))
    return Areas(tuple((float(a), float(b)) for a, b in raw["province"]["outline"]), tuple(wards))


def inside(point: Point, polygon: tuple[Point, ...]) -> bool:
    """Ray casting (even-odd) in lat/lon: fine at a province's scale, far from the poles."""
    lat, lon = point
    result = False
    j = len(polygon) - 1
    for i in range(len(polygon)):
        (lat_i, lon_i), (lat_j, lon_j) = polygon[i], polygon[j]
        if (lat_i > lat) != (lat_j > lat):
            crossing = lon_i + (lat - lat_i) * (lon_j - lon_i) / (lat_j - lat_i)
            if lon < crossing:
                result = not result
        j = i
    return result


def in_province(lat: float, lon: float) -> bool:
    a = areas()
    return inside((lat, lon), a.outline) or ward_at(lat, lon) is not None


def ward_at(lat: float, lon: float) -> str | None:
    for ward in areas().wards:
        south, west, north, east = ward.box
        if south <= lat <= north and west <= lon <= east and inside((lat, lon), ward.polygon):
            return ward.ward_code
    return None


def cell_of(lat: float, lon: float) -> int:
    return math.floor((lat + 90) * STEP) * ROW + math.floor((lon + 180) * STEP)


def cell_ranges(south: float, west: float, north: float, east: float) -> list[tuple[int, int]]:
    """The contiguous `cell` ranges (inclusive) covering a box: one per grid row."""
    first, last = cell_of(south, west), cell_of(north, east)
    columns = (first % ROW, last % ROW)
    return [(row * ROW + columns[0], row * ROW + columns[1]) for row in range(first // ROW, last // ROW + 1)]


def around(lat: float, lon: float, metres: float) -> tuple[float, float, float, float]:
    """A box that holds the circle of `metres` around a point."""
    dlat = math.degrees(metres / EARTH_M)
    dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
    return lat - dlat, lon - dlon, lat + dlat, lon + dlon


def distance_m(a: Point, b: Point) -> float:
    """Haversine distance in metres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_M * math.asin(math.sqrt(h))
