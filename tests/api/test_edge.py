"""The catalog's edge (api/edge.py) answers a rendered catalog read before Flask: the same status, body
and headers as Flask's own answer, counted and logged the same, and nothing it has not seen rendered."""

from __future__ import annotations

import logging
from contextlib import contextmanager

from flask import request_started

from api.context import state_of
from api.metrics import REQUESTS


@contextmanager
def edge_on(app):
    """The tests read the catalog revision on every request (ttl 0), which keeps the edge out; here it
    is kept for a minute, as a server keeps it for a second."""
    revision = state_of(app).catalog_revision
    revision.expire()  # what an earlier test's rolled-back catalog edit left
    state_of(app).catalog_cache.clear()
    ttl, revision.ttl = revision.ttl, 60.0
    try:
        yield
    finally:
        revision.ttl = ttl


@contextmanager
def reaching_flask(app):
    seen: list[str] = []

    def started(sender, **_):
        seen.append("flask")

    request_started.connect(started, app)
    try:
        yield seen
    finally:
        request_started.disconnect(started, app)


def test_the_edge_answers_as_flask_does(app, client, caplog):
    url = "/api/v1/procedures?limit=3"
    headers = {"X-Request-ID": "edge-test-1", "Accept-Language": "en"}
    with edge_on(app), reaching_flask(app) as seen:
        by_flask = client.get(url, headers=headers)
        assert seen == ["flask"] and by_flask.status_code == 200
        before = REQUESTS.labels("/api/v1/procedures", "GET", "200")._value.get()
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="smartqn.access"):
            by_edge = client.get(url, headers=headers)
        assert seen == ["flask"], "the second read never reached Flask"
        assert by_edge.get_data() == by_flask.get_data()
        assert sorted(by_edge.headers.items()) == sorted(by_flask.headers.items())
        assert REQUESTS.labels("/api/v1/procedures", "GET", "200")._value.get() == before + 1
        logged = [r for r in caplog.records if r.name == "smartqn.access"]
        assert [(r.method, r.path, r.status) for r in logged] == [("GET", "/api/v1/procedures", 200)]

        conditional = {**headers, "If-None-Match": by_flask.headers["ETag"]}
        not_modified = client.get(url, headers=conditional)
        assert seen == ["flask"] and not_modified.status_code == 304 and not_modified.get_data() == b""
        state_of(app).catalog_revision.ttl = 0.0  # now Flask answers the same 304
        flask_304 = client.get(url, headers=conditional)
        assert seen == ["flask", "flask"] and flask_304.status_code == 304
        assert sorted(not_modified.headers.items()) == sorted(flask_304.headers.items())


def test_the_edge_serves_only_what_was_rendered_for_that_language_and_url(app, client):
    with edge_on(app), reaching_flask(app) as seen:
        client.get("/api/v1/procedures?limit=3")
        client.get("/api/v1/procedures?limit=3")
        assert seen == ["flask"]
        english = client.get("/api/v1/procedures?limit=3", headers={"Accept-Language": "en"})
        other = client.get("/api/v1/procedures?limit=4")
        head = client.head("/api/v1/procedures?limit=3")
        assert seen == ["flask"] * 4 and {english.status_code, other.status_code, head.status_code} == {200}
        client.get("/api/v1/procedures/%C4%91")  # "đ", a 404: not rendered, never cached
        assert client.get("/api/v1/procedures/%C4%91").status_code == 404 and seen.count("flask") == 6
        assert client.get("/api/v1/procedures/%C3%84%C2%91").status_code == 404  # "Ä\x91": another URL
