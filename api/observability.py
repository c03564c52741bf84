"""Request ids, structured JSON logs (CCCDs masked) and one access-log line per request."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
# A citizen number (12 digits) anywhere in a log line keeps only its last 4 digits; so does any
# longer run of digits, which might hide one.
DIGIT_RUN = re.compile(r"\d{12,}")
access_log = logging.getLogger("smartqn.access")

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id"}


def _mask_run(match: re.Match[str]) -> str:
    run = match.group()
    return "*" * (len(run) - 4) + run[-4:]


def mask(text: str) -> str:
    return DIGIT_RUN.sub(_mask_run, text)


class JsonFormatter(logging.Formatter):
    _second: int = -1
    _second_text: str = ""

    def _timestamp(self, created: float) -> str:
        second = int(created)
        if second != self._second:  # formatting a date is slow; do it once a second
            self._second_text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = second
        return f"{self._second_text}.{int((created - second) * 1000):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {"msg": record.getMessage()}
        extra = record.__dict__
        for key in extra.keys() - _RESERVED:
            fields[key] = extra[key]
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        # Personal data hides in messages and fields, never in the envelope (a hex request id may
        # well hold a run of 12 digits), so only the fields are masked.
        body = mask(json.dumps(fields, ensure_ascii=False, default=str))
        request_id = getattr(record, "request_id", None)
        if request_id is None and has_request_context():
            request_id = g.get("request_id")
        envelope = {"ts": self._timestamp(record.created), "level": record.levelname, "logger": record.name}
        if request_id:
            envelope["request_id"] = request_id
        return json.dumps(envelope, ensure_ascii=False)[:-1] + ", " + body[1:]


def configure_logging(level: str) -> None:
    # Our lines carry no file/line, so skip the stack walk logging does for every record.
    logging._srcfile = None
    # The process id stays: gunicorn's own lines (worker exits among them) are formatted with %(process)d.
    logging.logMultiprocessing = logging.logThreads = False
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.handlers = [handler]
    root.setLevel(level.upper())
    # The development server (flask run) logs every request itself, and its banner, at INFO; our access
    # log already writes one JSON line per request, so werkzeug keeps to warnings and errors.
    if access_log.isEnabledFor(logging.INFO):
        logging.getLogger("werkzeug").setLevel(logging.WARNING)


def request_id(incoming: str | None) -> str:
    """The caller's own request id when it is a sane one, else a new one."""
    return incoming if incoming and REQUEST_ID.match(incoming) else os.urandom(16).hex()


def log_access(method: str, path: str, status: int, started: float | None, remote_addr: str | None,
               rid: str | None = None) -> None:
    """The one JSON access-log line of a request (Flask's hook and the WSGI edge, which has no request
    context and names the request id itself, both write it)."""
    if access_log.isEnabledFor(logging.INFO):
        access_log.info("request", extra={
            "method": method, "path": path, "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
            "remote_addr": remote_addr, **({"request_id": rid} if rid else {}),
        })


def install(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.request_id = request_id(request.headers.get("X-Request-ID"))
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        state = g._get_current_object()
        response.headers["X-Request-ID"] = state.get("request_id") or request_id(None)
        req = request._get_current_object()  # type: ignore[attr-defined]
        log_access(req.method, req.path, response.status_code, state.get("started"), req.remote_addr)
        return response
