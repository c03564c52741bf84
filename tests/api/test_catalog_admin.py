"""Admins keep the catalog: procedures and agencies created, changed and deactivated, never deleted."""

from __future__ import annotations

import pytest

from services.people.identity import grant_staff
from tests.dossier_helpers import SIMPLE, act, draft, official_of, upload
from tests.helpers import ADMIN, bearer, sign_in

NEW = {"code": "9.000001", "name": "Cấp giấy xác nhận thử nghiệm", "field": "Thử nghiệm",
       "agency_code": "000.20.24.H15", "processing_days": 2, "fee_vnd": 15_000, "online_level": "full",
       "min_eid_level": 1,
       "description": "Thủ tục thử", "form_schema": {"type": "object", "required": ["reason"],
                                                     "properties": {"reason": {"type": "string"}}},
       "required_documents": [{"type": "don", "name": "Đơn đề nghị", "mandatory": True}]}


@pytest.fixture
def admin(client, session):
    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    return sign_in(client, ADMIN)


def test_create_a_procedure_and_it_appears_in_the_catalog(client, admin):
    etag = client.get("/api/v1/procedures").headers["ETag"]
    response = client.post("/api/v1/admin/procedures", headers=bearer(admin), json=NEW)
    assert response.status_code == 201, response.json
    assert response.json["active"] is True and response.json["required_documents"][0]["type"] == "don"
    public = client.get("/api/v1/procedures/9.000001").json
    assert public["name"] == NEW["name"] and public["fee_vnd"] == 15_000
    assert client.get("/api/v1/procedures", headers={"If-None-Match": etag}).status_code == 200
    assert client.get("/api/v1/procedures", query_string={"q": "xac nhan thu nghiem"}).json["items"][0]["code"] == \
        "9.000001"
    audit = client.get("/api/v1/admin/audit", headers=bearer(admin),
                       query_string={"action": "catalog.procedure.create"}).json["items"]
    assert audit[0]["target_id"] == "9.000001"
    assert client.post("/api/v1/admin/procedures", headers=bearer(admin), json=NEW).status_code == 409


@pytest.mark.parametrize(("change", "field"), [
    ({"form_schema": {"type": "object", "properties": {"x": {"type": "nonsense"}}}}, "form_schema"),
    ({"form_schema": {"type": "array"}}, "form_schema"),
    ({"processing_days": 400}, "processing_days"),
    ({"fee_vnd": -1}, "fee_vnd"),
    ({"required_documents": [{"type": "a", "name": "A"}, {"type": "a", "name": "B"}]}, "required_documents"),
])
def test_bad_procedures_are_422_naming_the_problem(client, admin, change, field):
    response = client.post("/api/v1/admin/procedures", headers=bearer(admin), json={**NEW, **change})
    assert response.status_code == 422 and field in response.json["errors"], response.json


def test_the_english_name_is_set_changed_and_cleared(client, admin):
    english = {"Accept-Language": "en"}
    created = client.post("/api/v1/admin/procedures", headers=bearer(admin),
                          json={**NEW, "name_en": "Test certificate"})
    assert created.status_code == 201, created.json
    assert (created.json["name"], created.json["name_en"]) == (NEW["name"], "Test certificate")
    assert client.get("/api/v1/procedures/9.000001", headers=english).json["name"] == "Test certificate"
    assert client.get("/api/v1/procedures/9.000001").json["name"] == NEW["name"]

    before = client.get("/api/v1/procedures", headers=english)
    changed = client.patch("/api/v1/admin/procedures/9.000001", headers=bearer(admin),
                           json={"name_en": "Certificate of testing"})
    assert changed.status_code == 200 and changed.json["name_en"] == "Certificate of testing", changed.json
    # The catalog revision moved: the cached list is not "not modified", and it shows the new name.
    after = client.get("/api/v1/procedures", headers={**english, "If-None-Match": before.headers["ETag"]},
                       query_string={"q": "thu nghiem"})
    assert after.status_code == 200 and after.json["items"][0]["name"] == "Certificate of testing"
    listed = client.get("/api/v1/admin/procedures", headers=bearer(admin), query_string={"limit": 100}).json["items"]
    assert {p["code"]: p["name_en"] for p in listed}["9.000001"] == "Certificate of testing"

    cleared = client.patch("/api/v1/admin/procedures/9.000001", headers=bearer(admin), json={"name_en": None})
    assert cleared.status_code == 200 and cleared.json["name_en"] is None
    assert client.get("/api/v1/procedures/9.000001", headers=english).json["name"] == NEW["name"]


@pytest.mark.parametrize("name_en", ["", "x", "A" * 301, "Two\nlines", "Tab\there", "Bell\x07", 42])
def test_a_bad_english_name_is_422(client, admin, name_en):
    created = client.post("/api/v1/admin/procedures", headers=bearer(admin), json={**NEW, "name_en": name_en})
    assert created.status_code == 422 and "name_en" in created.json["errors"], created.json
    changed = client.patch(f"/api/v1/admin/procedures/{SIMPLE['code']}", headers=bearer(admin),
                           json={"name_en": name_en})
    assert changed.status_code == 422 and "name_en" in changed.json["errors"], changed.json


