"""The demo catalog: realistic, complete, and idempotent."""

from __future__ import annotations

import json
from collections import Counter

import jsonschema
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from services.errors import ValidationFailed
from services.models import Agency, Procedure
from services.province import catalog_file
from services.province.catalog import catalog_revision, get_procedure, list_groups
from services.province.seed import seed_catalog
from services.text import fold


def test_seeding_twice_changes_nothing(session):
    revision = catalog_revision(session)
    report = seed_catalog(session)
    data = catalog_file.read()
    assert not report.changed and report.unchanged == (
        len(data["agencies"]) + len(data["procedures"]) + len(data["groups"]))
    assert catalog_revision(session) == revision
    assert session.scalar(select(func.count()).select_from(Procedure)) == len(data["procedures"])


def test_seeding_repairs_a_changed_procedure_and_bumps_the_revision(session):
    revision = catalog_revision(session)
    procedure = get_procedure(session, "2.000488")
    procedure.fee_vnd = 1
    procedure.required_documents.clear()
    session.commit()
    report = seed_catalog(session)
    assert report.updated == 1 and report.created == 0
    procedure = get_procedure(session, "2.000488")
    assert procedure.fee_vnd == 200_000 and len(procedure.required_documents) == 1
    assert catalog_revision(session) == revision + 1


def test_catalog_has_what_the_province_needs(session):
    levels = Counter(session.scalars(select(Agency.level)))
    assert levels["province"] == 1 and levels["department"] >= 3 and levels["commune"] >= 6
    procedures = list(session.scalars(select(Procedure).options(selectinload(Procedure.required_documents))))
    assert len(procedures) >= 15
    assert sum(p.fee_vnd > 0 for p in procedures) >= 3
    assert any(p.min_eid_level == 2 for p in procedures)
    assert {p.online_level for p in procedures} == {"full", "partial"}
    for p in procedures:
        assert p.search_name == fold(p.name)
        jsonschema.Draft202012Validator.check_schema(p.form_schema)
        assert p.required_documents and any(d.mandatory for d in p.required_documents)
    groups = {g.code: g for g in list_groups(session)}
    for group in groups.values():
        jsonschema.Draft202012Validator.check_schema(group.form_schema)
    assert [p.name for p in (m.procedure for m in groups["LT-KS-TT-BHYT"].members)] == [
        "Đăng ký khai sinh", "Đăng ký thường trú", "Cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi"]


def test_form_schemas_accept_a_real_form_and_name_bad_fields():
    schema = next(p for p in catalog_file.read()["procedures"] if p["code"] == "1.001193")["form_schema"]
    validator = jsonschema.Draft202012Validator(schema)
    good = {"child": {"full_name": "Nguyễn Văn An", "date_of_birth": "2026-11-20", "gender": "male",
                      "place_of_birth": "Bệnh viện Đa khoa Quảng Nam"},
            "mother_cccd": "049190000123", "relationship": "me"}
    assert not list(validator.iter_errors(good))
    bad = {**good, "mother_cccd": "12"}
    assert [list(e.path) for e in validator.iter_errors(bad)] == [["mother_cccd"]]


def test_fold():
    assert fold("  Đăng  ký THƯỜNG trú ") == "dang ky thuong tru"
    assert fold("Xóa đăng ký") == fold("xoa dang ky")


def test_english_names_are_optional_checked_and_loaded(session, tmp_path):
    data = json.loads(catalog_file.DEFAULT_FILE.read_text(encoding="utf-8"))
    assert all(p.get("name_en") for p in data["procedures"])  # the demo catalog names all of them
    code = data["procedures"][0]["code"]
    del data["procedures"][0]["name_en"]  # a province's file may leave them out
    data["procedures"][1]["name_en"] = "Residence (renamed)"
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    report = seed_catalog(session, path)
    assert report.updated == 2 and report.created == 0
    assert get_procedure(session, code).name_en is None
    assert get_procedure(session, data["procedures"][1]["code"]).name_en == "Residence (renamed)"

    data["procedures"][1]["name_en"] = ""
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValidationFailed) as refused:
        seed_catalog(session, path)
    assert refused.value.errors == {f"procedures[1] {data['procedures'][1]['code']}": [
        "name_en: a text of 1–300 characters"]}
