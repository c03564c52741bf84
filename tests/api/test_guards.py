"""Every route declares a guard; roles are enforced; staff are granted by admins and by the CLI."""

from __future__ import annotations

import pytest

from api.routes import GUARDS
from services.people.identity import grant_staff
from tests.helpers import ADMIN, CITIZEN, OFFICIAL, OTHER, bearer, sign_in


def test_every_route_of_the_app_declares_a_guard(app):
    unguarded = [rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.partition(".")[0] not in GUARDS]
    assert unguarded == []


def test_guarded_operations_say_so_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["paths"]["/api/v1/me"]["get"]["security"] == [{"bearerAuth": []}]
    assert "403" in spec["paths"]["/api/v1/admin/staff/{cccd}"]["put"]["responses"]
    assert spec["paths"]["/api/v1/procedures"]["get"]["security"] == []  # public, explicitly
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


@pytest.fixture
def admin(client, session):
    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    return sign_in(client, ADMIN)


def test_only_admins_reach_admin_routes(client, session, admin):
    grant_staff(session, OFFICIAL["cccd"], role="official", agency_code="000.20.17.H15")
    official, citizen = sign_in(client, OFFICIAL), sign_in(client, CITIZEN)
    url = "/api/v1/admin/staff/" + OFFICIAL["cccd"]
    assert client.get(url).status_code == 401
    for tokens in (citizen, official):
        response = client.get(url, headers=bearer(tokens))
        assert response.status_code == 403 and response.json["code"] == "forbidden"
    assert client.get(url, headers=bearer(admin)).json["agency_code"] == "000.20.17.H15"


def test_an_official_sees_their_agency_in_me(client, session):
    grant_staff(session, OFFICIAL["cccd"], role="official", agency_code="000.20.17.H15")
    me = client.get("/api/v1/me", headers=bearer(sign_in(client, OFFICIAL))).json
    assert me["roles"] == ["citizen", "official"] and me["agency_code"] == "000.20.17.H15"


def test_admin_grants_a_role_before_the_first_sign_in(client, admin):
    response = client.put("/api/v1/admin/staff/" + OTHER["cccd"], headers=bearer(admin),
                          json={"role": "official", "agency_code": "000.00.19.H15"})
    assert response.status_code == 200
    assert response.json["role"] == "official" and response.json["agency_code"] == "000.00.19.H15"
    tokens = sign_in(client, OTHER)
    assert tokens["user"]["roles"] == ["citizen", "official"] and tokens["user"]["agency_code"] == "000.00.19.H15"


@pytest.mark.parametrize(("cccd", "body", "status", "code"), [
    ("049192004567", {"role": "official"}, 422, "validation_failed"),
    ("049192004567", {"role": "citizen"}, 422, "validation_failed"),
    ("049192004567", {"role": "superuser", "agency_code": "x"}, 422, "validation_failed"),
    ("12345", {"role": "admin"}, 404, "not_found"),  # not a citizen number: no such resource
    ("999085001234", {"role": "admin"}, 404, "not_found"),  # unknown province code
    ("049192004567", {"role": "official", "agency_code": "000.99.99.H15"}, 404, "not_found"),
    (ADMIN["cccd"], {"role": "official", "agency_code": "000.00.19.H15"}, 409, "conflict"),
])
def test_bad_grants(client, admin, cccd, body, status, code):
    response = client.put(f"/api/v1/admin/staff/{cccd}", headers=bearer(admin), json=body)
    assert response.status_code == status and response.json["code"] == code, response.json


def test_admin_revokes_a_role(client, session, admin):
    grant_staff(session, OFFICIAL["cccd"], role="official", agency_code="000.20.17.H15")
    url = "/api/v1/admin/staff/" + OFFICIAL["cccd"]
    assert client.delete(url, headers=bearer(admin)).status_code == 204
    assert client.delete(url, headers=bearer(admin)).status_code == 404
    assert client.delete("/api/v1/admin/staff/" + ADMIN["cccd"], headers=bearer(admin)).status_code == 409
    assert sign_in(client, OFFICIAL)["user"]["roles"] == ["citizen"]


def test_the_staff_cli_grants_and_revokes(app, client):
    runner = app.test_cli_runner()
    granted = runner.invoke(args=["staff", "grant", OTHER["cccd"], "--role", "official", "--agency", "000.20.24.H15"])
    assert granted.exit_code == 0, granted.output
    assert OTHER["cccd"] not in granted.output and "4567" in granted.output
    assert sign_in(client, OTHER)["user"]["agency_code"] == "000.20.24.H15"
    refused = runner.invoke(args=["staff", "grant", OTHER["cccd"], "--role", "official"])
    assert refused.exit_code != 0 and "agency_code" in refused.output
    assert runner.invoke(args=["staff", "revoke", OTHER["cccd"]]).exit_code == 0
    assert runner.invoke(args=["staff", "revoke", OTHER["cccd"]]).exit_code != 0
