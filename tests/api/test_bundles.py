"""Interconnected applications: birth → residence → health insurance, as one submission."""

from __future__ import annotations

import pytest

from tests.dossier_helpers import act, official_of, upload
from tests.helpers import OTHER, bearer, sign_in

FORM = {"child": {"full_name": "Nguyễn Minh Khôi", "date_of_birth": "2026-11-20", "gender": "male",
                  "place_of_birth": "Bệnh viện Đa khoa tỉnh Quảng Nam"},
        "mother_cccd": "049192004567", "father_cccd": "049085001234", "address": "12 Trần Phú, phường Tam Kỳ",
        "relationship": "cha"}
PAPERS = {"1.001193": ["to_khai_khai_sinh", "giay_chung_sinh"], "1.004194": ["to_khai_cu_tru", "giay_to_cho_o"],
          "1.002800": ["to_khai_bhyt"]}


@pytest.fixture
def citizen(client):
    return sign_in(client)


def new_bundle(client, tokens, **changes):
    response = client.post("/api/v1/dossier-bundles", headers=bearer(tokens),
                           json={"group_code": "LT-KS-TT-BHYT", "form": FORM, **changes})
    assert response.status_code == 201, response.json
    return response.json


def ready_bundle(client, tokens):
    bundle = new_bundle(client, tokens)
    for dossier in bundle["dossiers"]:
        for document_type in PAPERS[dossier["procedure_code"]]:
            assert upload(client, tokens, dossier["id"], document_type).status_code == 201
    return bundle


def test_a_bundle_has_a_draft_per_step_at_each_agency(client, citizen):
    bundle = new_bundle(client, citizen)
    assert bundle["status"] == "draft" and bundle["group_code"] == "LT-KS-TT-BHYT"
    assert [(d["procedure_code"], d["agency_code"]) for d in bundle["dossiers"]] == [
        ("1.001193", "000.20.17.H15"), ("1.004194", "000.00.23.H15"), ("1.002800", "000.00.21.H15")]
    assert all(d["form"] == FORM and d["bundle_id"] == bundle["id"] for d in bundle["dossiers"])


def test_submitting_submits_every_member_under_one_key(client, citizen):
    bundle = ready_bundle(client, citizen)
    headers = {**bearer(citizen), "Idempotency-Key": "bundle-1"}
    first = client.post(f"/api/v1/dossier-bundles/{bundle['id']}/submit", headers=headers)
    assert first.status_code == 200, first.json
    assert first.json["status"] == "submitted" and all(d["code"] for d in first.json["dossiers"])
    assert len({d["code"] for d in first.json["dossiers"]}) == 3
    again = client.post(f"/api/v1/dossier-bundles/{bundle['id']}/submit", headers=headers)
    assert again.json == first.json


def test_one_member_missing_papers_submits_none(client, citizen):
    bundle = new_bundle(client, citizen)
    first = bundle["dossiers"][0]
    for document_type in PAPERS[first["procedure_code"]]:
        upload(client, citizen, first["id"], document_type)
    response = client.post(f"/api/v1/dossier-bundles/{bundle['id']}/submit", headers=bearer(citizen))
    assert response.status_code == 422 and response.json["code"] == "missing_documents"
    after = client.get(f"/api/v1/dossier-bundles/{bundle['id']}", headers=bearer(citizen)).json
    assert [d["status"] for d in after["dossiers"]] == ["draft"] * 3 and not any(d["code"] for d in after["dossiers"])


def test_the_shared_form_is_validated_against_the_group_schema(client, citizen):
    bundle = ready_bundle(client, citizen)
    client.patch(f"/api/v1/dossier-bundles/{bundle['id']}", headers=bearer(citizen),
                 json={"form": {**FORM, "mother_cccd": "1"}})
    response = client.post(f"/api/v1/dossier-bundles/{bundle['id']}/submit", headers=bearer(citizen))
    assert response.status_code == 422 and "form.mother_cccd" in response.json["errors"]


def test_a_later_step_waits_for_the_earlier_result(client, session, citizen):
    bundle = ready_bundle(client, citizen)
    submitted = client.post(f"/api/v1/dossier-bundles/{bundle['id']}/submit", headers=bearer(citizen)).json
    birth, residence, _ = submitted["dossiers"]
    police = official_of(client, session, agency="000.00.23.H15", person=OTHER)
    blocked = act(client, police, residence["id"], "receive")
    assert blocked.status_code == 409 and blocked.json["code"] == "invalid_transition"
    view = client.get(f"/api/v1/admin/dossiers/{residence['id']}", headers=bearer(police)).json
    assert "receive" not in view["allowed_actions"]
    justice = official_of(client, session, agency="000.20.17.H15")
    for action in ("receive", "start_processing", "approve", "return_result"):
        assert act(client, justice, birth["id"], action).status_code == 200
    assert act(client, police, residence["id"], "receive").status_code == 200
    aggregate = client.get(f"/api/v1/dossier-bundles/{bundle['id']}", headers=bearer(citizen)).json
    assert aggregate["status"] == "in_progress"


def test_the_death_group_lets_the_applicant_pick_later_steps(client, citizen):
    form = {"deceased": {"full_name": "Nguyễn Văn Ba", "cccd": "049045001234", "date_of_death": "2026-11-20",
                         "place_of_death": "Tại nhà"}, "relationship": "con"}
    response = client.post("/api/v1/dossier-bundles", headers=bearer(citizen),
                           json={"group_code": "LT-KT-XTT-MT", "form": form,
                                 "procedure_codes": ["1.000656", "1.004206"]})
    assert [d["procedure_code"] for d in response.json["dossiers"]] == ["1.000656", "1.004206"]
    without_first = client.post("/api/v1/dossier-bundles", headers=bearer(citizen),
                                json={"group_code": "LT-KT-XTT-MT", "form": form, "procedure_codes": ["1.004206"]})
    assert without_first.status_code == 422


def test_bundles_are_private(client, citizen):
    bundle = new_bundle(client, citizen)
    other = sign_in(client, OTHER)
    assert client.get(f"/api/v1/dossier-bundles/{bundle['id']}", headers=bearer(other)).status_code == 404
    assert client.post(f"/api/v1/dossier-bundles/{bundle['id']}/submit", headers=bearer(other)).status_code == 404
    assert client.post("/api/v1/dossier-bundles", headers=bearer(citizen),
                       json={"group_code": "NOPE", "form": {}}).status_code == 404


def test_a_bundle_whose_drafts_were_all_deleted_still_answers(client, citizen):
    bundle = new_bundle(client, citizen)
    for member in bundle["dossiers"]:
        assert client.delete(f"/api/v1/dossiers/{member['id']}", headers=bearer(citizen)).status_code == 204
    emptied = client.get(f"/api/v1/dossier-bundles/{bundle['id']}", headers=bearer(citizen))
    assert emptied.status_code == 200 and emptied.json["dossiers"] == [] and emptied.json["status"] == "draft"
    patched = client.patch(f"/api/v1/dossier-bundles/{bundle['id']}", headers=bearer(citizen),
                           json={"form": bundle["form"]})
    assert patched.status_code == 200
