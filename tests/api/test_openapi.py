"""The OpenAPI document covers every endpoint, with request, response and error schemas."""

from __future__ import annotations

import json
import re

from api.openapi import RESPONSES

# Documentation itself, the stand-ins for the eID provider and the bank, and the admin portal's HTML
# pages (all documented in the README).
UNDOCUMENTED_BLUEPRINTS = {"swagger_assets", "api-docs", "mock_eid", "mock_gateway", "mock_carrier", "portal",
                           "dashboard", "metrics"}  # Prometheus text for the scraper, not the API


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
    attach = spec["paths"]["/api/v1/dossiers/{dossier_id}/attachments"]["post"]["responses"]
    assert attach["422"]["description"].startswith("Unprocessable Entity;")
    assert attach["413"]["description"] == "Request Entity Too Large; `code` is `file_too_large`"


def test_each_error_response_lists_the_problem_codes_of_its_operation(client):
    """The codes an operation can answer, per status, in its own response description and example;
    the codes only some operations answer are listed only there."""
    from api.errors import STATUS_OF_CODE

    spec = client.get("/api/v1/openapi.json").json
    for path, method, operation in operations(spec):
        for status, response in operation["responses"].items():
            problem = "application/problem+json" in response.get("content", {})
            if not status.isdigit() or int(status) < 400 or not problem:
                continue  # (Open311's errors are the specification's own list, not problem details)
            listed = re.findall(r"`(\w+)`", response["description"].partition("`code` is")[2])
            assert listed, (path, method, status)
            assert all(STATUS_OF_CODE[code] == int(status) for code in listed), (path, method, status, listed)
            example = response["content"]["application/problem+json"]["example"]
            assert example["code"] == listed[0] and example["status"] == int(status)
    submit = spec["paths"]["/api/v1/dossiers/{dossier_id}/submit"]["post"]["responses"]
    assert "`missing_documents`" in submit["422"]["description"]
    assert "`idempotency_key_reused`" in submit["422"]["description"]
    assert "`eid_level_insufficient`" in submit["403"]["description"]
    staff = spec["paths"]["/api/v1/admin/dossiers/{dossier_id}/actions"]["post"]["responses"]
    assert "missing_documents" not in staff["422"]["description"]
    assert "eid_level_insufficient" not in staff["403"]["description"]


def operations(spec: dict) -> list[tuple[str, str, dict]]:
    return [(path, method, operation) for path, item in spec["paths"].items() for method, operation in item.items()
            if method in {"get", "post", "put", "patch", "delete"}]


def test_every_operation_has_a_stable_operation_id_and_public_ones_need_no_credentials(app, client):
    from api.routes import GUARDS

    spec = client.get("/api/v1/openapi.json").json
    endpoints = {(openapi_path(rule.rule), method.lower()): rule.endpoint for rule in app.url_map.iter_rules()
                 for method in rule.methods - {"HEAD", "OPTIONS"}}
    ids = [operation["operationId"] for _, _, operation in operations(spec)]
    assert len(ids) == len(set(ids))
    for path, method, operation in operations(spec):
        endpoint = endpoints[(path, method)]
        assert operation["operationId"] == endpoint.replace(".", "_").replace("-", "_"), (path, method)
        if GUARDS[endpoint.partition(".")[0]].public:
            assert operation["security"] == [], (path, method)
        else:
            assert operation["security"] == [{"bearerAuth": []}], (path, method)
    assert spec["paths"]["/api/v1/dossiers/{dossier_id}/submit"]["post"]["operationId"] == "dossiers_submit"


