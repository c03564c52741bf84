"""Events out (issue 15): the event log written with the change, and the webhook subscriptions admins
keep. Their delivery is in test_webhooks_delivery.py, the addresses they may call in
test_webhooks_security.py; the shared fixtures in conftest.py."""

from __future__ import annotations

import pytest

from tests.api.conftest import ALL, events_of, subscribe
from tests.dossier_helpers import act, official_of, submitted
from tests.helpers import bearer

pytestmark = pytest.mark.usefixtures("_only_this_tests_events")


# --- the event log --------------------------------------------------------------------------------

def test_each_move_writes_one_event_in_its_transaction_with_a_growing_sequence(client, session, citizen):
    dossier = submitted(client, citizen)
    official = official_of(client, session)
    assert act(client, official, dossier["id"], "receive").status_code == 200
    assert act(client, official, dossier["id"], "start_processing").status_code == 200
    events = events_of(session, dossier["id"])
    assert [(str(e.type), e.data["status"], e.data["national_status"]) for e in events] == [
        ("dossier.submitted", "submitted", 1), ("dossier.status_changed", "received", 2),
        ("dossier.status_changed", "in_progress", 4)]
    sequences = [e.sequence for e in events]
    assert sequences == sorted(set(sequences))
    assert all(e.user_id == events[0].user_id and e.agency_id for e in events)
    assert "full_name" not in str(events[0].data) and events[0].data["code"] == dossier["code"]


def test_a_transfer_writes_dossier_transferred_seen_by_both_agencies(client, session, citizen):
    hoi_an, tam_ky = "000.20.24.H15", "000.20.17.H15"
    centre = official_of(client, session, agency=hoi_an)
    dossier = submitted(client, citizen)
    act(client, centre, dossier["id"], "receive")
    assert act(client, centre, dossier["id"], "transfer", agency_code=tam_ky).status_code == 200
    moved = events_of(session, dossier["id"])[-1]
    assert moved.type == "dossier.transferred" and moved.data["from_agency_code"] == hoi_an
    assert moved.data["agency_code"] == tam_ky and moved.agency_id != moved.centre_id


def test_a_refused_move_writes_no_event(client, session, citizen):
    dossier = submitted(client, citizen)
    official = official_of(client, session)
    assert act(client, official, dossier["id"], "approve").status_code == 409
    assert len(events_of(session, dossier["id"])) == 1


def test_a_successful_payment_writes_payment_succeeded_once(client, session, citizen, settings):
    from tests.api.test_payments import gateway_result, ipn, pay
    from tests.dossier_helpers import FEE

    dossier = submitted(client, citizen, FEE)
    payment = pay(client, citizen, dossier["id"]).json
    ipn(client, gateway_result(settings, payment))
    ipn(client, gateway_result(settings, payment))  # the gateway repeats itself
    paid = [e for e in events_of(session, dossier["id"]) if e.type == "payment.succeeded"]
    assert len(paid) == 1 and paid[0].data["payment_id"] == payment["id"]
    assert paid[0].data["amount_vnd"] == payment["amount_vnd"] and paid[0].data["receipt_no"].startswith("BL-")


# --- subscriptions ------------------------------------------------------------------------------

def test_admins_create_read_update_and_delete_subscriptions(client, admin, receiver):
    created = subscribe(client, admin, receiver)
    assert created["secret"].startswith("whsec_") and created["active"] is True
    url = f"/api/v1/admin/webhooks/{created['id']}"
    shown = client.get(url, headers=bearer(admin)).json
    assert "secret" not in shown and shown["events"] == sorted(ALL)
    assert [w["id"] for w in client.get("/api/v1/admin/webhooks", headers=bearer(admin)).json["items"]] == [
        created["id"]]
    changed = client.patch(url, headers=bearer(admin), json={"events": ["payment.succeeded"], "active": False})
    assert changed.status_code == 200 and changed.json["active"] is False
    assert client.delete(url, headers=bearer(admin)).status_code == 204
    assert client.get(url, headers=bearer(admin)).status_code == 404


def test_unknown_event_types_and_empty_lists_are_422_and_citizens_are_refused(client, admin, citizen):
    for events in ([], ["dossier.eaten"]):
        response = client.post("/api/v1/admin/webhooks", headers=bearer(admin),
                               json={"url": "https://example.com/h", "events": events})
        assert response.status_code == 422 and any(k.startswith("events") for k in response.json["errors"])
    response = client.post("/api/v1/admin/webhooks", headers=bearer(citizen),
                           json={"url": "https://example.com/h", "events": ["dossier.submitted"]})
    assert response.status_code == 403
