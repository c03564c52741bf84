"""Where a report is (province, ward, grid cell, distance) and the report table on the engine."""

from __future__ import annotations

import pytest

from services.lifecycle import Lifecycle
from services.reports import geo
from services.reports.lifecycle import REPORT
from services.reports.table import OFFICIAL_ACTIONS, OPEN
from tests.report_helpers import HAI_CHAU, HANOI, HOA_VANG


def test_province_and_wards_from_the_approximate_shapes():
    assert geo.in_province(*HAI_CHAU) and geo.in_province(*HOA_VANG)
    assert geo.in_province(15.5700, 108.4800)  # Tam Kỳ, far south of Đà Nẵng: the outline holds it
    assert not geo.in_province(*HANOI) and not geo.in_province(16.4637, 107.5909)  # Huế
    assert not geo.in_province(16.05, 108.50)  # the sea east of the coast
    assert geo.ward_at(*HAI_CHAU) == "20242" and geo.ward_at(*HOA_VANG) == "20320"
    assert geo.ward_at(15.5700, 108.4800) is None  # inside the province, in no mapped ward


def test_a_box_is_one_cell_range_per_grid_row_and_holds_every_point_in_it():
    south, west, north, east = geo.around(*HAI_CHAU, 2500)
    ranges = geo.cell_ranges(south, west, north, east)
    assert 5 <= len(ranges) <= 7
    for lat in (south, (south + north) / 2, north):
        for lon in (west, (west + east) / 2, east):
            cell = geo.cell_of(lat, lon)
            assert any(low <= cell <= high for low, high in ranges)
    assert not any(low <= geo.cell_of(south - 0.02, west) <= high for low, high in ranges)


def test_haversine_distance():
    assert geo.distance_m(HAI_CHAU, HAI_CHAU) == 0
    assert geo.distance_m(HAI_CHAU, (HAI_CHAU[0] + 0.00045, HAI_CHAU[1])) == pytest.approx(50, abs=0.5)


def test_the_report_table_runs_on_the_lifecycle_engine():
    assert isinstance(REPORT, Lifecycle)
    assert set(OFFICIAL_ACTIONS) == {"accept", "transfer", "start", "resolve", "reject"}
    assert REPORT.allows("resolved", "reopen") and not REPORT.allows("rejected", "reopen")
    assert all(REPORT.allows(status, "reject") for status in OPEN)
    assert REPORT.allows("resolved", "rate") and not REPORT.allows("new", "rate")
