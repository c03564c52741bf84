"""Property-based tests of every documented operation against the OpenAPI document (in-process).

Schemathesis generates valid and invalid requests per operation and runs its default checks: no
5xx, responses and content types that conform to the document, status codes it declares.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from schemas.common import encode_cursor
from services import seed_data

# `format: cursor` means "a next_cursor this API handed out"; generate such cursors (a page key).
schemathesis.openapi.format(
    "cursor", st.sampled_from([p["code"] for p in seed_data.PROCEDURES]).map(lambda code: encode_cursor((code,)))
)
schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def api_schema(app, session):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case):
    case.call_and_validate()
