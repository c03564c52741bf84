"""Small HTTP helpers shared by the dossier blueprints: If-Match, Idempotency-Key, JSON replies."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
from typing import Any

from flask import Response, json, request, send_file

from api.context import storage
from schemas.common import encode_cursor
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
                                body_fingerprint())


def body_fingerprint() -> str:
    """What a retry must repeat: the body, or for multipart its fields and each file's SHA-256 in order
    (werkzeug has parsed the form by now, so the raw body is gone)."""
    if request.mimetype != "multipart/form-data":
        return request.get_data(as_text=True)
    parts = [f"{name}={value}" for name, value in sorted(request.form.items(multi=True))]
    for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):  # stable: keeps order
        stream, digest = upload.stream, hashlib.sha256()
        stream.seek(0)
        while chunk := stream.read(1 << 16):
            digest.update(chunk)
        stream.seek(0)
        parts.append(f"{name}:{digest.hexdigest()}")
    return "\n".join(parts)


def page_json(bodies: list[bytes], next_key: Any) -> bytes:
    """A page answer (`items`, `next_cursor`) from its items' JSON, rendered and kept one by one."""
    cursor = json.dumps(encode_cursor(next_key)).encode()
    return b'{"items":[' + b",".join(bodies) + b'],"next_cursor":' + cursor + b"}"


def json_response(body: dict[str, Any], status: int = 200, etag: str | None = None,
                  headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json",
                        headers=headers)
    if etag:
        response.headers["ETag"] = etag
    return response


def send_stored(sha256: str, **options: Any) -> Response:
    """A stored file's bytes (local disk or S3) with its ETag and, unlike send_file on a stream, its
    Content-Length: a phone on a slow network shows progress and knows when a download is cut short."""
    stream = storage().open(sha256)
    response = send_file(stream, etag=sha256, **options)
    if response.content_length is None:
        length = getattr(stream, "content_length", None)  # services/storage_s3.py sets it from the object
        if length is None:
            with contextlib.suppress(AttributeError, OSError, io.UnsupportedOperation):
                length = os.fstat(stream.fileno()).st_size
        if length is not None:
            response.content_length = int(length)
    return response
