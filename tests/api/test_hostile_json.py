"""JSON that no schema or database can hold is refused at the edge with 422 (or 413), never stored,
never a 500 (issue 17, items 1 and 2)."""

from __future__ import annotations

import pytest

from services.people.identity import grant_staff
from tests.dossier_helpers import SIMPLE, draft
from tests.helpers import ADMIN, CITIZEN, bearer, sign_in

HEADERS = {"Content-Type": "application/json"}


def send(client, method, url, raw, tokens=None):
    headers = {**HEADERS, **(bearer(tokens) if tokens else {})}
    return client.open(url, method=method, data=raw.encode("utf-8") if isinstance(raw, str) else raw,
                       headers=headers)


@pytest.mark.parametrize("raw, path", [
    ('{"form": {"purpose": "\\ud800"}}', "form.purpose"),  # a lone surrogate
    ('{"form": {"purpose": NaN}}', "_schema"),
    ('{"form": {"purpose": Infinity}}', "_schema"),
    ('{"form": {"pages": 1e400}}', "_schema"),
    ('{"form": {"pages": ' + "9" * 5000 + "}}", "_schema"),
    ('{"form": {"\\ud83d": 1}}', "form"),  # in a key
])
def test_unholdable_json_is_422_and_nothing_is_stored(client, raw, path):
    citizen = sign_in(client)
    dossier = draft(client, citizen, papers=False)
    response = send(client, "PATCH", f"/api/v1/dossiers/{dossier['id']}", raw, citizen)
    assert response.status_code == 422 and response.json["code"] == "validation_failed"
    assert path in response.json["errors"]
    after = client.get(f"/api/v1/dossiers/{dossier['id']}", headers=bearer(citizen))
    assert after.status_code == 200 and after.json["form"] == SIMPLE["form"]
    assert client.get("/api/v1/dossiers", headers=bearer(citizen)).status_code == 200


def test_deep_nesting_and_a_surrogate_code_are_422(client):
    citizen = sign_in(client)
    deep = '{"procedure_code": "1.004873", "form": ' + "[" * 1000 + "]" * 1000 + "}"
    assert send(client, "POST", "/api/v1/dossiers", deep, citizen).status_code == 422
    nested = '{"procedure_code": "1.004873", "form": ' + '{"a": ' * 40 + "1" + "}" * 40 + "}"
    assert send(client, "POST", "/api/v1/dossiers", nested, citizen).status_code == 422
    code = send(client, "POST", "/api/v1/dossiers", '{"procedure_code": "\\udc00", "form": {}}', citizen)
    assert code.status_code == 422 and "procedure_code" in code.json["errors"]


def test_nul_deep_in_an_admin_body_and_in_an_eid_name_is_422(client, session):
    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    admin = sign_in(client, ADMIN)
    body = ('{"code": "9.000777", "name": "Thử", "field": "Thử", "agency_code": "000.00.19.H15", '
            '"processing_days": 1, "fee_vnd": 0, "online_level": "full", "min_eid_level": 1, '
            '"description": "", "form_schema": {"type": "object"}, '
            '"required_documents": [{"type": "don", "name": "Đơn\\u0000", "mandatory": true}]}')
    refused = send(client, "POST", "/api/v1/admin/procedures", body, admin)
    assert refused.status_code == 422 and "required_documents[0].name" in refused.json["errors"]
    person = f'"cccd": "{CITIZEN["cccd"]}", "date_of_birth": "{CITIZEN["date_of_birth"]}", "gender": "male"'
    token = send(client, "POST", "/mock-eid/token", '{' + person + ', "full_name": "An\\u0000", "eid_level": 2}')
    assert token.status_code == 422


def test_a_json_body_over_the_limit_is_413_problem_json(client):
    citizen = sign_in(client)
    big = '{"procedure_code": "1.004873", "form": {"purpose": "' + "x" * (300 * 1024) + '"}}'
    response = send(client, "POST", "/api/v1/dossiers", big, citizen)
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
