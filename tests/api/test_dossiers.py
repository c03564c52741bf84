"""The citizen's side: drafts, forms, submission, codes, idempotency, withdrawal, rating, lookup."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from services.clock import clock
from services.models import Dossier, IdempotencyKey, TimelineEntry
from tests.dossier_helpers import FEE, SIMPLE, act, draft, official_of, submitted, upload
from tests.helpers import OTHER, bearer, sign_in


@pytest.fixture
def citizen(client):
    return sign_in(client)


def test_a_draft_is_created_with_location_and_allowed_actions(client, citizen):
    response = client.post("/api/v1/dossiers", headers=bearer(citizen),
                           json={"procedure_code": SIMPLE["code"], "form": {}})
    assert response.status_code == 201
    body = response.json
    assert response.headers["Location"].endswith(f"/api/v1/dossiers/{body['id']}")
    assert body["status"] == "draft" and body["status_label"] == "Hồ sơ nháp" and body["code"] is None
    assert body["procedure_name"] == "Cấp Giấy xác nhận tình trạng hôn nhân" and body["agency_code"] == SIMPLE["agency"]
    assert sorted(body["allowed_actions"]) == ["attach", "delete", "submit", "update"]
    assert body["payment_status"] == "not_required" and body["overdue"] is False
    assert response.headers["ETag"] == f'"v{body["version"]}"'


def test_unknown_procedure_is_404(client, citizen):
    response = client.post("/api/v1/dossiers", headers=bearer(citizen), json={"procedure_code": "9.9", "form": {}})
    assert response.status_code == 404


def test_submit_assigns_a_code_and_records_the_timeline(client):
    clock.freeze(datetime(2026, 12, 7, 2, 0, tzinfo=UTC))  # 09:00 in Quảng Nam
    body = submitted(client, sign_in(client))
    assert re.fullmatch(r"000\.20\.24\.H15-261207-\d{4}", body["code"])
    assert body["status"] == "submitted" and body["submitted_at"].startswith("2026-12-07T02:00")
    assert [(e["status"], e["action"], e["actor_role"]) for e in body["timeline"]] == [
        ("submitted", "submit", "citizen")]
    assert body["allowed_actions"] == ["withdraw"]


def test_codes_are_sequential_per_agency_and_day(client, citizen):
    codes = [submitted(client, citizen)["code"] for _ in range(3)]
    numbers = [int(c.rsplit("-", 1)[1]) for c in codes]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]


def test_an_invalid_form_names_every_failing_field(client, citizen):
    dossier = draft(client, citizen, FEE, form={"full_name": "A", "cccd": "12", "copies": 0})
    response = client.post(f"/api/v1/dossiers/{dossier['id']}/submit", headers=bearer(citizen))
    assert response.status_code == 422 and response.json["code"] == "validation_failed"
    assert set(response.json["errors"]) == {"form", "form.full_name", "form.cccd", "form.copies"}


def test_missing_documents(client, citizen):
    dossier = draft(client, citizen, papers=False)
    response = client.post(f"/api/v1/dossiers/{dossier['id']}/submit", headers=bearer(citizen))
    assert response.status_code == 422 and response.json["code"] == "missing_documents"
    assert response.json["errors"] == {"documents": ["to_khai_tthn"]}


def test_a_level_1_account_cannot_submit_a_level_2_procedure(client):
    level1 = sign_in(client, eid_level=1)
    dossier = draft(client, level1, FEE)
    response = client.post(f"/api/v1/dossiers/{dossier['id']}/submit", headers=bearer(level1))
    assert response.status_code == 403 and response.json["code"] == "eid_level_insufficient"


def test_a_failed_submit_changes_nothing(client, citizen, session):
    dossier = draft(client, citizen, papers=False)
    client.post(f"/api/v1/dossiers/{dossier['id']}/submit", headers={**bearer(citizen), "Idempotency-Key": "k-1"})
    again = client.get(f"/api/v1/dossiers/{dossier['id']}", headers=bearer(citizen)).json
    assert again["status"] == "draft" and again["code"] is None and again["timeline"] == []
    assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


def test_idempotency_key_replays_the_first_answer(client, citizen, session):
    dossier = draft(client, citizen)
    headers = {**bearer(citizen), "Idempotency-Key": "submit-once"}
    first = client.post(f"/api/v1/dossiers/{dossier['id']}/submit", headers=headers)
    second = client.post(f"/api/v1/dossiers/{dossier['id']}/submit", headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.json == first.json
    entries = session.scalar(select(func.count()).select_from(TimelineEntry)
                             .where(TimelineEntry.dossier_id == dossier["id"]))
    assert entries == 1
    # Without the key the retry is refused by the state machine: never a second submission.
    assert client.post(f"/api/v1/dossiers/{dossier['id']}/submit", headers=bearer(citizen)).status_code == 409


def test_the_same_key_on_another_dossier_is_422(client, citizen):
    one, other = draft(client, citizen), draft(client, citizen)
    headers = {**bearer(citizen), "Idempotency-Key": "shared"}
    assert client.post(f"/api/v1/dossiers/{one['id']}/submit", headers=headers).status_code == 200
    response = client.post(f"/api/v1/dossiers/{other['id']}/submit", headers=headers)
    assert response.status_code == 422 and response.json["code"] == "idempotency_key_reused"
    assert client.get(f"/api/v1/dossiers/{other['id']}", headers=bearer(citizen)).json["status"] == "draft"


def test_keys_are_per_user(client, citizen):
    other = sign_in(client, OTHER)
    mine, theirs = draft(client, citizen), draft(client, other)
    assert client.post(f"/api/v1/dossiers/{mine['id']}/submit",
                       headers={**bearer(citizen), "Idempotency-Key": "k"}).status_code == 200
    assert client.post(f"/api/v1/dossiers/{theirs['id']}/submit",
                       headers={**bearer(other), "Idempotency-Key": "k"}).status_code == 200


def test_bad_idempotency_keys_are_422(client, citizen):
    dossier = draft(client, citizen)
    response = client.post(f"/api/v1/dossiers/{dossier['id']}/submit",
                           headers={**bearer(citizen), "Idempotency-Key": "x" * 256})
    assert response.status_code == 422


def test_someone_elses_dossier_is_404_everywhere(client, citizen, session):
    dossier = draft(client, citizen)
    other = sign_in(client, OTHER)
    base = f"/api/v1/dossiers/{dossier['id']}"
    attachment = dossier["attachments"][0]["id"]
    calls = [client.get(base, headers=bearer(other)), client.patch(base, headers=bearer(other), json={"form": {}}),
             client.delete(base, headers=bearer(other)), client.post(f"{base}/submit", headers=bearer(other)),
             client.post(f"{base}/withdraw", headers=bearer(other)),
             client.get(f"{base}/attachments/{attachment}", headers=bearer(other)),
             client.delete(f"{base}/attachments/{attachment}", headers=bearer(other)),
             upload(client, other, dossier["id"], "to_khai_tthn")]
    assert [c.status_code for c in calls] == [404] * len(calls)
    # An official of another agency sees nothing either, and a draft is nobody's business but its owner's.
    stranger = official_of(client, session, agency="000.00.19.H15")
    assert client.get(f"/api/v1/admin/dossiers/{dossier['id']}", headers=bearer(stranger)).status_code == 404
    local = official_of(client, session, person=OTHER)
    assert client.get(f"/api/v1/admin/dossiers/{dossier['id']}", headers=bearer(local)).status_code == 404


def test_editing_is_for_drafts_and_supplements_only(client, citizen):
    body = submitted(client, citizen)
    response = client.patch(f"/api/v1/dossiers/{body['id']}", headers=bearer(citizen), json={"form": {}})
    assert response.status_code == 409 and response.json["code"] == "invalid_transition"
    assert client.delete(f"/api/v1/dossiers/{body['id']}", headers=bearer(citizen)).status_code == 409


def test_delete_a_draft(client, citizen, session):
    dossier = draft(client, citizen)
    assert client.delete(f"/api/v1/dossiers/{dossier['id']}", headers=bearer(citizen)).status_code == 204
    assert session.get(Dossier, dossier["id"]) is None


def test_withdraw_before_receipt_only(client, citizen, session):
    body = submitted(client, citizen)
    withdrawn = client.post(f"/api/v1/dossiers/{body['id']}/withdraw", headers=bearer(citizen))
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == "withdrawn"
    official = official_of(client, session)
    received = submitted(client, citizen)
    assert act(client, official, received["id"], "receive").status_code == 200
    assert client.post(f"/api/v1/dossiers/{received['id']}/withdraw", headers=bearer(citizen)).status_code == 409


def test_list_is_own_newest_first_filtered_and_paginated(client, citizen):
    other = sign_in(client, OTHER)
    draft(client, other)
    ids = [draft(client, citizen, papers=False)["id"] for _ in range(3)]
    sent = submitted(client, citizen)["id"]
    page1 = client.get("/api/v1/dossiers?limit=2", headers=bearer(citizen)).json
    page2 = client.get(f"/api/v1/dossiers?limit=2&cursor={page1['next_cursor']}", headers=bearer(citizen)).json
    assert [d["id"] for d in page1["items"] + page2["items"]] == [sent, *reversed(ids)]
    assert page2["next_cursor"] is None
    only = client.get("/api/v1/dossiers?status=submitted", headers=bearer(citizen)).json["items"]
    assert [d["id"] for d in only] == [sent]
    assert client.get("/api/v1/dossiers?status=flying", headers=bearer(citizen)).status_code == 422


def test_rating_once_when_final(client, citizen):
    body = submitted(client, citizen)
    url = f"/api/v1/dossiers/{body['id']}/rating"
    assert client.post(url, headers=bearer(citizen), json={"score": 5}).status_code == 409
    client.post(f"/api/v1/dossiers/{body['id']}/withdraw", headers=bearer(citizen))
    assert client.post(url, headers=bearer(citizen), json={"score": 6}).status_code == 422
    rated = client.post(url, headers=bearer(citizen), json={"score": 4, "comment": "Nhanh, chu đáo"})
    assert rated.status_code == 201 and rated.json["score"] == 4
    assert client.post(url, headers=bearer(citizen), json={"score": 5}).status_code == 409
    assert client.get(f"/api/v1/dossiers/{body['id']}", headers=bearer(citizen)).json["rating"]["score"] == 4


def test_public_lookup_shows_progress_and_nothing_personal(client, citizen):
    body = submitted(client, citizen)
    response = client.get(f"/api/v1/lookup/{body['code']}", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    english = client.get(f"/api/v1/procedures/{SIMPLE['code']}", headers={"Accept-Language": "en"}).json["name"]
    assert english != body["procedure_name"]  # the catalog's English name, as the caller asked
    assert response.json == {"code": body["code"], "procedure_name": english, "status": "submitted",
                             "status_label": "Awaiting receipt", "received_at": None, "due_at": None,
                             "completed_at": None}
    assert client.get("/api/v1/lookup/000.20.24.H15-261207-9999").status_code == 404


def test_lookup_is_rate_limited(make_app, citizen):
    client = make_app(ratelimit_enabled=True, ratelimit_lookup="2 per minute").test_client()
    statuses = [client.get("/api/v1/lookup/none").status_code for _ in range(3)]
    assert statuses == [404, 404, 429]


def test_keys_are_kept_24_hours_then_free_again(client):
    clock.freeze(datetime(2026, 12, 7, 2, 0, tzinfo=UTC))
    citizen = sign_in(client)
    first, second = draft(client, citizen), draft(client, citizen)
    headers = {**bearer(citizen), "Idempotency-Key": "daily"}
    assert client.post(f"/api/v1/dossiers/{first['id']}/submit", headers=headers).status_code == 200
    clock.advance(hours=23)
    citizen = sign_in(client)
    headers = {**bearer(citizen), "Idempotency-Key": "daily"}
    assert client.post(f"/api/v1/dossiers/{second['id']}/submit", headers=headers).status_code == 422
    clock.advance(hours=2)
    citizen = sign_in(client)
    headers = {**bearer(citizen), "Idempotency-Key": "daily"}
    assert client.post(f"/api/v1/dossiers/{second['id']}/submit", headers=headers).status_code == 200


def test_a_dossier_names_its_procedure_in_the_callers_language(client):
    from services.province import catalog_file

    english = {p["code"]: p.get("name_en") for p in catalog_file.read()["procedures"]}[SIMPLE["code"]]
    tokens = sign_in(client)
    dossier = draft(client, tokens)
    url = f"/api/v1/dossiers/{dossier['id']}"
    assert english and client.get(url, headers={**bearer(tokens), "Accept-Language": "en"}).json[
        "procedure_name"] == english
    assert client.get(url, headers=bearer(tokens)).json["procedure_name"] == dossier["procedure_name"] != english
    listed = client.get("/api/v1/dossiers", headers={**bearer(tokens), "Accept-Language": "en"}).json["items"]
    assert listed[0]["procedure_name"] == english
