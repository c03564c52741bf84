"""Desk scans reach the citizen's wallet: a paper scanned at a one-stop desk is filed into the dossier's
applicant's wallet (`source: desk_scan`) in the desk's transaction, with no second copy of its bytes."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import func, select

from services.models import StoredFile, WalletItem
from tests.dossier_helpers import SIMPLE, official_of
from tests.helpers import OTHER, bearer, sign_in
from tests.wallet_helpers import paper

HOI_AN = "000.20.24.H15"
WALK_IN = {"cccd": "049190007777", "full_name": "Lê Thị Hồng Nhung", "date_of_birth": "1990-04-15",
           "gender": "female", "phone": "0905 123 456", "address": "12 Trần Phú, Hội An"}
PERSON = {**{k: WALK_IN[k] for k in ("cccd", "full_name", "date_of_birth", "gender")}, "eid_level": 2}


def desk_file(client, official):
    response = client.post("/api/v1/desk/dossiers", headers=bearer(official), json={
        "procedure_code": SIMPLE["code"], "agency_code": SIMPLE["agency"], "channel": "desk",
        "return_method": "desk", "applicant": WALK_IN, "form": SIMPLE["form"]})
    assert response.status_code == 201, response.json
    return response.json


def desk_scan(client, official, dossier_id, document_type, data):
    return client.post(f"/api/v1/desk/dossiers/{dossier_id}/attachments", headers=bearer(official),
                       data={"document_type": document_type, "file": (io.BytesIO(data), "scan.pdf")},
                       content_type="multipart/form-data")


def stored_files(session) -> int:
    return session.scalar(select(func.count()).select_from(StoredFile))


def test_a_desk_scan_enters_the_persons_wallet_with_no_new_stored_file(client, session, settings):
    centre = official_of(client, session, agency=HOI_AN)
    dossier = desk_file(client, centre)
    data = paper("desk scan")
    before = stored_files(session)
    response = desk_scan(client, centre, dossier["id"], "to_khai_tthn", data)
    assert response.status_code == 201, response.json
    sha = response.json["sha256"]
    # The scan stored its bytes once; the wallet item is a second reference to them, not a copy.
    assert stored_files(session) == before + 1
    assert len(list(Path(settings.storage_dir).rglob(sha))) == 1

    person = sign_in(client, PERSON)
    wallet = client.get("/api/v1/me/wallet", headers=bearer(person)).json["items"]
    assert [(i["source"], i["document_type"], i["sha256"], i["dossier_code"]) for i in wallet] == [
        ("desk_scan", "to_khai_tthn", sha, dossier["code"])]
    assert client.get(f"/api/v1/me/wallet/{wallet[0]['id']}/file", headers=bearer(person)).data == data
    # Nobody else's wallet has it.
    assert client.get("/api/v1/me/wallet", headers=bearer(sign_in(client, OTHER))).json["items"] == []


def test_a_paper_already_in_the_wallet_is_not_filed_twice(client, session):
    centre = official_of(client, session, agency=HOI_AN)
    first, second = desk_file(client, centre), desk_file(client, centre)
    data = paper("the same paper twice")
    assert desk_scan(client, centre, first["id"], "to_khai_tthn", data).status_code == 201
    assert desk_scan(client, centre, first["id"], "to_khai_tthn", data).status_code == 200  # the same scan again
    assert desk_scan(client, centre, second["id"], "to_khai_tthn", data).status_code == 201  # another dossier
    owner = session.scalar(select(WalletItem.owner_id).where(WalletItem.source == "desk_scan"))
    assert owner == first["applicant"]["id"]
    assert session.scalar(select(func.count()).select_from(WalletItem).where(WalletItem.owner_id == owner)) == 1


def test_a_refused_scan_files_nothing(client, session):
    centre = official_of(client, session, agency=HOI_AN)
    dossier = desk_file(client, centre)
    assert desk_scan(client, centre, dossier["id"], "unknown", paper()).status_code == 422
    assert session.scalar(select(func.count()).select_from(WalletItem)) == 0
