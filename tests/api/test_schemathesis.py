"""Property-based tests of every documented operation against the OpenAPI document (in-process).

Schemathesis generates valid and invalid requests per operation and runs its default checks: no
5xx, responses and content types that conform to the document, status codes it declares. It runs
twice: anonymously, and as a signed-in admin (who may call every operation), so the guarded
operations are exercised past their 401.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from schemas.common import encode_cursor
from services.people.identity import grant_staff
from services.province import catalog_file
from tests.helpers import ADMIN, sign_in

# `format: cursor` means "a next_cursor this list handed out"; generate such cursors (a page key).
CODES = [p["code"] for p in catalog_file.read()["procedures"]]
schemathesis.openapi.format("cursor", st.sampled_from(CODES).map(lambda code: encode_cursor((code,))))
schemathesis.openapi.format(
    "dossier-cursor",
    st.tuples(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
              st.uuids()).map(lambda key: encode_cursor((key[0].isoformat(), str(key[1])))),
)
schema = schemathesis.pytest.from_fixture("api_schema")

# Rules OpenAPI 3.0 cannot state answer 422 to some schema-valid requests: a statistics range
# (from ≤ to, at most 3 years), a procedure's form_schema being itself a valid JSON Schema, unique
# document types. Only on these operations is "valid data is accepted" not checked.
# Field reports: a location inside the province, a photo for some categories, a bbox west < east and
# south < north at most 0.5° a side, a new category's required fields.
CROSS_FIELD = {"/api/v1/admin/stats", "/api/v1/admin/stats.csv", "/api/v1/admin/stats/weekly",
               "/api/v1/admin/procedures", "/api/v1/admin/procedures/{code}",
               "/api/v1/reports", "/api/v1/public/reports", "/api/v1/admin/report-categories/{code}",
               "/open311/v2/requests.json", "/api/v1/admin/stats/reports", "/api/v1/admin/stats/reports.csv"}


def excluded(case) -> list:
    return [positive_data_acceptance] if case.operation.path in CROSS_FIELD else []


NO_NUL = "^[^\\u0000]*$"


def without_nul(node: object) -> None:
    """The document says once, in its description, that text never holds NUL (422); state it on each
    free text schema for the generator, so that its "valid" strings are valid."""
    if isinstance(node, dict):
        if node.get("type") == "string" and not {"pattern", "format", "enum"} & set(node):
            node["pattern"] = NO_NUL
        for value in node.values():
            without_nul(value)
    elif isinstance(node, list):
        for value in node:
            without_nul(value)


@pytest.fixture
def api_schema(app, client, session):
    document = client.get("/api/v1/openapi.json").json
    without_nul(document)
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = app
    return loaded


@pytest.fixture
def admin_headers(client, session):
    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    return {"Authorization": f"Bearer {sign_in(client, ADMIN)['access_token']}"}


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document_anonymously(case):
    case.call_and_validate(excluded_checks=excluded(case))


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document_as_admin(case, admin_headers):
    # A real token where schemathesis means to authenticate; its "no credentials" cases stay so.
    case.call_and_validate(headers=admin_headers if "Authorization" in (case.headers or {}) else None,
                           excluded_checks=excluded(case))
