"""Property-based tests of every documented operation against the OpenAPI document (in-process).

Schemathesis generates valid and invalid requests per operation and runs its default checks: no
5xx, responses and content types that conform to the document, status codes it declares. It runs
twice: anonymously, and as a signed-in admin (who may call every operation), so the guarded
operations are exercised past their 401.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from services.people.identity import grant_staff
from tests.helpers import ADMIN, sign_in
from tests.schemathesis_helpers import CROSS_FIELD, without_nul

schema = schemathesis.pytest.from_fixture("api_schema")


def excluded(case) -> list:
    return [positive_data_acceptance] if case.operation.path in CROSS_FIELD else []


@pytest.fixture
def api_schema(app, client, session):
    document = client.get("/api/v1/openapi.json").json
    without_nul(document)
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = app
    return loaded


# The WSGI transport hands back the bytes as sent, undecoded, while its requests-style defaults ask for
# gzip, which the public map honours (over HTTP, tests/api/test_schemathesis_http.py, requests decodes it).
PLAIN = {"Accept-Encoding": "identity"}


@pytest.fixture
def admin_headers(client, session):
    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    return {"Authorization": f"Bearer {sign_in(client, ADMIN)['access_token']}"}


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document_anonymously(case):
    case.call_and_validate(headers=PLAIN, excluded_checks=excluded(case))


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document_as_admin(case, admin_headers):
    # A real token where schemathesis means to authenticate; its "no credentials" cases stay so.
    case.call_and_validate(headers={**PLAIN, **(admin_headers if "Authorization" in (case.headers or {}) else {})},
                           excluded_checks=excluded(case))
