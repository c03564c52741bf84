"""Papers: judged by their bytes, limited in size while streaming, stored once, shown to the right people."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.models import Attachment, StoredFile
from tests.dossier_helpers import ELF, JPEG, PDF, PNG, SIMPLE, draft, official_of, submitted, upload
from tests.helpers import OTHER, bearer, sign_in


@pytest.fixture
def citizen(client):
    return sign_in(client)


def stored_files(settings) -> list[Path]:
    return [p for p in Path(settings.storage_dir).rglob("*") if p.is_file() and not p.name.startswith(".")]


@pytest.mark.parametrize(("data", "content_type"), [(PDF, "application/pdf"), (PNG, "image/png"),
                                                    (JPEG, "image/jpeg")])
def test_pdf_png_and_jpeg_are_accepted_by_their_bytes(client, citizen, data, content_type):
    dossier = draft(client, citizen, papers=False)
    response = upload(client, citizen, dossier["id"], "to_khai_tthn", data, filename="scan.bin")
    assert response.status_code == 201, response.json
    assert response.json["content_type"] == content_type and response.json["size"] == len(data)
    assert len(response.json["sha256"]) == 64 and response.json["filename"] == "scan.bin"


def test_an_executable_renamed_pdf_is_415_and_leaves_nothing(client, citizen, session, settings):
    dossier = draft(client, citizen, papers=False)
    before = set(stored_files(settings))
    response = upload(client, citizen, dossier["id"], "to_khai_tthn", ELF, filename="to-khai.pdf")
    assert response.status_code == 415 and response.json["code"] == "unsupported_file_type"
    assert set(stored_files(settings)) == before
    assert session.scalar(select(func.count()).select_from(Attachment)
                          .where(Attachment.dossier_id == dossier["id"])) == 0


def test_an_oversize_file_is_413_and_leaves_nothing(make_app, settings, citizen):
    small = make_app(max_upload_mb=1).test_client()
    dossier = draft(small, citizen, papers=False)
    before = set(stored_files(settings))
    just_over = PDF + b"0" * (1024 * 1024)
    response = upload(small, citizen, dossier["id"], "to_khai_tthn", just_over)
    assert response.status_code == 413 and response.json["code"] == "file_too_large"
    assert set(stored_files(settings)) == before
    far_over = PDF + b"0" * (3 * 1024 * 1024)  # refused by the request size limit before it is read
    response = upload(small, citizen, dossier["id"], "to_khai_tthn", far_over)
    assert response.status_code == 413 and response.json["code"] == "file_too_large"


def test_the_same_file_is_stored_once(client, citizen, session):
    one, two = draft(client, citizen, papers=False), draft(client, citizen, papers=False)
    first = upload(client, citizen, one["id"], "to_khai_tthn")
    again = upload(client, citizen, one["id"], "to_khai_tthn")
    other = upload(client, citizen, two["id"], "to_khai_tthn")
    assert first.status_code == 201 and again.status_code == 200 and again.json["id"] == first.json["id"]
    assert other.status_code == 201 and other.json["sha256"] == first.json["sha256"]
    assert session.scalar(select(func.count()).select_from(StoredFile)
                          .where(StoredFile.sha256 == first.json["sha256"])) == 1


@pytest.mark.parametrize(("given", "kept"), [
    ("../../etc/passwd.pdf", "passwd.pdf"), ("C:/Users/An/Giấy khai sinh.pdf", "Giấy khai sinh.pdf"),
    ("a\x00b\x1f.pdf", "ab.pdf"), ("", "tep.pdf"), ("x" * 300 + ".pdf", "x" * 200),
])
def test_filenames_are_reduced_to_a_safe_base_name(client, citizen, given, kept):
    dossier = draft(client, citizen, papers=False)
    response = upload(client, citizen, dossier["id"], "to_khai_tthn", filename=given)
    assert response.json["filename"] == kept


def test_download_has_type_and_disposition_for_owner_and_agency_only(client, citizen, session):
    dossier = submitted(client, citizen)
    attachment = dossier["attachments"][0]
    url = f"/api/v1/dossiers/{dossier['id']}/attachments/{attachment['id']}"
    own = client.get(url, headers=bearer(citizen))
    assert own.status_code == 200 and own.data == PDF
    assert own.headers["Content-Type"] == "application/pdf"
    assert own.headers["Content-Disposition"].startswith("attachment;") and "to-khai.pdf" in own.headers[
        "Content-Disposition"]
    official = official_of(client, session)
    assert client.get(url, headers=bearer(official)).status_code == 200
    outsider = official_of(client, session, agency="000.00.19.H15", person=OTHER)
    assert client.get(url, headers=bearer(outsider)).status_code == 404
    assert client.get(url).status_code == 401


def test_vietnamese_filenames_survive_the_download(client, citizen):
    dossier = draft(client, citizen, papers=False)
    attached = upload(client, citizen, dossier["id"], "to_khai_tthn", filename="Tờ khai.pdf").json
    response = client.get(f"/api/v1/dossiers/{dossier['id']}/attachments/{attached['id']}", headers=bearer(citizen))
    assert "filename*=UTF-8''T%E1%BB%9D%20khai.pdf" in response.headers["Content-Disposition"]


def test_unknown_document_type_is_422(client, citizen):
    dossier = draft(client, citizen, papers=False)
    response = upload(client, citizen, dossier["id"], "giay_phep_lai_xe")
    assert response.status_code == 422 and "document_type" in response.json["errors"]


def test_a_missing_file_part_is_422(client, citizen):
    dossier = draft(client, citizen, papers=False)
    response = client.post(f"/api/v1/dossiers/{dossier['id']}/attachments", headers=bearer(citizen),
                           data={"document_type": "to_khai_tthn"}, content_type="multipart/form-data")
    assert response.status_code == 422


def test_papers_can_be_removed_while_editable_only(client, citizen, settings):
    dossier = draft(client, citizen, papers=False)
    unique = PDF + b"% only here\n"
    attached = upload(client, citizen, dossier["id"], "to_khai_tthn", unique).json
    url = f"/api/v1/dossiers/{dossier['id']}/attachments/{attached['id']}"
    assert client.delete(url, headers=bearer(citizen)).status_code == 204
    assert not any(p.name == attached["sha256"] for p in stored_files(settings))
    sent = submitted(client, citizen, SIMPLE)
    url = f"/api/v1/dossiers/{sent['id']}/attachments/{sent['attachments'][0]['id']}"
    assert client.delete(url, headers=bearer(citizen)).status_code == 409


def test_attaching_to_a_submitted_dossier_is_409(client, citizen):
    sent = submitted(client, citizen)
    assert upload(client, citizen, sent["id"], "to_khai_tthn", PNG).status_code == 409


def test_results_are_for_officials_of_the_agency(client, citizen, session):
    sent = submitted(client, citizen)
    data = {"file": (io.BytesIO(PDF), "kq.pdf")}
    url = f"/api/v1/admin/dossiers/{sent['id']}/results"
    assert client.post(url, headers=bearer(citizen), data=data, content_type="multipart/form-data").status_code == 403
    official = official_of(client, session)
    # Not before processing has started.
    response = client.post(url, headers=bearer(official), data={"file": (io.BytesIO(PDF), "kq.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 409


def test_with_the_s3_backend_a_paper_goes_to_the_bucket_and_comes_back(make_app, s3, settings, citizen):
    bucket = s3.new_bucket()
    app = make_app(storage_backend="s3", s3_bucket=bucket, s3_endpoint_url=s3.endpoint_url, s3_region=s3.region,
                   s3_prefix="attachments")
    client = app.test_client()
    dossier = draft(client, citizen, papers=False)
    before = set(stored_files(settings))
    attached = upload(client, citizen, dossier["id"], "to_khai_tthn", PNG, filename="scan.png")
    assert attached.status_code == 201, attached.json
    sha256 = attached.json["sha256"]
    assert s3.keys(bucket) == [f"attachments/{sha256}"]
    assert set(stored_files(settings)) == before  # nothing on the local disk
    url = f"/api/v1/dossiers/{dossier['id']}/attachments/{attached.json['id']}"
    downloaded = client.get(url, headers=bearer(citizen))
    assert downloaded.status_code == 200 and downloaded.data == PNG
    assert downloaded.mimetype == "image/png" and downloaded.headers["ETag"].strip('"') == sha256
    assert downloaded.headers["Content-Length"] == str(len(PNG))  # streamed from the bucket, length known
    assert client.delete(url, headers=bearer(citizen)).status_code == 204
    assert s3.keys(bucket) == []


def test_a_download_from_the_local_disk_says_its_length(client, citizen):
    dossier = draft(client, citizen, papers=False)
    attached = upload(client, citizen, dossier["id"], "to_khai_tthn", PNG, filename="scan.png").json
    downloaded = client.get(f"/api/v1/dossiers/{dossier['id']}/attachments/{attached['id']}", headers=bearer(citizen))
    assert downloaded.status_code == 200 and downloaded.headers["Content-Length"] == str(len(PNG))
