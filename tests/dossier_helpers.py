"""Files and dossiers for tests: real PDF/PNG/JPEG headers, and drafts driven through the API."""

from __future__ import annotations

import io
from typing import Any

from services.people.identity import grant_staff
from tests.helpers import OFFICIAL, bearer, sign_in

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56

# Xác nhận tình trạng hôn nhân: free, eID level 1, at phường Hội An, one mandatory paper.
SIMPLE = {"code": "1.004873", "agency": "000.20.24.H15", "documents": ["to_khai_tthn"],
          "form": {"purpose": "Kết hôn"}}
# Phiếu lý lịch tư pháp: 200,000 VND, eID level 2, at the city police (since 1/3/2025).
FEE = {"code": "2.000488", "agency": "000.00.23.H15", "documents": ["to_khai_lltp"],
       "form": {"full_name": "Nguyễn Văn An", "cccd": "049085001234", "purpose": "Xin việc", "copies": 1}}


def upload(client: Any, tokens: dict[str, Any], dossier_id: str, document_type: str, data: bytes = PDF,
           filename: str = "to-khai.pdf") -> Any:
    return client.post(f"/api/v1/dossiers/{dossier_id}/attachments", headers=bearer(tokens),
                       data={"document_type": document_type, "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def draft(client: Any, tokens: dict[str, Any], procedure: dict[str, Any] = SIMPLE, *, papers: bool = True,
          form: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post("/api/v1/dossiers", headers=bearer(tokens),
                           json={"procedure_code": procedure["code"], "form": procedure["form"] if form is None
                                 else form})
    assert response.status_code == 201, response.json
    if papers:
        for document_type in procedure["documents"]:
            assert upload(client, tokens, response.json["id"], document_type).status_code == 201
    return client.get(f"/api/v1/dossiers/{response.json['id']}", headers=bearer(tokens)).json


def submitted(client: Any, tokens: dict[str, Any], procedure: dict[str, Any] = SIMPLE, **headers: str) -> dict:
    dossier = draft(client, tokens, procedure)
    response = client.post(f"/api/v1/dossiers/{dossier['id']}/submit", headers={**bearer(tokens), **headers})
    assert response.status_code == 200, response.json
    return response.json


def official_of(client: Any, session: Any, agency: str = SIMPLE["agency"], person: dict = OFFICIAL) -> dict:
    grant_staff(session, person["cccd"], role="official", agency_code=agency)
    return sign_in(client, person)


def act(client: Any, tokens: dict[str, Any], dossier_id: str, action: str, **body: Any) -> Any:
    current = client.get(f"/api/v1/admin/dossiers/{dossier_id}", headers=bearer(tokens))
    return client.post(f"/api/v1/admin/dossiers/{dossier_id}/actions",
                       headers={**bearer(tokens), "If-Match": current.headers["ETag"]},
                       json={"action": action, **body})