def test_an_invalid_json_schema_is_named(client, admin):
    bad = {**NEW, "form_schema": {"type": "object", "properties": {"x": {"type": "nonsense"}}}}
    message = client.post("/api/v1/admin/procedures", headers=bearer(admin), json=bad).json["errors"]["form_schema"][0]
    assert "properties/x/type" in message and "nonsense" in message


def test_deactivating_stops_new_dossiers_but_not_the_old_ones(client, session, admin):
    citizen = sign_in(client)
    ready = draft(client, citizen)
    sent = client.post(f"/api/v1/dossiers/{draft(client, citizen)['id']}/submit", headers=bearer(citizen)).json
    patch = client.patch(f"/api/v1/admin/procedures/{SIMPLE['code']}", headers=bearer(admin), json={"active": False})
    assert patch.status_code == 200 and patch.json["active"] is False
    assert client.get(f"/api/v1/procedures/{SIMPLE['code']}").status_code == 404
    refused = client.post(f"/api/v1/dossiers/{ready['id']}/submit", headers=bearer(citizen))
    assert refused.status_code == 409
    official = official_of(client, session)
    assert act(client, official, sent["id"], "receive").status_code == 200
    listed = client.get("/api/v1/admin/procedures?limit=100", headers=bearer(admin)).json["items"]
    assert any(p["code"] == SIMPLE["code"] and p["active"] is False for p in listed)


def test_agencies_are_created_renamed_and_deactivated(client, admin):
    created = client.post("/api/v1/admin/agencies", headers=bearer(admin),
                          json={"code": "000.20.97.H15", "name": "Ủy ban nhân dân xã Quế Sơn", "level": "commune",
                                "parent_code": "000.00.00.H15"})
    assert created.status_code == 201 and created.json["parent_code"] == "000.00.00.H15"
    renamed = client.patch("/api/v1/admin/agencies/000.20.97.H15", headers=bearer(admin),
                           json={"name": "UBND xã Quế Sơn", "active": False})
    assert renamed.json["name"] == "UBND xã Quế Sơn" and renamed.json["active"] is False
    assert "000.20.97.H15" not in [a["code"] for a in client.get("/api/v1/agencies").json["items"]]
    assert client.patch("/api/v1/admin/agencies/000.99.99.H15", headers=bearer(admin),
                        json={"name": "Không có"}).status_code == 404
    assert client.patch("/api/v1/admin/agencies/000.20.97.H15", headers=bearer(admin)).status_code == 422


def test_only_admins_keep_the_catalog(client, session):
    official = official_of(client, session)
    assert client.post("/api/v1/admin/procedures", headers=bearer(official), json=NEW).status_code == 403


def test_a_procedure_without_required_documents_is_created(client, admin):
    body = {**NEW, "required_documents": []}
    response = client.post("/api/v1/admin/procedures", headers=bearer(admin), json=body)
    assert response.status_code == 201, response.json
    assert response.json["required_documents"] == []


def test_a_fractional_fee_is_refused(client, admin):
    response = client.patch("/api/v1/admin/procedures/1.004873", headers=bearer(admin), json={"fee_vnd": 2.5e-42})
    assert response.status_code == 422 and "fee_vnd" in response.json["errors"], response.json


def test_a_submit_checks_the_papers_and_form_the_catalog_asks_for_since_its_last_change(client, admin):
    """A submit reads the required documents and form schema from the process's catalog cache: the move
    after a catalog change must see the change."""
    citizen = sign_in(client)
    first, ready = draft(client, citizen), draft(client, citizen)
    assert client.post(f"/api/v1/dossiers/{first['id']}/submit", headers=bearer(citizen)).status_code == 200
    papers = [{"type": "to_khai_tthn", "name": "Tờ khai", "mandatory": True},
              {"type": "anh_the", "name": "Ảnh thẻ", "mandatory": True}]
    schema = {"type": "object", "required": ["purpose", "phone"],
              "properties": {"purpose": {"type": "string"}, "phone": {"type": "string"}}}
    patch = client.patch(f"/api/v1/admin/procedures/{SIMPLE['code']}", headers=bearer(admin),
                         json={"required_documents": papers, "form_schema": schema})
    assert patch.status_code == 200, patch.json

    refused = client.post(f"/api/v1/dossiers/{ready['id']}/submit", headers=bearer(citizen))
    assert refused.status_code == 422 and refused.json["errors"] == {"form": ["'phone' is a required property"]}
    assert client.patch(f"/api/v1/dossiers/{ready['id']}", headers=bearer(citizen),
                        json={"form": {**SIMPLE["form"], "phone": "0905123456"}}).status_code == 200
    refused = client.post(f"/api/v1/dossiers/{ready['id']}/submit", headers=bearer(citizen))
    assert refused.status_code == 422 and refused.json["errors"] == {"documents": ["anh_the"]}, refused.json
    assert upload(client, citizen, ready["id"], "anh_the").status_code == 201
    assert client.post(f"/api/v1/dossiers/{ready['id']}/submit", headers=bearer(citizen)).status_code == 200
