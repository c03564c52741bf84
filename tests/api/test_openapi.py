"""The OpenAPI document covers every endpoint, with request, response and error schemas."""

from __future__ import annotations

import json
import re

from api.openapi import RESPONSES

# Documentation itself, the stand-ins for the eID provider and the bank, and the admin portal's HTML
# pages (all documented in the README).
UNDOCUMENTED_BLUEPRINTS = {"swagger_assets", "api-docs", "mock_eid", "mock_gateway", "portal", "dashboard",
                           "metrics"}  # Prometheus text for the scraper, not the API


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule)


def test_every_route_is_documented_with_problem_errors(app, client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    for rule in app.url_map.iter_rules():
        if rule.endpoint.partition(".")[0] in UNDOCUMENTED_BLUEPRINTS:
            continue
        path = openapi_path(rule.rule)
        assert path in spec["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = spec["paths"][path][method.lower()]
            responses = operation["responses"]
            assert any(code.startswith("2") for code in responses), (path, method)
            assert "default" in responses, (path, method)
            if operation.get("security"):
                assert "401" in responses, (path, method)
    default = spec["components"]["responses"]["DEFAULT_ERROR"]
    assert list(default["content"]) == ["application/problem+json"]


def test_swagger_ui_is_served_without_a_cdn(client):
    page = client.get("/docs")
    assert page.status_code == 200 and b"swagger-ui" in page.data
    assert b"cdn" not in page.data.lower()
    assert b"/docs/assets/swagger-ui-bundle.js" in page.data
    asset = client.get("/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000


def test_the_document_does_not_depend_on_the_python_version(client):
    """Python 3.13 renamed HTTPStatus 413 and 422; every named response is ours (api/openapi.py) and
    every reference resolves, on any interpreter (.ci/run also compares the 3.11 and 3.13 documents)."""
    spec = client.get("/api/v1/openapi.json").json
    text = json.dumps(spec)
    for kind, name in set(re.findall(r'"#/components/(\w+)/([^"]+)"', text)):
        assert name in spec["components"][kind], f"dangling $ref to {kind}/{name}"
    named = spec["components"]["responses"]
    assert set(named) <= {name for name, _ in RESPONSES.values()} | {"DEFAULT_ERROR"}
    assert named["UNPROCESSABLE_ENTITY"]["description"] == "Unprocessable Entity"
    assert named["REQUEST_ENTITY_TOO_LARGE"]["description"] == "Request Entity Too Large"
