"""The desk's documents as PDFs (issue 13): forms 01-04 made with their actions, Vietnamese text as text
(extracted back with pypdf), numbered, stored by hash, a QR of the verification code, the applicant's
own only, and the public verification that says nothing personal."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pypdf
import pytest

from services.models import Dossier
from tests.dossier_helpers import act, official_of, submitted
from tests.helpers import CITIZEN, OTHER, bearer, sign_in

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture
def people(client, session):
    return sign_in(client), official_of(client, session)


def documents(client, tokens, dossier_id, admin=False):
    prefix = "/api/v1/admin/dossiers" if admin else "/api/v1/dossiers"
    return client.get(f"{prefix}/{dossier_id}/documents", headers=bearer(tokens))


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_receiving_makes_the_receipt_slip_with_the_applicants_name(client, people):
    citizen, official = people
    dossier = submitted(client, citizen)
    assert documents(client, citizen, dossier["id"]).json["items"] == []
    act(client, official, dossier["id"], "receive")
    [slip] = documents(client, citizen, dossier["id"]).json["items"]
    assert (slip["form_no"], slip["kind"]) == ("01", "receipt") and slip["number"].endswith("/01")
    assert len(slip["verify_code"]) >= 20
    response = client.get(f"/api/v1/dossiers/{dossier['id']}/documents/{slip['id']}", headers=bearer(citizen))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = response.data
    assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == slip["sha256"]
    text = text_of(pdf)
    for expected in (CITIZEN["full_name"], "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", dossier["code"], "Mẫu số 01",
                     "Ủy ban nhân dân phường Hội An".upper(), slip["verify_code"], "Hẹn trả kết quả"):
        assert expected in text, expected
    # The officials' twin lists the same; the citizen is told in the app.
    assert documents(client, official, dossier["id"], admin=True).json["items"] == [slip]
    inbox = client.get("/api/v1/me/notifications", headers=bearer(citizen)).json["items"]
    assert (inbox[0]["kind"], inbox[0]["data"]["document_id"], inbox[0]["data"]["form_no"]) == \
        ("dossier.received", slip["id"], "01")
    if shutil.which("pdftoppm"):  # the slip as a picture, for the note
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "receipt-slip.pdf").write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-singlefile", str(ARTIFACTS / "receipt-slip.pdf"),
                        str(ARTIFACTS / "receipt-slip")], check=True, timeout=30)
        assert (ARTIFACTS / "receipt-slip.png").stat().st_size > 5000


def test_supplement_refusal_and_apology_each_make_their_form(client, session, people):
    citizen, official = people
    first, second, third = (submitted(client, citizen) for _ in range(3))
    act(client, official, first["id"], "receive")
    act(client, official, first["id"], "request_supplement", note="Bổ sung bản sao giấy khai sinh")
    act(client, official, second["id"], "reject", reason="Không thuộc thẩm quyền giải quyết")
    act(client, official, third["id"], "receive")
    late = session.get(Dossier, third["id"])
    late.due_at = datetime.now(UTC) - timedelta(days=1)
    session.commit()
    new_date = datetime(2030, 1, 15, 9, tzinfo=UTC)
    assert act(client, official, third["id"], "apologize", reason="Chờ xác minh",
               new_due_at=new_date.isoformat()).status_code == 200
    expected = {first["id"]: ("02", "Bổ sung bản sao giấy khai sinh"),
                second["id"]: ("03", "Không thuộc thẩm quyền giải quyết"), third["id"]: ("04", "15/01/2030")}
    for dossier_id, (form_no, phrase) in expected.items():
        item = documents(client, citizen, dossier_id).json["items"][-1]
        assert item["form_no"] == form_no
        pdf = client.get(f"/api/v1/dossiers/{dossier_id}/documents/{item['id']}", headers=bearer(citizen)).data
        text = text_of(pdf)
        assert phrase in text and CITIZEN["full_name"] in text and f"Mẫu số {form_no}" in text
    numbers = [i["number"] for d in expected for i in documents(client, citizen, d).json["items"]]
    assert len(numbers) == len(set(numbers))


def test_another_persons_documents_are_404(client, people):
    citizen, official = people
    dossier = submitted(client, citizen)
    act(client, official, dossier["id"], "receive")
    [slip] = documents(client, citizen, dossier["id"]).json["items"]
    other = sign_in(client, OTHER)
    assert documents(client, other, dossier["id"]).status_code == 404
    url = f"/api/v1/dossiers/{dossier['id']}/documents/{slip['id']}"
    assert client.get(url, headers=bearer(other)).status_code == 404
    assert client.get(f"/api/v1/dossiers/{dossier['id']}/documents/nope", headers=bearer(citizen)).status_code == 404


def test_verification_answers_without_personal_data(client, people):
    citizen, official = people
    dossier = submitted(client, citizen)
    act(client, official, dossier["id"], "receive")
    [slip] = documents(client, citizen, dossier["id"]).json["items"]
    response = client.get(f"/api/v1/verify/{slip['verify_code']}")
    assert response.status_code == 200
    assert response.json == {"form_no": "01", "kind": "receipt", "number": slip["number"],
                             "dossier_code": dossier["code"], "agency_name": "Ủy ban nhân dân phường Hội An",
                             "issued_at": slip["issued_at"], "sha256": slip["sha256"]}
    assert CITIZEN["full_name"] not in response.text and CITIZEN["cccd"] not in response.text
    missing = client.get("/api/v1/verify/does-not-exist-0000000000")
    assert missing.status_code == 404 and missing.json["code"] == "not_found"


def test_the_supplement_request_lists_the_papers_still_missing(client, session):
    from tests.api.test_desk import PERSON, file

    centre = official_of(client, session, agency="000.20.24.H15")
    desk = file(client, centre).json  # filed at the desk, no paper scanned yet
    assert act(client, centre, desk["id"], "request_supplement", note="Mang bản chính tờ khai").status_code == 200
    [slip, request] = documents(client, centre, desk["id"], admin=True).json["items"]
    assert (slip["form_no"], request["form_no"]) == ("01", "02")
    pdf = client.get(f"/api/v1/admin/dossiers/{desk['id']}/documents/{request['id']}", headers=bearer(centre)).data
    text = text_of(pdf)
    assert "Giấy tờ cần bổ sung" in text and "Tờ khai cấp Giấy xác nhận tình trạng hôn nhân" in text
    assert PERSON["full_name"] in text and "Mang bản chính tờ khai" in text


def test_the_receipt_slip_of_a_walk_in_lists_the_papers_taken_in(client, session):
    from tests.api.test_desk import file

    centre = official_of(client, session, agency="000.20.24.H15")
    unknown = file(client, centre, papers=["to_khai_tthn", "ho_chieu"])
    assert unknown.status_code == 422 and list(unknown.json["errors"]) == ["papers"]
    desk = file(client, centre, papers=["to_khai_tthn"]).json
    assert desk["timeline"][0]["note"] == "Nhận bản giấy: Tờ khai cấp Giấy xác nhận tình trạng hôn nhân"
    [slip] = documents(client, centre, desk["id"], admin=True).json["items"]
    pdf = client.get(f"/api/v1/admin/dossiers/{desk['id']}/documents/{slip['id']}", headers=bearer(centre)).data
    text = text_of(pdf)
    assert "Giấy tờ đã nhận" in text and "1. Tờ khai cấp Giấy xác nhận tình trạng hôn nhân" in text
