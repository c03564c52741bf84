"""Cross-cutting behaviour: problem+json everywhere, languages, request ids, logs, probes."""

from __future__ import annotations

import io
import json
import logging
import urllib.request

import pytest
from flask import Blueprint

from api import create_app, routes
from api.guards import PUBLIC
from api.observability import JsonFormatter
from services.settings import Settings


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    body = response.json
    assert {"type", "title", "status", "detail", "code", "request_id"} <= set(body)
    assert body["status"] == status and body["code"] == code
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


def test_unknown_route_is_problem_404_not_html(client):
    assert_problem(client.get("/nowhere", headers={"Accept": "text/html"}), 404, "not_found")
    assert_problem(client.get("/api/v1/nowhere"), 404, "not_found")


def test_wrong_method_is_problem_405_with_allow(client):
    response = client.delete("/api/v1/procedures")
    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_titles_are_vietnamese_by_default_and_english_on_request(client):
    vi = client.get("/api/v1/procedures/x").json
    en = client.get("/api/v1/procedures/x", headers={"Accept-Language": "en-US,en;q=0.9"}).json
    assert vi["title"] == "Không tìm thấy" and en["title"] == "Not found"
    fr = client.get("/api/v1/procedures/x", headers={"Accept-Language": "fr, en;q=0.5"}).json
    assert fr["title"] == "Not found"
    prefers_vi = client.get("/api/v1/procedures/x", headers={"Accept-Language": "en;q=0.3, vi"}).json
    assert prefers_vi["title"] == "Không tìm thấy"


def test_422_lists_every_failing_field(client):
    body = assert_problem(client.get("/api/v1/procedures?limit=0&q=" + "x" * 300), 422, "validation_failed")
    assert set(body["errors"]) == {"limit", "q"}


def test_request_id_is_echoed_or_generated(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) == 32
    hostile = client.get("/healthz", headers={"X-Request-ID": "a b<c>" + "x" * 300}).headers["X-Request-ID"]
    assert hostile != "a b<c>" + "x" * 300 and len(hostile) == 32


@pytest.fixture
def log_lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def test_logs_are_json_with_the_request_id_and_masked_cccd(client, log_lines):
    client.get("/api/v1/procedures/001203012345", headers={"X-Request-ID": "trace-me"})
    access = [e for e in log_lines() if e["logger"] == "smartqn.access"]
    assert access and access[-1]["request_id"] == "trace-me" and access[-1]["status"] == 404
    assert access[-1]["path"] == "/api/v1/procedures/********2345"


def test_a_request_served_over_http_is_logged_once(app, settings, log_lines):
    # werkzeug's development server (make run) logs each request itself; ours is the one JSON access line.
    with urllib.request.urlopen(f"{settings.base_url}/healthz", timeout=5) as response:
        assert response.status == 200
    lines = log_lines()
    assert not [e for e in lines if e["logger"] == "werkzeug"]
    assert len([e for e in lines if e.get("path") == "/healthz"]) == 1
    assert logging.getLogger("werkzeug").getEffectiveLevel() >= logging.WARNING


def test_request_ids_made_of_digits_are_not_masked(client, log_lines):
    client.get("/healthz", headers={"X-Request-ID": "1234567890123456"})
    assert log_lines()[-1]["request_id"] == "1234567890123456"


@pytest.fixture
def failing_app(make_app, monkeypatch):
    monkeypatch.setitem(routes.GUARDS, "boom", PUBLIC)
    app = make_app()
    blueprint = Blueprint("boom", __name__)

    @blueprint.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    app.register_blueprint(blueprint)
    return app


def test_unexpected_error_is_a_logged_500_that_reveals_nothing(failing_app, log_lines):
    response = failing_app.test_client().get("/boom", headers={"Accept-Language": "en"})
    body = assert_problem(response, 500, "internal_error")
    assert "secret" not in response.get_data(as_text=True)
    assert body["title"] == "Internal server error"
    errors = [e for e in log_lines() if e["logger"] == "smartqn.errors"]
    assert errors and "secret internals" in errors[-1]["exc"] and errors[-1]["request_id"] == body["request_id"]


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ok", "checks": {"database": "ok"}}


def test_readyz_is_503_when_the_database_is_unreachable(settings):
    broken = Settings.from_env({}, env="test", instance_dir=settings.instance_dir,
                               database_url="postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    app = create_app(broken)
    assert_problem(app.test_client().get("/readyz"), 503, "service_unavailable")
    assert app.test_client().get("/healthz").status_code == 200


def test_nul_characters_are_refused_before_they_reach_the_database(client):
    from tests.helpers import bearer, sign_in

    tokens = sign_in(client)
    response = client.post("/api/v1/dossier-bundles", headers=bearer(tokens),
                           json={"group_code": "LT\x00", "form": {"a": ["ok", "b\x00"]}})
    assert response.status_code == 422 and set(response.json["errors"]) == {"group_code"}
    assert client.get("/api/v1/procedures?q=th%00").status_code == 422
    assert client.get("/api/v1/dossiers/%00", headers=bearer(tokens)).status_code == 404
    assert client.get("/api/v1/procedures/1.0%00").status_code == 404


def test_every_domain_error_has_a_status_and_titles_in_both_languages(app):
    from api.errors import STATUS_OF_CODE
    from api.i18n import PROBLEMS
    from services.errors import DomainError

    def subclasses(cls: type) -> list[type]:
        return [cls, *[s for sub in cls.__subclasses__() for s in subclasses(sub)]]

    codes = {cls.code for cls in subclasses(DomainError)}
    assert {"invalid_grant", "not_found", "payment_required"} <= codes
    assert codes <= set(STATUS_OF_CODE) and codes <= set(PROBLEMS)
    assert all(PROBLEMS[c][0] != PROBLEMS["internal_error"][0] for c in codes)
