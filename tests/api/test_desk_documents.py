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


def receipt_slip(client, citizen, official) -> tuple[dict, dict, bytes]:
    """A dossier received by the official, and its receipt slip (form 01) as the citizen downloads it."""
    dossier = submitted(client, citizen)
    act(client, official, dossier["id"], "receive")
    [slip] = documents(client, citizen, dossier["id"]).json["items"]
    response = client.get(f"/api/v1/dossiers/{dossier['id']}/documents/{slip['id']}", headers=bearer(citizen))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return dossier, slip, response.data


def dark_share(image) -> float:
    """The share of a picture's pixels that are dark (text and lines on a white page)."""
    gray = image.convert("L")
    return sum(1 for value in gray.getdata() if value < 128) / (gray.width * gray.height)


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


def test_the_receipt_slip_renders_to_a_png_for_the_issues_note(client, people):
    """The slip as a picture (tests/artifacts/receipt-slip.png), drawn by poppler's pdftoppm: a page of
    A4 proportions with text on it. Skipped, saying why, where poppler-utils is not installed."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("no pdftoppm on this machine (apt-get install poppler-utils)")
    from PIL import Image

    *_, pdf = receipt_slip(client, *people)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "receipt-slip.pdf").write_bytes(pdf)
    (ARTIFACTS / "receipt-slip.png").unlink(missing_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-singlefile", str(ARTIFACTS / "receipt-slip.pdf"),
                    str(ARTIFACTS / "receipt-slip")], check=True, timeout=30)
    with Image.open(ARTIFACTS / "receipt-slip.png") as picture:
        width, height = picture.size
        assert abs(width - 661) <= 2 and abs(height - 935) <= 2, picture.size  # A4 at 80 dpi
        assert 0.005 < dark_share(picture) < 0.2  # text and the QR code on a white page, not a blank or black one


def test_a_desk_document_carries_the_qr_code_of_its_verification_url(client, people, settings):
    """The page holds one image XObject, the QR code; read module by module (segno draws 3 px a module
    inside a 2-module quiet zone), it is the QR code of the document's public verification URL."""
    import segno
    from pypdf.generic import IndirectObject

    from services.dossiers.documents import verify_url

    _, slip, pdf = receipt_slip(client, *people)
    [page] = pypdf.PdfReader(io.BytesIO(pdf)).pages
    xobjects = {name: ref.get_object() if isinstance(ref, IndirectObject) else ref
                for name, ref in page["/Resources"]["/XObject"].items()}
    assert [x["/Subtype"] for x in xobjects.values()] == ["/Image"]
    [picture] = page.images
    expected = segno.make(verify_url(settings.base_url, slip["verify_code"]), error="m", mask=0)
    size = expected.symbol_size(scale=1, border=0)[0]
    assert picture.image.size == ((size + 4) * 3,) * 2
    pixels = picture.image.convert("L")
    modules = [[int(pixels.getpixel(((col + 2) * 3 + 1, (row + 2) * 3 + 1)) < 128) for col in range(size)]
               for row in range(size)]
    assert modules == [list(row) for row in expected.matrix]


def test_the_refusal_and_the_apology_reach_the_citizens_inbox_with_their_documents(client, session, people):
    citizen, official = people
    refused, late = submitted(client, citizen), submitted(client, citizen)
    act(client, official, refused["id"], "reject", reason="Không thuộc thẩm quyền giải quyết")
    act(client, official, late["id"], "receive")
    row = session.get(Dossier, late["id"])
    row.due_at = datetime.now(UTC) - timedelta(days=1)
    session.commit()
    assert act(client, official, late["id"], "apologize", reason="Chờ xác minh",
               new_due_at=datetime(2030, 1, 15, 9, tzinfo=UTC).isoformat()).status_code == 200
    inbox = client.get("/api/v1/me/notifications", headers=bearer(citizen)).json["items"]
    for dossier, kind, form_no in ((refused, "dossier.rejected", "03"), (late, "dossier.apology", "04")):
        document = documents(client, citizen, dossier["id"]).json["items"][-1]
        assert document["form_no"] == form_no
        [entry] = [n for n in inbox if n["kind"] == kind]
        assert (entry["data"]["document_id"], entry["data"]["form_no"]) == (document["id"], form_no), entry["data"]
        assert entry["data"]["dossier_id"] == dossier["id"], entry["data"]


@pytest.mark.parametrize("failure", ["render", "storage"])
def test_a_document_that_cannot_be_made_rolls_the_whole_action_back(client, session, app, people, monkeypatch,
                                                                     failure):
    """Receiving makes the receipt slip in the same transaction: if the PDF cannot be drawn or stored, the
    dossier is not received (status and version as they were), no number is used up, no one is told."""
    from sqlalchemy import func, select

    from api.context import state_of
    from services.models import Agency, DeskDocument, DocumentCounter, Event, Notification

    citizen, official = people
    dossier = submitted(client, citizen)
    before = client.get(f"/api/v1/admin/dossiers/{dossier['id']}", headers=bearer(official))

    def counted():
        session.expire_all()
        row = session.get_one(Dossier, dossier["id"])
        return (row.status, row.version, session.scalar(slips_given),
                session.scalar(select(func.count()).select_from(DeskDocument)),
                session.scalar(select(func.count()).select_from(Event)),
                session.scalar(select(func.count()).select_from(Notification)))

    slips_given = (select(DocumentCounter.last).join(Agency, Agency.id == DocumentCounter.agency_id)
                   .where(Agency.code == dossier["agency_code"], DocumentCounter.form_no == "01")
                   .order_by(DocumentCounter.year.desc()).limit(1))
    untouched = counted()

    def broken(*_args, **_kwargs):
        raise OSError("disk full") if failure == "storage" else RuntimeError("the PDF could not be drawn")

    if failure == "render":
        monkeypatch.setattr("services.dossiers.documents.render", broken)
    else:
        monkeypatch.setattr(state_of(app).runtime.storage, "put", broken)
    response = act(client, official, dossier["id"], "receive")
    assert response.status_code == 500 and response.json["code"] == "internal_error"
    assert counted() == untouched
    after = client.get(f"/api/v1/admin/dossiers/{dossier['id']}", headers=bearer(official))
    assert (after.json["status"], after.headers["ETag"]) == ("submitted", before.headers["ETag"])
    monkeypatch.undo()
    assert act(client, official, dossier["id"], "receive").status_code == 200
    [slip] = documents(client, citizen, dossier["id"]).json["items"]
    assert slip["number"].startswith(f"{(untouched[2] or 0) + 1:06d}/")  # the number given back is the one used
