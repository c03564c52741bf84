"""Every error leaves as RFC 9457 problem+json with a stable `code` and the `request_id`."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, json
from werkzeug.exceptions import HTTPException, InternalServerError

from api.i18n import current_language, problem_text
from services.db import transient
from services.errors import DomainError

log = logging.getLogger("smartqn.errors")
PROBLEM_JSON = "application/problem+json"

# The one table from a domain error's code to its HTTP status.
STATUS_OF_CODE = {
    "unauthorized": 401, "forbidden": 403, "not_found": 404, "conflict": 409, "invalid_transition": 409,
    "validation_failed": 422, "rate_limited": 429, "service_unavailable": 503, "missing_documents": 422,
    "eid_level_insufficient": 403, "payment_required": 402, "precondition_failed": 412,
    "precondition_required": 428, "idempotency_key_reused": 422, "file_too_large": 413,
    "unsupported_file_type": 415, "invalid_grant": 400, "invalid_request": 400,
}

HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    406: "not_acceptable", 409: "conflict", 412: "precondition_failed", 413: "file_too_large",
    415: "unsupported_file_type", 422: "validation_failed", 428: "precondition_required",
    429: "rate_limited", 503: "service_unavailable",
}


def problem(status: int, code: str, *, detail: str | None = None, errors: dict[str, list[str]] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    lang = current_language()
    title, default_detail = problem_text(code, lang)
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        # Details written by services are English; Vietnamese callers get the localized default.
        "detail": detail if detail and lang == "en" else default_detail,
        "code": code,
        "request_id": g.get("request_id", ""),
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)
    response.headers["Content-Language"] = lang
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", "Bearer")
    return response


def flatten_webargs(messages: Any) -> dict[str, list[str]]:
    """webargs nests messages by location ({"query": {"limit": [...]}}); clients want field → messages."""
    flat: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            flat.setdefault(prefix or "_schema", []).extend(value)
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(f"{prefix}[{index}]", inner)
        else:
            flat.setdefault(prefix or "_schema", []).append(str(value))

    for location, fields in (messages or {}).items():
        if isinstance(fields, dict):
            walk("", fields)
        else:
            walk(str(location), fields)
    return flat


def http_problem(error: HTTPException) -> Response:
    status = error.code or 500
    if status >= 500:
        return internal_problem(error)
    data = getattr(error, "data", None) or {}
    errors = flatten_webargs(data.get("messages")) if "messages" in data else data.get("errors")
    headers = dict(data.get("headers") or {})
    if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
        headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
    if status == 429 and (retry := getattr(error, "retry_after", None)):
        headers["Retry-After"] = str(retry)
    # werkzeug's descriptions are generic English; a message passed to abort() is specific.
    return problem(status, HTTP_CODES.get(status, "bad_request"), detail=data.get("message"), errors=errors,
                   headers=headers)


def internal_problem(error: BaseException) -> Response:
    original = getattr(error, "original_exception", None) or error
    if transient(original):
        # The database went away under this request (or rolled it back) and running it again was not
        # safe or failed again (api/replay.py): the caller may retry; this is not a bug of ours.
        log.warning("database connection lost or transaction rolled back", extra={"error": str(original)[:200]})
        return problem(503, "service_unavailable", headers={"Retry-After": "1"})
    if not isinstance(original, HTTPException):
        log.error("unhandled error", exc_info=(type(original), original, original.__traceback__))
    status = error.code if isinstance(error, HTTPException) and error.code else 500
    return problem(status, HTTP_CODES.get(status, "internal_error"))


def status_of(error: DomainError) -> int:
    return STATUS_OF_CODE[error.code]


def domain_problem(error: DomainError) -> Response:
    return problem(status_of(error), error.code, detail=error.detail, errors=error.errors, headers=error.headers)


def install(app: Flask) -> None:
    app.register_error_handler(DomainError, domain_problem)
    app.register_error_handler(HTTPException, http_problem)
    app.register_error_handler(InternalServerError, internal_problem)
    app.register_error_handler(Exception, internal_problem)
