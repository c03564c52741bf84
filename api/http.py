"""Small HTTP helpers shared by the dossier blueprints: If-Match, Idempotency-Key, JSON replies."""

from __future__ import annotations

import re
from typing import Any

from flask import Response, json, request

from services.idempotency import IdempotentRequest

IDEMPOTENCY_HEADER = {"in": "header", "name": "Idempotency-Key", "required": False,
                      "description": "1–255 characters; a retry with the same key replays the first answer",
                      "schema": {"type": "string", "minLength": 1, "maxLength": 255}}
IF_MATCH_HEADER = {"in": "header", "name": "If-Match", "required": True,
                   "description": "the ETag of the dossier as last read (428 when missing, 412 when stale)",
                   "schema": {"type": "string"}}


_VERSION_TAG = re.compile(r'^(?:W/)?"v(\d{1,9})"$')


def etag(version: int) -> str:
    """The ETag of a versioned resource (a dossier): its row version, quoted."""
    return f'"v{version}"'


def expected_version() -> int | None:
    """The version If-Match names: None when the header is missing, 0 (matches nothing) when malformed."""
    header = (request.headers.get("If-Match") or "").strip()
    if not header:
        return None
    match = _VERSION_TAG.match(header)
    return int(match.group(1)) if match else 0


def idempotent_request(user_id: str) -> IdempotentRequest | None:
    return IdempotentRequest.of(user_id, request.headers.get("Idempotency-Key"), request.method, request.path,
                                request.get_data(as_text=True))


def json_response(body: dict[str, Any], status: int = 200, etag: str | None = None,
                  headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json",
                        headers=headers)
    if etag:
        response.headers["ETag"] = etag
    return response