def test_headers_conditional_reads_and_non_json_bodies_are_documented(client):
    spec = client.get("/api/v1/openapi.json").json
    paths, named = spec["paths"], spec["components"]["responses"]
    assert set(spec["components"]["headers"]) == {"X-Request-ID", "ETag", "Location", "Retry-After", "Cache-Control"}
    for _, _, operation in operations(spec):  # X-Request-ID on every answer, inline or named
        for response in operation["responses"].values():
            ref = response.get("$ref", "")
            headers = named[ref.rpartition("/")[2]]["headers"] if ref else response["headers"]
            assert "X-Request-ID" in headers
    assert "Retry-After" in paths["/api/v1/auth/eid"]["post"]["responses"]["429"]["headers"]
    assert "Cache-Control" in paths["/api/v1/public/reports"]["get"]["responses"]["200"]["headers"]
    assert "ETag" in named["NOT_MODIFIED"]["headers"]
    created = paths["/api/v1/dossiers"]["post"]["responses"]["201"]["headers"]
    assert {"ETag", "Location"} <= set(created)
    assert "Location" in paths["/api/v1/dossier-bundles"]["post"]["responses"]["201"]["headers"]
    assert "ETag" in paths["/api/v1/dossiers/{dossier_id}"]["get"]["responses"]["200"]["headers"]
    assert "ETag" in paths["/api/v1/admin/dossiers/{dossier_id}"]["get"]["responses"]["200"]["headers"]
    for path in ("/api/v1/agencies", "/api/v1/procedures", "/api/v1/procedures/{code}",
                 "/api/v1/procedures/{code}/agencies", "/api/v1/procedure-groups"):
        read = paths[path]["get"]
        assert "ETag" in read["responses"]["200"]["headers"] and "304" in read["responses"], path
        assert any(p["name"] == "If-None-Match" and p["in"] == "header" for p in read["parameters"]), path
    assert list(paths["/api/v1/admin/stats.csv"]["get"]["responses"]["200"]["content"]) == ["text/csv"]
    download = paths["/api/v1/dossiers/{dossier_id}/attachments/{attachment_id}"]["get"]["responses"]["200"]
    assert {"application/pdf", "application/octet-stream"} <= set(download["content"])
    assert download["content"]["application/pdf"]["schema"] == {"type": "string", "format": "binary"}


def test_generators_can_type_every_field(client):
    """No untyped property, nullable objects as allOf + nullable (OpenAPI 3.0), no `default: null`,
    and the NUL refusal stated once in the description rather than as a pattern on every string."""
    spec = client.get("/api/v1/openapi.json").json
    for name, schema in spec["components"]["schemas"].items():
        for field, prop in schema.get("properties", {}).items():
            assert {"type", "$ref", "allOf", "oneOf", "anyOf"} & set(prop), (name, field, prop)
            assert not ("default" in prop and prop["default"] is None), (name, field)
    assert spec["components"]["schemas"]["Dossier"]["properties"]["rating"] == {
        "allOf": [{"$ref": "#/components/schemas/Rating"}], "nullable": True}
    token_type = spec["components"]["schemas"]["TokenPair"]["properties"]["token_type"]
    assert token_type["type"] == "string" and token_type["enum"] == ["Bearer"]
    for name in ("Agency", "AdminAgency"):
        assert spec["components"]["schemas"][name]["properties"]["parent_code"]["type"] == "string"
    assert spec["components"]["schemas"]["Staff"]["properties"]["agency_code"]["type"] == "string"
    assert spec["components"]["schemas"]["Procedure"]["properties"]["agency_name"]["type"] == "string"
    assert "u0000" not in json.dumps(spec)
    assert "NUL (U+0000)" in spec["info"]["description"]


def test_links_lead_to_operations_and_their_parameters(client):
    """The flows' OpenAPI links (api/openapi.py LINKS) name real operations and their real parameters."""
    spec = client.get("/api/v1/openapi.json").json
    parameters = {operation["operationId"]: [*spec["paths"][path].get("parameters", []),
                                             *operation.get("parameters", [])]
                  for path, _, operation in operations(spec)}
    links = [link for _, _, operation in operations(spec) for response in operation["responses"].values()
             for link in response.get("links", {}).values()]
    assert len(links) >= 15
    for link in links:
        target = parameters[link["operationId"]]
        names = {f"{p['in']}.{p['name']}" for p in target} | {p["name"] for p in target if p["in"] == "path"}
        assert set(link["parameters"]) <= names, link
