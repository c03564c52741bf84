"""What both schemathesis runs (in process, tests/api/test_schemathesis.py; over HTTP,
tests/api/test_schemathesis_http.py) need: generators for our formats, NUL-free text, and the
operations whose schema-valid requests business rules may refuse."""

from __future__ import annotations

from datetime import UTC, datetime

import schemathesis
from hypothesis import strategies as st

from schemas.common import encode_cursor
from services.province import catalog_file

# `format: cursor` means "a next_cursor this list handed out"; generate such cursors (a page key).
CODES = [p["code"] for p in catalog_file.read()["procedures"]]
schemathesis.openapi.format("cursor", st.sampled_from(CODES).map(lambda code: encode_cursor((code,))))
schemathesis.openapi.format(
    "dossier-cursor",
    st.tuples(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
              st.uuids()).map(lambda key: encode_cursor((key[0].isoformat(), str(key[1])))),
)

# Rules OpenAPI 3.0 cannot state answer 422 to some schema-valid requests: a statistics range
# (from ≤ to, at most 3 years), a procedure's form_schema being itself a valid JSON Schema, unique
# document types, a CCCD that agrees with the birth date and gender, a wallet paper's document type
# from the catalog and its expiry not before its issue. Only on these operations is "valid data is
# accepted" not checked. Field reports: a location inside the province, a photo for some categories, a
# bbox west < east and south < north at most 0.5° a side, a new category's required fields. A webhook's
# URL must name a public host (resolved), written plainly, that is not this server.
CROSS_FIELD = {"/api/v1/admin/webhooks", "/api/v1/admin/webhooks/{webhook_id}",
               "/api/v1/admin/stats", "/api/v1/admin/stats.csv", "/api/v1/admin/stats/weekly",
               "/api/v1/admin/procedures", "/api/v1/admin/procedures/{code}", "/mock-eid/token",
               "/api/v1/me/wallet", "/api/v1/reports", "/api/v1/public/reports",
               "/api/v1/admin/report-categories/{code}", "/open311/v2/requests.json", "/api/v1/admin/stats/reports",
               "/api/v1/admin/stats/reports.csv"}
# Signed in, more rules apply that depend on stored data, not on the request's shape: the agency must
# be competent for the procedure, a paper's type one the procedure asks for, the form valid against
# the procedure's own form_schema at submit, an agency's parent must exist.
STORED_RULES = CROSS_FIELD | {"/api/v1/dossiers", "/api/v1/dossiers/{dossier_id}/attachments",
                              "/api/v1/dossiers/{dossier_id}/submit", "/api/v1/dossiers/{dossier_id}/resubmit",
                              "/api/v1/dossier-bundles", "/api/v1/dossier-bundles/{bundle_id}/submit",
                              "/api/v1/admin/agencies", "/api/v1/admin/agencies/{code}",
                              "/api/v1/admin/announcements", "/api/v1/admin/dossiers/{dossier_id}/actions"}

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
