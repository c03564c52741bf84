"""The postal channel (issue 13): waybills from the carrier (the mock carrier, reached over HTTP as the real
one would be), its HMAC-signed status callbacks applied once and in order, forged and replayed ones refused,
a returned result reopening the hand-over, and shipments stuck over two working days listed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.clock import clock
from services.models import ShipmentEvent
from standins.mock_carrier import signed_callback
from tests.api.test_desk import PERSON, file
from tests.dossier_helpers import act, official_of
from tests.helpers import OFFICIAL, bearer, sign_in

HOI_AN = "000.20.24.H15"
ADDRESS = {"ward_code": "20341", "line": "12 Trần Phú", "recipient": "Lê Thị Hồng Nhung", "phone": "0905123456"}


@pytest.fixture
def centre(client, session):
    return official_of(client, session, agency=HOI_AN)


@pytest.fixture
def postal(client, centre):
    return file(client, centre, channel="postal", return_method="postal").json


def ship(client, official, dossier_id, kind="pickup"):
    return client.post(f"/api/v1/admin/dossiers/{dossier_id}/shipments", headers=bearer(official),
                       json={"kind": kind, "address": ADDRESS})


def callback(client, settings, waybill_no, status, **kwargs):
    body, headers = signed_callback(settings.postal_hmac_secret, waybill_no, status, **kwargs)
    return client.post("/api/v1/postal/callback", data=body, headers=headers)


def status_of(client, official, waybill_no):
    items = client.get("/api/v1/admin/shipments", headers=bearer(official)).json["items"]
    return next(i["status"] for i in items if i["waybill_no"] == waybill_no)


def test_a_pickup_gets_a_waybill_and_each_status_tells_the_citizen(client, settings, centre, postal):
    response = ship(client, centre, postal["id"])
    assert response.status_code == 201, response.json
    shipment = response.json
    assert shipment["status"] == "created" and shipment["waybill_no"].startswith("EB") and shipment["fee_vnd"] > 0
    assert ship(client, centre, postal["id"]).status_code == 409  # one pickup on its way at a time
    t0 = clock.now()
    for status, minutes in (("picked_up", 1), ("in_transit", 30), ("delivered", 90)):
        answer = callback(client, settings, shipment["waybill_no"], status, occurred_at=t0 + timedelta(minutes=minutes))
        assert answer.status_code == 200 and answer.json == {"result": "applied"}, answer.json
    assert status_of(client, centre, shipment["waybill_no"]) == "delivered"
    person = sign_in(client, PERSON)
    kinds = [n["kind"] for n in client.get("/api/v1/me/notifications", headers=bearer(person)).json["items"]]
    assert [k for k in kinds if k.startswith("shipment.")] == ["shipment.delivered", "shipment.in_transit",
                                                               "shipment.picked_up", "shipment.created"]


def test_callbacks_are_idempotent_and_out_of_order_safe(client, session, settings, centre, postal):
    waybill = ship(client, centre, postal["id"]).json["waybill_no"]
    t0 = clock.now()
    assert callback(client, settings, waybill, "in_transit", occurred_at=t0 + timedelta(hours=2),
                    event_id="e2").json == {"result": "applied"}
    # The same event again, and an older one arriving late: nothing changes.
    assert callback(client, settings, waybill, "in_transit", occurred_at=t0 + timedelta(hours=2),
                    event_id="e2").json == {"result": "duplicate"}
    assert callback(client, settings, waybill, "picked_up", occurred_at=t0 + timedelta(hours=1),
                    event_id="e1").json == {"result": "stale"}
    assert status_of(client, centre, waybill) == "in_transit"
    assert callback(client, settings, waybill, "delivered", occurred_at=t0 + timedelta(hours=3)).json["result"] == \
        "applied"
    # Nothing moves a delivered shipment back.
    assert callback(client, settings, waybill, "in_transit", occurred_at=t0 + timedelta(hours=4)).json["result"] == \
        "stale"
    assert status_of(client, centre, waybill) == "delivered"
    assert callback(client, settings, "EB000000000VN", "delivered").status_code == 404


def test_forged_expired_and_replayed_callbacks_are_refused_and_change_nothing(client, session, settings, centre,
                                                                             postal):
    waybill = ship(client, centre, postal["id"]).json["waybill_no"]
    events = select(func.count()).select_from(ShipmentEvent)
    before = session.scalar(events)
    forged, _ = signed_callback("not-the-secret", waybill, "delivered")
    _, headers = signed_callback("not-the-secret", waybill, "delivered")
    refused = client.post("/api/v1/postal/callback", data=forged, headers=headers)
    assert refused.status_code == 401 and refused.json["code"] == "unauthorized"
    # A body changed after signing, no signature, and a signature from ten minutes ago.
    body, headers = signed_callback(settings.postal_hmac_secret, waybill, "picked_up")
    assert client.post("/api/v1/postal/callback", data=body.replace(b"picked_up", b"delivered"),
                       headers=headers).status_code == 401
    assert client.post("/api/v1/postal/callback", data=body, headers={"Content-Type": "application/json"}) \
        .status_code == 401
    old = int(clock.now().timestamp()) - 600
    stale_body, stale_headers = signed_callback(settings.postal_hmac_secret, waybill, "delivered", at=old)
    assert client.post("/api/v1/postal/callback", data=stale_body, headers=stale_headers).status_code == 401
    assert session.scalar(events) == before and status_of(client, centre, waybill) == "created"
    # A genuine callback captured and sent again: the second changes nothing.
    assert client.post("/api/v1/postal/callback", data=body, headers=headers).json == {"result": "applied"}
    assert client.post("/api/v1/postal/callback", data=body, headers=headers).json == {"result": "duplicate"}
    assert status_of(client, centre, waybill) == "picked_up"


def test_a_returned_result_reopens_the_hand_over(client, settings, centre, postal):
    assert ship(client, centre, postal["id"], "return").status_code == 409  # no result yet
    for action in ("start_processing", "approve"):
        assert act(client, centre, postal["id"], action).status_code == 200
    first = ship(client, centre, postal["id"], "return").json
    assert ship(client, centre, postal["id"], "return").status_code == 409  # on its way
    assert callback(client, settings, first["waybill_no"], "returned").json == {"result": "applied"}
    inbox = client.get("/api/v1/me/notifications", headers=bearer(centre)).json["items"]
    assert inbox[0]["kind"] == "staff.shipment_returned"
    again = ship(client, centre, postal["id"], "return")
    assert again.status_code == 201 and again.json["waybill_no"] != first["waybill_no"]


def test_a_shipment_unchanged_for_over_two_working_days_is_listed_as_stuck(client, session, settings):
    clock.freeze(datetime(2026, 12, 7, 2, tzinfo=UTC))  # Monday 09:00 in Đà Nẵng
    centre = official_of(client, session, agency=HOI_AN)
    postal = file(client, centre, channel="postal", return_method="postal").json
    waybill = ship(client, centre, postal["id"]).json["waybill_no"]

    def stuck():
        page = client.get("/api/v1/admin/shipments?stuck=true", headers=bearer(sign_in(client, OFFICIAL))).json
        return [i["waybill_no"] for i in page["items"]]

    def overdue():  # the officials' overdue list shows it too, beside the dossiers past due
        page = client.get("/api/v1/admin/overdue", headers=bearer(sign_in(client, OFFICIAL))).json
        return [(i["code"], i["days_late"], (i["stuck_shipment"] or {}).get("waybill_no")) for i in page["items"]]

    clock.freeze(datetime(2026, 12, 9, 1, tzinfo=UTC))  # Wednesday 08:00: two working days not yet over
    assert stuck() == [] and overdue() == []
    clock.freeze(datetime(2026, 12, 9, 3, tzinfo=UTC))  # Wednesday 10:00
    assert stuck() == [waybill]
    assert overdue() == [(postal["code"], 0, waybill)]  # the dossier itself is not late
    clock.freeze(datetime(2026, 12, 11, 3, tzinfo=UTC))  # Friday: once it moves, it is no longer stuck
    body, headers = signed_callback(settings.postal_hmac_secret, waybill, "picked_up")
    assert client.post("/api/v1/postal/callback", data=body, headers=headers).json == {"result": "applied"}
    assert stuck() == [] and all(waybill_no is None for *_, waybill_no in overdue())  # (by now it is late)
    other = sign_in(client)
    assert client.get("/api/v1/admin/shipments", headers=bearer(other)).status_code == 403


def test_the_mock_carrier_books_a_waybill_once_per_reference(client):
    order = {"reference": "ref-1", "kind": "return", "address": ADDRESS, "dossier_code": "X",
             "callback_url": "http://127.0.0.1:1/api/v1/postal/callback"}
    first = client.post("/mock-carrier/waybills", json=order)
    assert first.status_code == 201 and first.json["fee_vnd"] == 22_000
    assert client.post("/mock-carrier/waybills", json=order).json == first.json
    assert client.post("/mock-carrier/waybills", json={}).status_code == 422
    assert client.post("/mock-carrier/waybills/EB000000000VN/events", json={"status": "delivered"}).status_code == 404
    assert client.post(f"/mock-carrier/waybills/{first.json['waybill_no']}/events",
                       json={"status": "lost"}).status_code == 422


def test_an_unreachable_carrier_is_503_and_records_nothing(client, session, make_app, centre, postal):
    from tests.conftest import free_port

    other = make_app(postal_carrier_url=f"http://127.0.0.1:{free_port()}/nothing-here", postal_timeout_seconds=2.0)
    response = other.test_client().post(f"/api/v1/admin/dossiers/{postal['id']}/shipments",
                                        headers=bearer(centre), json={"kind": "pickup", "address": ADDRESS})
    assert response.status_code == 503 and response.json["code"] == "service_unavailable"
    assert client.get("/api/v1/admin/shipments", headers=bearer(centre)).json["items"] == []


def test_the_mock_carrier_sends_signed_status_callbacks_over_http(client, session, settings, centre, postal):
    """End to end: the mock carrier (over the served app, `app` in tests/conftest.py) posts each status to
    the callback URL over real HTTP, HMAC-signed; the app verifies it, moves the shipment and tells the
    citizen. (The served app shares the test's connection: the test thread waits in the mock carrier while
    the server thread handles the callback, so the two never use it at once.)"""
    shipment = ship(client, centre, postal["id"]).json
    waybill = shipment["waybill_no"]
    t0 = clock.now()
    def send(status, minutes, event_id=None):  # what the carrier's operator would press
        event = {"status": status, "occurred_at": (t0 + timedelta(minutes=minutes)).isoformat(),
                 "event_id": event_id or f"{waybill}-{status}"}
        sent = client.post(f"/mock-carrier/waybills/{waybill}/events", json=event)
        assert sent.status_code == 200 and sent.json["status_code"] == 200, sent.json
        return sent.json["answer"]

    for status, minutes in (("picked_up", 1), ("in_transit", 30), ("delivered", 90)):
        assert send(status, minutes) == {"result": "applied"}
        assert status_of(client, centre, waybill) == status
    # The same event again is one change; an older status arriving late changes nothing.
    assert send("delivered", 90) == {"result": "duplicate"}
    assert send("in_transit", 60, event_id="late-one") == {"result": "stale"}
    assert status_of(client, centre, waybill) == "delivered"
    person = sign_in(client, PERSON)
    notices = client.get("/api/v1/me/notifications", headers=bearer(person)).json["items"]
    shipped = [n for n in notices if n["kind"].startswith("shipment.")]
    assert [n["kind"] for n in shipped] == ["shipment.delivered", "shipment.in_transit", "shipment.picked_up",
                                           "shipment.created"]
    assert all(waybill in n["body"] for n in shipped), shipped
