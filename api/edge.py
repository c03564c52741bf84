"""The WSGI edge: reads the app server can answer from what it already holds, before Flask.

The catalog is the most read part of the API (every phone opens it, half of the time to ask "has it
changed?"), and once `revisioned` (api/catalog.py) has rendered a body, answering it again needs no
routing, request context, hooks, argument parsing or database: only the language, the URL, the
revision and the ETag. A citizen's own dossier, inbox and unread count, and an official's queue, are
read as often; their edge answers (api/edge_reads.py) need one statement and kept renderings. This
middleware answers exactly those requests
with the same headers, request id, access-log line and metrics as the Flask path (tests compare the
two answers header by header). Anything else goes to Flask, which answers it fully and fills the
caches: another method, a URL or a revision not rendered yet, a token or session not checked recently.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from flask import Flask
from werkzeug.http import parse_etags

from api import edge_reads
from api.caching import cache_key, revision_etag
from api.context import KEY, AppState
from api.edge_reads import Answer
from api.i18n import negotiate
from api.metrics import count
from api.observability import log_access, request_id

WSGIApp = Callable[..., Any]
Answerer = Callable[[AppState, dict[str, Any], str], Answer | None]
STATUS_LINES = {200: "200 OK", 304: "304 NOT MODIFIED"}


def catalog(state: AppState, environ: dict[str, Any], path: str) -> Answer | None:
    revision = state.catalog_revision.fresh()
    if revision is None:
        return None
    key = cache_key(negotiate(environ.get("HTTP_ACCEPT_LANGUAGE")), path, environ.get("QUERY_STRING", ""))
    hit = state.catalog_cache.get(key, revision)
    if hit is None:
        return None
    route, body = hit
    etag = revision_etag(key, revision)
    headers = [("Cache-Control", "no-cache"), ("Vary", "Accept-Language"), ("ETag", f'"{etag}"')]
    if parse_etags(environ.get("HTTP_IF_NONE_MATCH")).contains(etag):
        return 304, headers, b"", route
    return 200, headers, body, route


class Edge:
    def __init__(self, app: Flask, inner: WSGIApp, hsts: str, answerers: Sequence[Answerer]) -> None:
        self.app, self.inner, self.hsts, self.answerers = app, inner, hsts, answerers

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        state: AppState | None = self.app.extensions.get(KEY)
        if environ.get("REQUEST_METHOD") == "GET" and state is not None:
            started = time.perf_counter()
            # The path as werkzeug decodes it (UTF-8 under WSGI's latin-1), so keys are the Flask path's own.
            path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
            for answerer in self.answerers:
                if (answer := answerer(state, environ, path)) is not None:
                    return self.send(answer, environ, start_response, path, started)
        return self.inner(environ, start_response)

    def send(self, answer: Answer, environ: dict[str, Any], start_response: Callable[..., Any], path: str,
             started: float) -> Iterable[bytes]:
        code, headers, body, route = answer
        rid = request_id(environ.get("HTTP_X_REQUEST_ID"))
        headers = [*headers, ("X-Request-ID", rid), ("X-Content-Type-Options", "nosniff")]
        if self.hsts and environ.get("wsgi.url_scheme") == "https":
            headers.append(("Strict-Transport-Security", self.hsts))
        if code == 200:
            headers[:0] = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        count(route, "GET", code, started)
        log_access("GET", path, code, started, environ.get("REMOTE_ADDR"), rid)
        start_response(STATUS_LINES[code], headers)
        return [body]


def install(app: Flask, hsts: str) -> None:
    """Innermost, right around Flask: the proxy fix and the shedder still run first."""
    app.wsgi_app = Edge(app, app.wsgi_app, hsts,  # type: ignore[method-assign]
                        (catalog, edge_reads.own_dossier, edge_reads.unread, edge_reads.inbox_page, edge_reads.queue))
