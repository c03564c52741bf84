"""Overload shedding: a request that waited too long before a worker took it is answered 503 at once.

Why a queue-time check in the app: gunicorn's sync workers take one request each, so an in-process
in-flight counter is always 1 and says nothing; past the knee the waiting happens in the listen backlog
(or the proxy), where the app cannot count it, and a bounded backlog only turns the excess into
refused or timed-out connections, not answers. The proxy in front (nginx: `proxy_set_header
X-Request-Start "t=${msec}";`) stamps when it accepted the request; a worker that picks it up more
than SMARTQN_SHED_QUEUE_MS later (default 100) answers 503 problem+json `service_unavailable` with
`Retry-After` from a WSGI middleware, before Flask, authentication or the database, so the backlog
drains at the speed of a 503 and the requests that are served keep their latency. Health and metrics
endpoints are never shed. Without the header (no proxy, the tests) nothing is shed.

This is the second line. Far past the knee even a cheap 503 from a worker costs its accept, parse and
answer (about 0.3 ms of a core), and the workers spend the box turning a backlog away: on one core,
offered twice what it serves, goodput fell to two thirds of the knee's, and at 2.7 times to under half.
So the proxy admits at most `max_conns` requests into the app and answers the rest itself with the
same 503 (deploy/nginx/smartqn-app.conf; bench/README.md, round 3, session 11).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any, cast

from flask import Flask

from api.i18n import negotiate, problem_text
from api.observability import request_id

WSGIApp = Callable[..., Any]

EXEMPT = ("/healthz", "/readyz", "/metrics")


def queued_ms(header: str, now: float) -> float | None:
    """Milliseconds since the proxy's stamp: `t=<seconds with a fraction>` (nginx's $msec), or
    `t=<microseconds>` / `<milliseconds>` as other proxies send it."""
    raw = header[2:] if header.startswith("t=") else header
    try:
        stamp = float(raw)
    except ValueError:
        return None
    if stamp > 1e14:  # microseconds
        stamp /= 1e6
    elif stamp > 1e11:  # milliseconds
        stamp /= 1e3
    return (now - stamp) * 1000


class Shedder:
    """WSGI middleware in front of Flask: a shed request never reaches the app (no request context, hooks,
    authentication or database), so shedding costs a fraction of serving and the backlog of stale requests
    drains fast. Measured in bench/mixed.py: shedding inside a Flask before_request hook cost enough that
    past the knee the workers spent their time shedding and goodput fell to a fifth of the knee's."""

    def __init__(self, app: WSGIApp, max_queue_ms: int, retry_after: int = 1) -> None:
        self.app, self.max_queue_ms, self.retry_after = app, max_queue_ms, str(retry_after)
        self.bodies = {lang: self._body(lang) for lang in ("vi", "en")}

    @staticmethod
    def _body(lang: str) -> str:
        title, detail = problem_text("service_unavailable", lang)
        body = {"type": "about:blank", "title": title, "status": 503, "detail": detail,
                "code": "service_unavailable", "request_id": "@ID@"}
        return json.dumps(body, ensure_ascii=False)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        header = environ.get("HTTP_X_REQUEST_START")
        if header and not environ.get("PATH_INFO", "").startswith(EXEMPT):
            waited = queued_ms(header, time.time())
            if waited is not None and waited > self.max_queue_ms:
                lang = negotiate(environ.get("HTTP_ACCEPT_LANGUAGE"))
                rid = request_id(environ.get("HTTP_X_REQUEST_ID"))
                body = self.bodies.get(lang, self.bodies["vi"]).replace("@ID@", rid).encode()
                start_response("503 SERVICE UNAVAILABLE", [
                    ("Content-Type", "application/problem+json"), ("Content-Length", str(len(body))),
                    ("Retry-After", self.retry_after), ("X-Request-ID", rid),
                    ("X-Content-Type-Options", "nosniff"), ("Cache-Control", "no-store")])
                return [body]
        return cast(Iterable[bytes], self.app(environ, start_response))


def install(app: Flask, max_queue_ms: int, retry_after: int = 1) -> None:
    if max_queue_ms > 0:
        app.wsgi_app = Shedder(app.wsgi_app, max_queue_ms, retry_after)  # type: ignore[method-assign]
