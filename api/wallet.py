"""The citizen's document wallet: papers kept once and reused, share links, and the public share download."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Response, request, url_for

from api.blueprint import Blueprint
from api.context import get_session, settings, storage
from api.guards import current_actor
from api.http import send_stored
from api.openapi import BINARY, documented
from schemas.common import encode_cursor
from schemas.wallet import (
    NewShareSchema,
    SharePageArgs,
    SharePageSchema,
    WalletItemSchema,
    WalletListArgs,
    WalletPageSchema,
    WalletUploadSchema,
)
from services.wallet import items, shares

if TYPE_CHECKING:
    from services.models import WalletItem

blp = Blueprint("wallet", __name__, url_prefix="/api/v1/me/wallet", description="The citizen's document wallet")
shared_blp = Blueprint("shared", __name__, url_prefix="/api/v1/shared", description="Wallet papers shared by link")

FILE_TYPES = {t: BINARY for t in ("application/pdf", "image/jpeg", "image/png")}


def _file(item: WalletItem, **headers: str) -> Response:
    response = send_stored(item.sha256, mimetype=item.content_type, as_attachment=True,
                           download_name=item.filename, max_age=0)
    response.headers.update(headers)
    return response


@blp.get("")
@blp.arguments(WalletListArgs, location="query", as_kwargs=True)
@blp.response(200, WalletPageSchema)
def list_items(limit: int, cursor: list[Any] | None = None, document_type: str | None = None) -> dict[str, Any]:
    """The caller's papers, newest first, optionally of one document type."""
    page = items.page(get_session(), current_actor(), document_type=document_type, after=cursor, limit=limit)
    return {"items": page.items, "next_cursor": encode_cursor(page.next_key)}


@blp.post("")
@blp.arguments(WalletUploadSchema, location="files")
@blp.response(201, WalletItemSchema)
@documented(201, headers=("Location",))
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY", description="validation_failed: an unknown document type, "
                  "or expires_at before issued_at")
def upload(body: dict[str, Any]) -> tuple[WalletItem, int, dict[str, str]]:
    """Keep a paper (PDF, JPEG or PNG, judged by its bytes): stored once, whoever else holds the same bytes."""
    file = body["file"]
    item = items.upload(get_session(), current_actor(), storage=storage(), stream=file.stream, filename=file.filename,
                        document_type=body["document_type"], title=body["title"], issued_at=body["issued_at"],
                        expires_at=body["expires_at"], max_bytes=settings().max_upload_mb * 1024 * 1024)
    return item, 201, {"Location": url_for("wallet.get_item", item_id=item.id)}


@blp.get("/<string:item_id>")
@blp.response(200, WalletItemSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_item(item_id: str) -> WalletItem:
    """One of the caller's papers."""
    return items.get_item(get_session(), current_actor(), item_id)


@blp.get("/<string:item_id>/file")
@blp.response(200, description="the file's bytes", content_type="application/octet-stream")
@documented(200, headers=("ETag",), content=FILE_TYPES)
@blp.alt_response(404, response="NOT_FOUND")
def download(item_id: str) -> Response:
    """The paper's bytes."""
    return _file(items.get_item(get_session(), current_actor(), item_id))


@blp.delete("/<string:item_id>")
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def delete(item_id: str) -> None:
    """Remove a paper from the wallet; dossiers it was attached to keep it."""
    items.delete(get_session(), current_actor(), item_id)


@blp.post("/<string:item_id>/shares")
@blp.response(201, NewShareSchema)
@blp.alt_response(404, response="NOT_FOUND")
def share(item_id: str) -> dict[str, Any]:
    """A single-use link to the paper, valid 5 minutes; the URL is shown this once."""
    created, token = shares.create(get_session(), current_actor(), item_id)
    return {"id": created.id, "url": url_for("shared.get_file", token=token, _external=True),
            "expires_at": created.expires_at}


@blp.get("/<string:item_id>/shares")
@blp.arguments(SharePageArgs, location="query", as_kwargs=True)
@blp.response(200, SharePageSchema)
@blp.alt_response(404, response="NOT_FOUND")
def list_shares(item_id: str, limit: int, cursor: list[Any] | None = None) -> dict[str, Any]:
    """Every share of the paper, newest first: when it was used and from which address."""
    page = shares.page(get_session(), current_actor(), item_id, after=cursor, limit=limit)
    return {"items": page.items, "next_cursor": encode_cursor(page.next_key)}


@blp.delete("/<string:item_id>/shares/<string:share_id>")
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def revoke(item_id: str, share_id: str) -> None:
    """Revoke a share: its link answers 404 from now on."""
    shares.revoke(get_session(), current_actor(), item_id, share_id)


@shared_blp.get("/<string:token>")
@shared_blp.response(200, description="the shared file, once", content_type="application/octet-stream")
@documented(200, headers=("ETag",), content=FILE_TYPES)
@shared_blp.alt_response(404, response="NOT_FOUND", description="unknown, used, expired or revoked")
@shared_blp.alt_response(429, response="TOO_MANY_REQUESTS")
def get_file(token: str) -> Response:
    """A shared paper: one download within 5 minutes of sharing, then 404."""
    item = shares.redeem(get_session(), token, origin=request.remote_addr or "-")
    return _file(item, **{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
