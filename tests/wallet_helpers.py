"""The document wallet in tests: unique papers, uploads into the wallet, a dossier driven to its result."""

from __future__ import annotations

import io
import uuid
from typing import Any

from tests.dossier_helpers import PDF, act
from tests.helpers import bearer


def paper(tag: str = "") -> bytes:
    """A PDF whose bytes no other test has (the storage directory outlives each test's rollback)."""
    return PDF + f"% {tag} {uuid.uuid4().hex}\n".encode()


def keep(client: Any, tokens: dict[str, Any], document_type: str = "to_khai_tthn", data: bytes | None = None, *,
         title: str = "Tờ khai", filename: str = "giay-to.pdf", **fields: str) -> Any:
    """POST /me/wallet: one paper into the caller's wallet."""
    return client.post("/api/v1/me/wallet", headers=bearer(tokens), content_type="multipart/form-data",
                       data={"document_type": document_type, "title": title,
                             "file": (io.BytesIO(paper() if data is None else data), filename), **fields})


def from_wallet(client: Any, tokens: dict[str, Any], dossier_id: str, item_id: str, document_type: str) -> Any:
    return client.post(f"/api/v1/dossiers/{dossier_id}/attachments", headers=bearer(tokens),
                       json={"wallet_item_id": item_id, "document_type": document_type})


def result_upload(client: Any, official: dict[str, Any], dossier_id: str, data: bytes, name: str = "kq.pdf") -> Any:
    return client.post(f"/api/v1/admin/dossiers/{dossier_id}/results", headers=bearer(official),
                       data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def to_approved(client: Any, official: dict[str, Any], dossier_id: str, *results: bytes) -> None:
    """Received, in progress (the result files uploaded there), approved."""
    for action in ("receive", "start_processing"):
        assert act(client, official, dossier_id, action).status_code == 200
    for data in results:
        assert result_upload(client, official, dossier_id, data).status_code == 201
    assert act(client, official, dossier_id, "approve").status_code == 200
