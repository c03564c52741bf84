"""An official's result upload names its document type (optional, `ket_qua` by default), from the catalog's
vocabulary: the result enters the applicant's wallet as that type and fills that slot in another procedure."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from services.models import StoredFile
from tests.dossier_helpers import FEE, act, draft, official_of, submitted
from tests.helpers import bearer, sign_in
from tests.wallet_helpers import paper

RESULTS = "/api/v1/admin/dossiers/{}/results"


def post_result(client, official, dossier_id, data, **fields):
    return client.post(RESULTS.format(dossier_id), headers=bearer(official), content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), "ket-qua.pdf"), **fields})


def started(client, official, dossier_id):
    for action in ("receive", "start_processing"):
        assert act(client, official, dossier_id, action).status_code == 200


def test_a_typed_result_fills_another_procedures_slot(client, session):
    citizen = sign_in(client)
    official = official_of(client, session)
    dossier = submitted(client, citizen)
    started(client, official, dossier["id"])
    typed = post_result(client, official, dossier["id"], paper("typed"), document_type=FEE["documents"][0])
    assert typed.status_code == 201, typed.json
    assert typed.json["document_type"] == FEE["documents"][0]
    plain = post_result(client, official, dossier["id"], paper("plain"))
    assert plain.status_code == 201 and plain.json["document_type"] == "ket_qua"  # the default stays
    for action in ("approve", "return_result"):
        assert act(client, official, dossier["id"], action).status_code == 200
    wallet = client.get("/api/v1/me/wallet", headers=bearer(citizen)).json["items"]
    assert sorted((i["document_type"], i["source"]) for i in wallet) == [
        ("ket_qua", "result"), (FEE["documents"][0], "result")]
    # The other procedure's draft offers it for its slot.
    matches = draft(client, citizen, FEE, papers=False)["wallet_matches"]
    assert [m["source"] for m in matches[FEE["documents"][0]]] == ["result"]


def test_an_unknown_result_type_is_422_and_stores_nothing(client, session):
    citizen = sign_in(client)
    official = official_of(client, session)
    dossier = submitted(client, citizen)
    started(client, official, dossier["id"])
    files = session.scalar(select(func.count()).select_from(StoredFile))
    response = post_result(client, official, dossier["id"], paper("unknown type"), document_type="giay_gi_do")
    assert response.status_code == 422 and "document_type" in response.json["errors"]
    assert session.scalar(select(func.count()).select_from(StoredFile)) == files
    assert post_result(client, official, dossier["id"], paper(), document_type="").status_code == 422
    got = client.get(f"/api/v1/admin/dossiers/{dossier['id']}", headers=bearer(official)).json
    assert got["result_attachments"] == []


def test_the_openapi_document_shows_the_optional_type(client):
    spec = client.get("/api/v1/openapi.json").json
    body = spec["paths"]["/api/v1/admin/dossiers/{dossier_id}/results"]["post"]["requestBody"]["content"]
    schema = body["multipart/form-data"]["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert "document_type" in schema["properties"] and "document_type" not in schema.get("required", [])
    assert schema["required"] == ["file"]
