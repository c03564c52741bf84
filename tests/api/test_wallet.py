"""The document wallet over HTTP: papers kept once, listed and downloaded by their owner only, attached to
dossiers with no upload, matched to a draft's slots, prefilled forms, and deleting."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.models import Attachment, StoredFile, WalletItem
from tests.dossier_helpers import ELF, PNG, SIMPLE, draft, upload
from tests.helpers import OTHER, bearer, sign_in
from tests.wallet_helpers import from_wallet, keep, paper


@pytest.fixture
def citizen(client):
    return sign_in(client)


@pytest.fixture
def other(client):
    return sign_in(client, OTHER)


def on_disk(settings, sha256: str) -> bool:
    return any(p.name == sha256 for p in Path(settings.storage_dir).rglob(sha256))


def test_a_paper_is_kept_listed_and_downloaded(client, citizen):
    data = paper()
    response = keep(client, citizen, "giay_to_cho_o", data, title="Hợp đồng thuê nhà", issued_at="2026-01-05",
                    expires_at="2027-01-04", filename="hop-dong.pdf")
    assert response.status_code == 201, response.json
    item = response.json
    assert response.headers["Location"].endswith(f"/api/v1/me/wallet/{item['id']}")
    assert {k: item[k] for k in ("document_type", "title", "source", "issued_at", "expires_at", "content_type",
                                 "size", "dossier_code", "filename")} == {
        "document_type": "giay_to_cho_o", "title": "Hợp đồng thuê nhà", "source": "upload",
        "issued_at": "2026-01-05", "expires_at": "2027-01-04", "content_type": "application/pdf",
        "size": len(data), "dossier_code": None, "filename": "hop-dong.pdf"}
    listed = client.get("/api/v1/me/wallet", headers=bearer(citizen)).json
    assert [i["id"] for i in listed["items"]] == [item["id"]] and listed["next_cursor"] is None
    by_type = client.get("/api/v1/me/wallet", headers=bearer(citizen), query_string={"document_type": "to_khai_tthn"})
    assert by_type.json["items"] == []
    file = client.get(f"/api/v1/me/wallet/{item['id']}/file", headers=bearer(citizen))
    assert file.status_code == 200 and file.data == data and file.mimetype == "application/pdf"
    assert "hop-dong.pdf" in file.headers["Content-Disposition"]


def test_the_list_pages_newest_first(client, citizen):
    ids = [keep(client, citizen).json["id"] for _ in range(3)]
    first = client.get("/api/v1/me/wallet", headers=bearer(citizen), query_string={"limit": 2}).json
    rest = client.get("/api/v1/me/wallet", headers=bearer(citizen),
                      query_string={"limit": 2, "cursor": first["next_cursor"]}).json
    assert [i["id"] for i in first["items"] + rest["items"]] == ids[::-1] and rest["next_cursor"] is None


def test_the_same_bytes_are_stored_once_whoever_keeps_them(client, citizen, other, session, settings):
    data = paper()
    mine, theirs = keep(client, citizen, data=data).json, keep(client, other, data=data).json
    assert mine["sha256"] == theirs["sha256"] and mine["id"] != theirs["id"]
    assert session.scalar(select(func.count()).select_from(StoredFile)
                          .where(StoredFile.sha256 == mine["sha256"])) == 1
    assert len(list(Path(settings.storage_dir).rglob(mine["sha256"]))) == 1


def test_a_file_that_is_not_pdf_jpeg_or_png_by_its_bytes_is_415_and_kept_nowhere(client, citizen, session):
    response = keep(client, citizen, data=ELF, filename="giay-to.pdf")
    assert response.status_code == 415 and response.json["code"] == "unsupported_file_type"
    assert session.scalar(select(func.count()).select_from(WalletItem)) == 0


def test_png_and_jpeg_are_kept_too(client, citizen):
    assert keep(client, citizen, data=PNG + paper()[:0], filename="anh.png").json["content_type"] == "image/png"


def test_an_expiry_before_the_issue_date_is_422(client, citizen, session):
    response = keep(client, citizen, issued_at="2026-05-02", expires_at="2026-05-01")
    assert response.status_code == 422 and response.json["code"] == "validation_failed"
    assert "expires_at" in response.json["errors"]
    assert session.scalar(select(func.count()).select_from(WalletItem)) == 0


@pytest.mark.parametrize("fields", [{"document_type": "bang_lai_may_bay"}, {"expires_at": "2026-13-01"},
                                    {"title": ""}])
def test_bad_fields_are_422(client, citizen, fields):
    base = {"document_type": "to_khai_tthn", "title": "Tờ khai"}
    response = keep(client, citizen, **{**base, **fields})
    assert response.status_code == 422 and set(fields) <= set(response.json["errors"])


def test_another_persons_paper_is_404_everywhere(client, citizen, other):
    item = keep(client, citizen).json
    base = f"/api/v1/me/wallet/{item['id']}"
    assert client.get("/api/v1/me/wallet", headers=bearer(other)).json["items"] == []
    assert client.get(base, headers=bearer(other)).status_code == 404
    assert client.get(f"{base}/file", headers=bearer(other)).status_code == 404
    assert client.post(f"{base}/shares", headers=bearer(other)).status_code == 404
    assert client.get(f"{base}/shares", headers=bearer(other)).status_code == 404
    assert client.delete(base, headers=bearer(other)).status_code == 404
    theirs = draft(client, other, papers=False)
    response = from_wallet(client, other, theirs["id"], item["id"], "to_khai_tthn")
    assert response.status_code == 404 and response.json["code"] == "not_found"
    assert client.get(f"{base}/file", headers=bearer(citizen)).status_code == 200  # still the owner's
    assert client.get(base).status_code == 401


def test_attaching_from_the_wallet_moves_no_bytes_and_submits(client, citizen, session):
    item = keep(client, citizen).json
    dossier = draft(client, citizen, papers=False)
    files = session.scalar(select(func.count()).select_from(StoredFile))
    response = from_wallet(client, citizen, dossier["id"], item["id"], "to_khai_tthn")
    assert response.status_code == 201, response.json
    assert {k: response.json[k] for k in ("document_type", "sha256", "filename", "wallet_item_id")} == {
        "document_type": "to_khai_tthn", "sha256": item["sha256"], "filename": item["filename"],
        "wallet_item_id": item["id"]}
    assert session.scalar(select(func.count()).select_from(StoredFile)) == files
    again = from_wallet(client, citizen, dossier["id"], item["id"], "to_khai_tthn")
    assert again.status_code == 200 and again.json["id"] == response.json["id"]
    sent = client.post(f"/api/v1/dossiers/{dossier['id']}/submit", headers=bearer(citizen))
    assert sent.status_code == 200 and sent.json["status"] == "submitted"
    got = client.get(f"/api/v1/dossiers/{dossier['id']}/attachments/{response.json['id']}", headers=bearer(citizen))
    assert got.status_code == 200 and got.data[:4] == b"%PDF"


def test_a_paper_of_another_type_for_the_slot_is_422(client, citizen):
    item = keep(client, citizen, "giay_to_cho_o").json
    dossier = draft(client, citizen, papers=False)
    response = from_wallet(client, citizen, dossier["id"], item["id"], "to_khai_tthn")
    assert response.status_code == 422 and "wallet_item_id" in response.json["errors"]
    not_a_slot = from_wallet(client, citizen, dossier["id"], item["id"], "giay_to_cho_o")
    assert not_a_slot.status_code == 422 and "document_type" in not_a_slot.json["errors"]


def test_an_expired_paper_is_not_attached(client, citizen):
    item = keep(client, citizen, issued_at="2020-01-01", expires_at="2021-01-01").json
    dossier = draft(client, citizen, papers=False)
    response = from_wallet(client, citizen, dossier["id"], item["id"], "to_khai_tthn")
    assert response.status_code == 422 and "wallet_item_id" in response.json["errors"]


@pytest.mark.parametrize("body", [{}, {"wallet_item_id": "x"}, {"document_type": "to_khai_tthn"},
                                  {"wallet_item_id": "x", "document_type": "to_khai_tthn", "extra": 1}])
def test_a_bad_json_attach_is_422(client, citizen, body):
    dossier = draft(client, citizen, papers=False)
    response = client.post(f"/api/v1/dossiers/{dossier['id']}/attachments", headers=bearer(citizen), json=body)
    assert response.status_code == 422 and response.json["code"] == "validation_failed"


def test_an_unknown_wallet_item_is_404(client, citizen):
    dossier = draft(client, citizen, papers=False)
    response = from_wallet(client, citizen, dossier["id"], "00000000-0000-0000-0000-000000000000", "to_khai_tthn")
    assert response.status_code == 404


def test_a_submitted_dossier_takes_no_paper_from_the_wallet(client, citizen):
    item = keep(client, citizen).json
    dossier = draft(client, citizen)
    assert client.post(f"/api/v1/dossiers/{dossier['id']}/submit", headers=bearer(citizen)).status_code == 200
    assert from_wallet(client, citizen, dossier["id"], item["id"], "to_khai_tthn").status_code == 409


def test_a_draft_lists_the_wallet_papers_that_fit_each_slot(client, citizen, other):
    fits = keep(client, citizen, title="Tờ khai cũ").json
    keep(client, citizen, "giay_to_cho_o")  # not asked for by this procedure
    keep(client, citizen, issued_at="2020-01-01", expires_at="2021-01-01")  # expired
    keep(client, other)  # someone else's
    dossier = draft(client, citizen, papers=False)
    assert dossier["wallet_matches"] == {"to_khai_tthn": [
        {"id": fits["id"], "title": "Tờ khai cũ", "source": "upload", "issued_at": None, "expires_at": None}]}
    assert client.get(f"/api/v1/dossiers/{dossier['id']}", headers=bearer(other)).status_code == 404
    listed = client.get("/api/v1/dossiers", headers=bearer(citizen)).json["items"][0]
    assert "wallet_matches" not in listed  # one dossier's answer only
    sent = client.post(f"/api/v1/dossiers/{draft(client, citizen)['id']}/submit", headers=bearer(citizen)).json
    assert "wallet_matches" not in sent  # nothing to add any more


def test_a_draft_is_prefilled_from_earlier_dossiers_on_request(client, citizen):
    earlier = draft(client, citizen, form={"purpose": "Kết hôn", "ward_code": "20333"})
    assert client.post(f"/api/v1/dossiers/{earlier['id']}/submit", headers=bearer(citizen)).status_code == 200
    plain = client.post("/api/v1/dossiers", headers=bearer(citizen), json={"procedure_code": SIMPLE["code"]})
    assert plain.json["form"] == {}
    filled = client.post("/api/v1/dossiers", headers=bearer(citizen),
                         json={"procedure_code": SIMPLE["code"], "prefill": True})
    assert filled.status_code == 201 and filled.json["form"] == {"purpose": "Kết hôn", "ward_code": "20333"}
    own_wins = client.post("/api/v1/dossiers", headers=bearer(citizen),
                           json={"procedure_code": SIMPLE["code"], "form": {"purpose": "Vay vốn"}, "prefill": True})
    assert own_wins.json["form"] == {"purpose": "Vay vốn", "ward_code": "20333"}
    # Another procedure takes only its own fields: 2.000908 has ward_code but no purpose.
    other = client.post("/api/v1/dossiers", headers=bearer(citizen),
                        json={"procedure_code": "2.000908", "form": {}, "prefill": True})
    assert other.json["form"] == {"ward_code": "20333"}


def test_a_prefill_takes_nothing_from_drafts_or_from_other_people(client, citizen, other):
    draft(client, citizen, form={"purpose": "Nháp"}, papers=False)
    theirs = draft(client, other, form={"purpose": "Của người khác"})
    client.post(f"/api/v1/dossiers/{theirs['id']}/submit", headers=bearer(other))
    filled = client.post("/api/v1/dossiers", headers=bearer(citizen),
                         json={"procedure_code": SIMPLE["code"], "prefill": True})
    assert filled.json["form"] == {}


def test_deleting_a_paper_keeps_it_in_a_submitted_dossier(client, citizen, session, settings):
    item = keep(client, citizen).json
    dossier = draft(client, citizen, papers=False)
    attached = from_wallet(client, citizen, dossier["id"], item["id"], "to_khai_tthn").json
    assert client.post(f"/api/v1/dossiers/{dossier['id']}/submit", headers=bearer(citizen)).status_code == 200
    assert client.delete(f"/api/v1/me/wallet/{item['id']}", headers=bearer(citizen)).status_code == 204
    assert client.get(f"/api/v1/me/wallet/{item['id']}", headers=bearer(citizen)).status_code == 404
    assert client.get("/api/v1/me/wallet", headers=bearer(citizen)).json["items"] == []
    kept = client.get(f"/api/v1/dossiers/{dossier['id']}", headers=bearer(citizen)).json["attachments"]
    assert [(a["id"], a["wallet_item_id"]) for a in kept] == [(attached["id"], item["id"])]
    got = client.get(f"/api/v1/dossiers/{dossier['id']}/attachments/{attached['id']}", headers=bearer(citizen))
    assert got.status_code == 200 and on_disk(settings, item["sha256"])
    assert client.delete(f"/api/v1/me/wallet/{item['id']}", headers=bearer(citizen)).status_code == 404


def test_removing_a_paper_taken_from_the_wallet_leaves_the_wallet_whole(client, citizen, settings):
    item = keep(client, citizen).json
    dossier = draft(client, citizen, papers=False)
    attached = from_wallet(client, citizen, dossier["id"], item["id"], "to_khai_tthn").json
    url = f"/api/v1/dossiers/{dossier['id']}/attachments/{attached['id']}"
    assert client.delete(url, headers=bearer(citizen)).status_code == 204
    file = client.get(f"/api/v1/me/wallet/{item['id']}/file", headers=bearer(citizen))
    assert file.status_code == 200 and on_disk(settings, item["sha256"])


def test_an_uploaded_paper_removed_from_a_draft_stays_while_the_wallet_holds_the_same_bytes(client, citizen,
                                                                                            session, settings):
    data = paper()
    item = keep(client, citizen, data=data).json
    dossier = draft(client, citizen, papers=False)
    attached = upload(client, citizen, dossier["id"], "to_khai_tthn", data).json
    assert attached["sha256"] == item["sha256"] and attached["wallet_item_id"] is None
    url = f"/api/v1/dossiers/{dossier['id']}/attachments/{attached['id']}"
    assert client.delete(url, headers=bearer(citizen)).status_code == 204
    assert session.get(StoredFile, item["sha256"]) is not None and on_disk(settings, item["sha256"])
    assert session.scalar(select(func.count()).select_from(Attachment)
                          .where(Attachment.dossier_id == dossier["id"])) == 0


def test_the_document_shows_both_ways_to_attach_and_the_wallet(client):
    spec = client.get("/api/v1/openapi.json").json
    attach = spec["paths"]["/api/v1/dossiers/{dossier_id}/attachments"]["post"]
    content = attach["requestBody"]["content"]
    assert content["multipart/form-data"]["schema"] == {"$ref": "#/components/schemas/Upload"}
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/WalletAttach"}
    assert {"404", "413", "415", "422"} <= set(attach["responses"])
    for path, method in (("/api/v1/me/wallet", "get"), ("/api/v1/me/wallet", "post"),
                         ("/api/v1/me/wallet/{item_id}/file", "get"), ("/api/v1/me/wallet/{item_id}", "delete"),
                         ("/api/v1/me/wallet/{item_id}/shares", "post"), ("/api/v1/me/wallet/{item_id}/shares", "get"),
                         ("/api/v1/me/wallet/{item_id}/shares/{share_id}", "delete")):
        assert spec["paths"][path][method]["security"] == [{"bearerAuth": []}], (path, method)
    shared = spec["paths"]["/api/v1/shared/{token}"]["get"]
    assert shared["security"] == [] and {"application/pdf", "image/png"} <= set(shared["responses"]["200"]["content"])
    assert "wallet_matches" in spec["components"]["schemas"]["Dossier"]["properties"]
    assert "reuse_rate" in spec["components"]["schemas"]["Figures"]["properties"]


def test_nul_in_a_multipart_text_field_is_422(client, citizen):
    response = keep(client, citizen, title="Tờ\x00khai")
    assert response.status_code == 422 and "title" in response.json["errors"]


def test_a_paper_over_the_size_limit_is_413_and_kept_nowhere(make_app, citizen, session):
    small = make_app(max_upload_mb=1).test_client()
    response = keep(small, citizen, data=paper() + b"0" * (1024 * 1024))
    assert response.status_code == 413 and response.json["code"] == "file_too_large"
    assert session.scalar(select(func.count()).select_from(WalletItem)) == 0
