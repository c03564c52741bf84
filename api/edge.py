"""The catalog's edge: a read the app server has already rendered at the current revision is answered
before Flask.

The catalog is the most read part of the API (every phone opens it, half of the time to ask "has it
changed?"), and once `revisioned` (api/catalog.py) has rendered a body, answering it again needs no
routing, request context, hooks, argument parsing or database: only the language, the URL, the
revision and the ETag. This WSGI middleware answers exactly those requests, a 200 from the rendered
cache or a 304, with the same headers, request id, access-log line and metrics as the Flask path (a
test compares the two answers header by header). Anything else goes to Flask, which fills the cache:
another method, a URL not rendered yet, a revision older than its time-to-live (Flask reads it anew).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.http import parse_etags

from api.caching import cache_key, revision_etag
from api.context import KEY, AppState
from api.i18n import negotiate
from api.metrics import count
from api.observability import log_access, request_id

WSGIApp = Callable[..., Any]


class CatalogEdge:
    def __init__(self, app: Flask, inner: WSGIApp, hsts: str) -> None:
        self.app, self.inner, self.hsts = app, inner, hsts

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "GET" and (answer := self.answer(environ)) is not None:
            status, headers, body = answer
            start_response(status, headers)
            return [body]
        return self.inner(environ, start_response)

    def answer(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes] | None:
        started = time.perf_counter()
        state: AppState | None = self.app.extensions.get(KEY)
        revision = state.catalog_revision.fresh() if state is not None else None
        if state is None or revision is None:
            return None
        # The path as werkzeug decodes it (UTF-8 under WSGI's latin-1), so the key is the Flask path's own.
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        key = cache_key(negotiate(environ.get("HTTP_ACCEPT_LANGUAGE")), path, environ.get("QUERY_STRING", ""))
        hit = state.catalog_cache.get(key, revision)
        if hit is None:
            return None
        route, body = hit
        etag = revision_etag(key, revision)
        rid = request_id(environ.get("HTTP_X_REQUEST_ID"))
        headers = [("Cache-Control", "no-cache"), ("Vary", "Accept-Language"), ("ETag", f'"{etag}"'),
                   ("X-Request-ID", rid), ("X-Content-Type-Options", "nosniff")]
        if self.hsts and environ.get("wsgi.url_scheme") == "https":
            headers.append(("Strict-Transport-Security", self.hsts))
        if parse_etags(environ.get("HTTP_IF_NONE_MATCH")).contains(etag):
            status, code, body = "304 NOT MODIFIED", 304, b""
        else:
            status, code = "200 OK", 200
            headers[:0] = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        count(route, "GET", code, started)
        log_access("GET", path, code, started, environ.get("REMOTE_ADDR"))
        return status, headers, body


def install(app: Flask, hsts: str) -> None:
    """Innermost, right around Flask: the proxy fix and the shedder still run first."""
    app.wsgi_app = CatalogEdge(app, app.wsgi_app, hsts)  # type: ignore[method-assign]
