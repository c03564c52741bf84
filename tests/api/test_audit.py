"""The audit trail: staff actions recorded with who, when, what and from where; read-only for admins."""

from __future__ import annotations

import pytest

from services.people.identity import grant_staff
from tests.dossier_helpers import act, official_of, submitted
from tests.helpers import ADMIN, OTHER, bearer, sign_in


@pytest.fixture
def admin(client, session):
    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    return sign_in(client, ADMIN)


def test_official_actions_and_role_grants_are_recorded(client, session, admin):
    citizen = sign_in(client)
    official = official_of(client, session)
    dossier = submitted(client, citizen)
    client.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    try:
        act(client, official, dossier["id"], "receive")
        act(client, official, dossier["id"], "request_supplement", note="Thiếu tờ khai")
        client.put(f"/api/v1/admin/staff/{OTHER['cccd']}", headers={**bearer(admin), "X-Request-ID": "grant-1"},
                   json={"role": "official", "agency_code": "000.00.19.H15"})
    finally:
        client.environ_base.pop("REMOTE_ADDR", None)
    entries = client.get("/api/v1/admin/audit", headers=bearer(admin)).json["items"]
    assert [e["action"] for e in entries[:3]] == ["staff.grant", "dossier.request_supplement", "dossier.receive"]
    grant, supplement, receive = entries[:3]
    assert grant["origin"] == "203.0.113.7 req=grant-1" and grant["actor_role"] == "admin"
    assert grant["target_id"] == "********4567" and grant["details"] == {"role": "official",
                                                                        "agency_code": "000.00.19.H15"}
    assert supplement["details"]["note"] == "Thiếu tờ khai" and supplement["target_id"] == dossier["code"]
    assert receive["details"]["from"] == "submitted" and receive["details"]["to"] == "received"
    assert receive["actor_id"] == official["user"]["id"] and receive["origin"].startswith("203.0.113.7 req=")


def test_citizen_actions_are_not_staff_actions(client, admin):
    citizen = sign_in(client)
    dossier = submitted(client, citizen)
    client.post(f"/api/v1/dossiers/{dossier['id']}/withdraw", headers=bearer(citizen))
    assert client.get("/api/v1/admin/audit", headers=bearer(admin),
                      query_string={"target_id": dossier["code"]}).json["items"] == []


def test_filters_and_pages(client, session, admin):
    citizen, official = sign_in(client), official_of(client, session)
    ids = [submitted(client, citizen)["id"] for _ in range(3)]
    for dossier_id in ids:
        act(client, official, dossier_id, "receive")
    first = client.get("/api/v1/admin/audit?limit=2&action=dossier.receive", headers=bearer(admin)).json
    rest = client.get(f"/api/v1/admin/audit?limit=2&action=dossier.receive&cursor={first['next_cursor']}",
                      headers=bearer(admin)).json
    assert len(first["items"]) == 2 and len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert {e["action"] for e in first["items"] + rest["items"]} == {"dossier.receive"}
    by_actor = client.get("/api/v1/admin/audit", headers=bearer(admin),
                          query_string={"actor_id": official["user"]["id"]}).json["items"]
    assert len(by_actor) == 3


def test_only_admins_read_it_and_nobody_edits_it(client, session, admin):
    official = official_of(client, session)
    assert client.get("/api/v1/admin/audit", headers=bearer(official)).status_code == 403
    assert client.delete("/api/v1/admin/audit", headers=bearer(admin)).status_code == 405
    assert client.post("/api/v1/admin/audit", headers=bearer(admin), json={}).status_code == 405


def test_the_cli_grant_is_recorded_as_from_the_cli(app, client, admin):
    app.test_cli_runner().invoke(args=["staff", "grant", OTHER["cccd"], "--role", "admin"])
    entry = client.get("/api/v1/admin/audit", headers=bearer(admin), query_string={"action": "staff.grant"}).json
    assert entry["items"][0]["origin"] == "cli" and entry["items"][0]["actor_role"] == "cli"
