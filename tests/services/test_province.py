"""Issue 12's rules below the API: fees as the law computes them, half-day deadlines in office hours, the
2026 day swaps, CCCD agreement inside forms, and a catalog file that loads whole or not at all."""

from __future__ import annotations

import json
from datetime import date, datetime, time

import pytest
from sqlalchemy import func, select

from services.calendar import TZ, WorkingCalendar, parse_hours
from services.dossiers.rules import form_errors
from services.errors import ValidationFailed
from services.models import Agency
from services.province import catalog_file, fees
from services.province.seed import seed_catalog
from services.settings import ConfigError, Settings

cal = WorkingCalendar()
PER_PAGE = {"kind": "per_page", "first_pages": 2, "first_vnd": 2_000, "then_vnd": 1_000, "cap_vnd": 200_000}


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=TZ)


@pytest.mark.parametrize("fee, form, expected", [
    ({"kind": "flat", "amount_vnd": 200_000}, {}, 200_000),
    ({"kind": "per_copy", "amount_vnd": 8_000}, {"copies": 3}, 24_000),
    (PER_PAGE, {"pages": 1}, 2_000),
    (PER_PAGE, {"pages": 2}, 4_000),
    (PER_PAGE, {"pages": 5}, 7_000),
    (PER_PAGE, {"pages": 500}, 200_000),  # capped per copy
    (PER_PAGE, {"pages": 500, "copies": 2}, 400_000),
])
def test_fees_as_the_law_computes_them(fee, form, expected):
    assert fees.amount(fee, form) == expected


@pytest.mark.parametrize("form", [{"copies": 0}, {"copies": -2}, {"copies": True}, {"copies": "3"}, {}])
def test_a_quantity_below_one_is_refused(form):
    with pytest.raises(ValidationFailed) as refused:
        fees.amount({"kind": "per_copy", "amount_vnd": 8_000}, form)
    assert list(refused.value.errors or {}) == ["form.copies"]
    assert fees.quote({"kind": "per_copy", "amount_vnd": 8_000}, form, base_vnd=8_000) == 8_000


def test_half_a_day_is_four_office_hours_from_receipt():
    assert cal.due_at(local(2026, 12, 7, 10, 0), 0.5) == local(2026, 12, 7, 15, 30)  # across lunch
    assert cal.due_at(local(2026, 12, 7, 14, 0), 0.5) == local(2026, 12, 8, 8, 30)  # into the next morning
    assert cal.due_at(local(2026, 12, 7, 16, 0), 0.5) == local(2026, 12, 8, 11, 30)  # after the cut-off
    assert cal.due_at(local(2026, 12, 7, 14, 30), 0.5, time(14, 0)) == local(2026, 12, 8, 11, 30)  # its own cut-off
    assert cal.due_at(local(2026, 12, 11, 16, 0), 0.5) == local(2026, 12, 14, 11, 30)  # Friday → Monday
    assert cal.working_minutes_between(local(2026, 12, 7, 10, 0), local(2026, 12, 7, 15, 30)) == 240


def test_office_hours_and_the_cut_off_are_settings():
    late = WorkingCalendar(office_hours=parse_hours("08:00-12:00,13:30-17:30"), cutoff=time(16, 0))
    assert late.due_at(local(2026, 12, 7, 15, 30), 0) == local(2026, 12, 7, 17, 30)
    assert late.due_at(local(2026, 12, 7, 11, 0), 0.5) == local(2026, 12, 7, 16, 30)
    with pytest.raises(ConfigError):
        Settings.from_env({"SMARTQN_OFFICE_HOURS": "13:00-11:00"}).check()


def test_the_2026_new_year_swap_is_known_by_default():
    assert not cal.is_working_day(date(2026, 1, 2)) and cal.is_working_day(date(2026, 1, 10))
    assert cal.due_at(local(2025, 12, 31, 9, 0), 3) == local(2026, 1, 7, 17, 0)
    assert cal.due_at(local(2026, 1, 8, 9, 0), 2) == local(2026, 1, 10, 17, 0)  # the Saturday worked counts
    listed = dict(cal.year(2026))
    assert "12729/VPCP-KGVX" in listed[date(2026, 1, 2)] and listed[date(2026, 1, 10)].startswith("worked")
    # An operator can cancel an announced make-up day and add their own day off.
    custom = WorkingCalendar(extra_days_off=[date(2026, 1, 10), date(2026, 12, 1)])
    assert not custom.is_working_day(date(2026, 1, 10)) and not custom.is_working_day(date(2026, 12, 1))


def test_a_cccd_must_agree_with_the_birth_date_and_gender_beside_it():
    schema = {"type": "object", "properties": {"mother": {"type": "object", "properties": {
        "cccd": {"type": "string", "format": "cccd"}, "date_of_birth": {"type": "string", "format": "date"},
        "gender": {"type": "string"}}}}}
    good = {"mother": {"cccd": "049190000123", "date_of_birth": "1990-05-01", "gender": "female"}}
    assert form_errors(schema, good) is None
    man = form_errors(schema, {"mother": {**good["mother"], "gender": "male"}})
    assert man is not None and list(man.errors or {}) == ["form.mother.cccd"]
    for bad in ("000190000123", "099190000123", "049990000123"):
        refused = form_errors(schema, {"mother": {"cccd": bad}})
        assert refused is not None and list(refused.errors or {}) == ["form.mother.cccd"]


def test_a_broken_row_is_named_and_nothing_is_loaded(session, tmp_path):
    data = json.loads(catalog_file.DEFAULT_FILE.read_text(encoding="utf-8"))
    data["agencies"].append({"code": "000.20.99.H15", "name": "Ủy ban nhân dân xã Thử", "level": "commune",
                             "parent_code": "000.00.00.H15", "is_centre": True, "ward_codes": ["99999"]})
    data["procedures"][3]["agency_code"] = "000.77.77.H15"
    data["procedures"][5]["fee"] = {"kind": "per_copy"}
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    before = session.scalar(select(func.count()).select_from(Agency))
    with pytest.raises(ValidationFailed) as refused:
        seed_catalog(session, broken)
    code3, code5 = data["procedures"][3]["code"], data["procedures"][5]["code"]
    assert set(refused.value.errors or {}) == {f"procedures[5] {code5}"}  # shapes first, then references
    data["procedures"][5]["fee"] = {"kind": "flat", "amount_vnd": 0}
    broken.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValidationFailed) as refused:
        seed_catalog(session, broken)
    assert refused.value.errors == {f"procedures[3] {code3}": ["unknown agency 000.77.77.H15"]}
    assert session.scalar(select(func.count()).select_from(Agency)) == before


def test_the_cli_loads_an_operators_file_and_lists_a_year(app, session, tmp_path):
    data = json.loads(catalog_file.DEFAULT_FILE.read_text(encoding="utf-8"))
    data["agencies"][0]["name"] = 7
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed", "--file", str(bad)])
    assert result.exit_code != 0 and "agencies[0] 000.00.00.H15: name" in result.output
    listed = runner.invoke(args=["calendar", "2026"])
    assert listed.exit_code == 0 and "Sat 10/01/2026  worked" in listed.output
