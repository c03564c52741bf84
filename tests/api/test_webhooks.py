"""Events out (issue 15): the event log written with the change, and signed webhooks delivered by the
workers: retried, ordered per resource, leased, listed, redelivered, replayed, deactivated."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from api.context import state_of
from services.clock import clock
from services.events.delivery import Dispatcher
from services.models import AuditEntry, Event, Notification, WebhookDelivery, WebhookSubscription
from services.people.identity import grant_staff
from tests.dossier_helpers import act, official_of, submitted
from tests.event_helpers import Receiver, verify
from tests.helpers import ADMIN, bearer, sign_in
from vocab import DeliveryStatus

ALL = ["dossier.submitted", "dossier.status_changed", "dossier.transferred", "payment.succeeded"]


@pytest.fixture(autouse=True)
def _only_this_tests_events(session):
    """Events other tests committed and left (the PostgreSQL-only tests run a live app on committed
    data) are not this test's to deliver or replay: gone, inside the test's rolled-back transaction."""
    session.execute(delete(WebhookDelivery))
    session.execute(delete(Event))


@pytest.fixture
def admin(client, session):
    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    return sign_in(client, ADMIN)


@pytest.fixture
def citizen(client):
    return sign_in(client)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def dispatcher_for(app, **changes) -> Dispatcher:
    runtime = state_of(app).runtime
    return Dispatcher(runtime.sessions, dataclasses.replace(runtime.settings, **changes), now=clock.now)


def drain_once(app, **changes) -> None:
    """One drain by a dispatcher with these settings, closed after."""
    dispatcher = dispatcher_for(app, **changes)
    try:
        dispatcher.drain()
    finally:
        dispatcher.close()


@pytest.fixture
def dispatcher(app, session) -> Iterator[Dispatcher]:
    clock.freeze(clock.now())
    d = dispatcher_for(app, webhook_timeout_seconds=2.0)
    yield d
    d.close()


def subscribe(client, admin, receiver: Receiver, events=tuple(ALL)) -> dict:
    response = client.post("/api/v1/admin/webhooks", headers=bearer(admin),
                           json={"url": receiver.url, "events": list(events), "description": "LGSP"})
    assert response.status_code == 201, response.json
    receiver.secret = response.json["secret"]
    return response.json


def events_of(session, dossier_id: str) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.resource_id == dossier_id).order_by(Event.id)))


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


@pytest.mark.parametrize("url", ["ftp://example.com/hook", "javascript:alert(1)", "https://", "not a url",
                                 "https://user:pw@example.com/hook", "{base}/api/v1/admin/webhooks",
                                 "{base}/anything", "http://localhost:{port}/api/v1/admin/staff"])
def test_a_url_that_is_not_http_or_is_this_server_is_422(client, admin, settings, url):
    url = url.format(base=settings.base_url, port=settings.base_url.rsplit(":", 1)[1])
    response = client.post("/api/v1/admin/webhooks", headers=bearer(admin),
                           json={"url": url, "events": ["dossier.submitted"]})
    assert response.status_code == 422 and "url" in response.json["errors"], response.json


@pytest.mark.parametrize("url", ["{base}/anything", "http://127.0.0.1.:{port}/h", "http://localhost.:{port}/h",
                                 "http://LOCALHOST:{port}/h", "http://2130706433:{port}/h", "http://0x7f.1:{port}/h"])
def test_this_server_under_another_spelling_is_422_even_where_private_addresses_are_allowed(client, admin, settings,
                                                                                          url):
    assert settings.webhook_allow_private is True  # tests and development: receivers on 127.0.0.1
    url = url.format(base=settings.base_url, port=settings.base_url.rsplit(":", 1)[1])
    response = client.post("/api/v1/admin/webhooks", headers=bearer(admin),
                           json={"url": url, "events": ["dossier.submitted"]})
    assert response.status_code == 422 and "url" in response.json["errors"], (url, response.json)


PARTNER = "partner.example"


@pytest.fixture
def dns(monkeypatch) -> dict[str, list[str]]:
    """What `partner.example` resolves to (no network in tests); other names resolve as usual."""
    from services.events import webhooks

    answers = {PARTNER: ["93.184.215.14"]}
    real = getattr(webhooks, "resolve", None)
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: answers[host] if host in answers else real(host, port),
                        raising=False)
    return answers


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/h", "http://127.0.0.2/h", "http://2130706433/h", "http://0x7f.1/h", "http://017700000001/h",
    "http://[::ffff:127.0.0.1]/h", "http://[::1]/h", "http://localhost/h", "http://localhost./h",
    "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/h", "http://10.0.0.5/h", "http://172.16.3.4/h",
    "http://192.168.1.1/h", "http://100.64.0.1/h", "http://0.0.0.0/h", "http://[::]/h", "http://224.0.0.1/h",
    "http://no-such-host.invalid/h", "http://partner.example/h"])
def test_private_loopback_link_local_and_odd_addresses_are_422_in_production(client, admin, make_app, dns, url):
    dns[PARTNER] = ["93.184.215.14", "10.1.2.3"]  # one bad address among the answers is enough
    strict = make_app(webhook_allow_private=False).test_client()
    response = strict.post("/api/v1/admin/webhooks", headers=bearer(admin),
                           json={"url": url, "events": ["dossier.submitted"]})
    assert response.status_code == 422 and "url" in response.json["errors"], (url, response.json)


def test_a_public_address_is_accepted_in_production(client, admin, make_app, dns):
    strict = make_app(webhook_allow_private=False).test_client()
    for url in ("https://partner.example/hook", "https://8.8.8.8/hook"):
        response = strict.post("/api/v1/admin/webhooks", headers=bearer(admin),
                               json={"url": url, "events": ["dossier.submitted"]})
        assert response.status_code == 201, (url, response.json)


def test_production_settings_refuse_private_addresses_and_development_allows_them():
    from services.settings import Settings

    assert Settings(env="development").webhook_allow_private is True
    assert Settings(env="test").webhook_allow_private is True
    assert Settings(env="production").webhook_allow_private is False
    assert Settings.from_env({"SMARTQN_WEBHOOK_ALLOW_PRIVATE": "false"}).webhook_allow_private is False


def test_a_name_that_now_resolves_to_loopback_is_not_called_and_the_delivery_ends(client, session, admin, citizen,
                                                                                 make_app, receiver, dns, app):
    """DNS rebinding: public when the admin registered it, 127.0.0.1 when the worker sends."""
    clock.freeze(clock.now())
    port = receiver.url.split(":")[2].split("/")[0]
    strict = make_app(webhook_allow_private=False).test_client()
    created = strict.post("/api/v1/admin/webhooks", headers=bearer(admin),
                          json={"url": f"http://{PARTNER}:{port}/hook", "events": ["dossier.submitted"]})
    assert created.status_code == 201, created.json
    receiver.secret = created.json["secret"]
    dns[PARTNER] = ["127.0.0.1"]  # the receiver listens there: a worker that followed DNS would reach it
    submitted(client, citizen)
    drain_once(app, webhook_allow_private=False)
    assert receiver.arrivals == [] and receiver.refused == []
    delivery = session.scalar(select(WebhookDelivery).where(WebhookDelivery.subscription_id == created.json["id"]))
    session.refresh(delivery)
    assert delivery.status == DeliveryStatus.failed and delivery.attempts == 1  # not retried
    attempts = client.get(f"/api/v1/admin/webhooks/{created.json['id']}/deliveries", headers=bearer(admin)).json
    [attempt] = attempts["items"]
    assert attempt["status_code"] is None and "127.0.0.1" in attempt["error"] and "loopback" in attempt["error"]


def test_the_worker_connects_to_the_address_it_checked(client, session, admin, citizen, receiver, dns, app,
                                                       monkeypatch):
    """The name is resolved once per POST, checked, and the socket goes to that address (no second lookup
    that a rebinding DNS server could answer differently); the URL keeps its name."""
    from services.events import webhooks

    clock.freeze(clock.now())
    monkeypatch.setattr(webhooks, "why_forbidden", lambda address: None)  # 127.0.0.1 stands for a public one
    dns[PARTNER] = ["127.0.0.1"]
    port = receiver.url.split(":")[2].split("/")[0]
    created = client.post("/api/v1/admin/webhooks", headers=bearer(admin),
                          json={"url": f"http://{PARTNER}:{port}/hook", "events": ["dossier.submitted"]})
    receiver.secret = created.json["secret"]
    submitted(client, citizen)
    drain_once(app, webhook_allow_private=False)
    assert len(receiver.arrivals) == 1  # partner.example itself does not resolve here


def test_unknown_event_types_and_empty_lists_are_422_and_citizens_are_refused(client, admin, citizen):
    for events in ([], ["dossier.eaten"]):
        response = client.post("/api/v1/admin/webhooks", headers=bearer(admin),
                               json={"url": "https://example.com/h", "events": events})
        assert response.status_code == 422 and any(k.startswith("events") for k in response.json["errors"])
    response = client.post("/api/v1/admin/webhooks", headers=bearer(citizen),
                           json={"url": "https://example.com/h", "events": ["dossier.submitted"]})
    assert response.status_code == 403


# --- delivery -------------------------------------------------------------------------------------

def test_a_delivery_is_signed_as_api_md_says_and_listed(client, session, admin, citizen, receiver, dispatcher):
    sub = subscribe(client, admin, receiver)
    dossier = submitted(client, citizen)
    dispatcher.drain()
    assert receiver.refused == [] and len(receiver.arrivals) == 1
    event = receiver.arrivals[0].event
    assert set(event) == {"id", "type", "occurred_at", "sequence", "data"}
    assert event["type"] == "dossier.submitted" and event["data"]["dossier_id"] == dossier["id"]
    assert event["data"]["national_status"] == 1
    listed = client.get(f"/api/v1/admin/webhooks/{sub['id']}/deliveries", headers=bearer(admin)).json["items"]
    assert [(a["event_id"], a["attempt"], a["status_code"], a["error"]) for a in listed] == [
        (event["id"], 1, 200, None)]
    assert listed[0]["duration_ms"] >= 0


def test_the_test_receiver_refuses_a_replay_older_than_five_minutes_and_a_forgery():
    from services.events.webhooks import signature

    body = b'{"id":"1"}'
    now = time.time()
    assert verify(signature("s3cret", body, int(now)), body, "s3cret", now=now) is None
    assert verify(signature("s3cret", body, int(now) - 301), body, "s3cret", now=now) == "too old"
    assert verify(signature("other", body, int(now)), body, "s3cret", now=now) == "bad signature"
    assert verify(signature("s3cret", body, int(now)), body + b" ", "s3cret", now=now) == "bad signature"


def test_5xx_and_429_are_retried_with_backoff_other_4xx_end_at_once(client, session, admin, citizen, receiver,
                                                                       dispatcher):
    sub = subscribe(client, admin, receiver)
    receiver.answers = [503, 429]
    dossier = submitted(client, citizen)
    dispatcher.drain()
    delivery = session.scalar(select(WebhookDelivery).where(WebhookDelivery.subscription_id == sub["id"]))
    assert delivery.status == DeliveryStatus.pending and delivery.next_attempt_at > clock.now()
    for _ in range(2):
        clock.advance(seconds=3600)
        dispatcher.drain()
    assert receiver.ids == [str(events_of(session, dossier["id"])[0].id)]
    admin = sign_in(client, ADMIN)  # the clock moved past the token's life
    attempts = client.get(f"/api/v1/admin/webhooks/{sub['id']}/deliveries", headers=bearer(admin)).json["items"]
    assert [a["status_code"] for a in reversed(attempts)] == [503, 429, 200]
    session.expire_all()
    assert session.get(WebhookSubscription, sub["id"]).failing_since is None

    receiver.answers = [410]
    official = official_of(client, session)
    act(client, official, dossier["id"], "receive")
    dispatcher.drain()
    clock.advance(hours=80)
    dispatcher.drain()
    assert len(receiver.arrivals) == 1
    failed = session.scalars(select(WebhookDelivery).where(WebhookDelivery.status == DeliveryStatus.failed)).all()
    assert len(failed) == 1 and failed[0].attempts == 1


def test_retries_stop_after_the_retry_window_not_before(client, session, admin, citizen, receiver, app):
    clock.freeze(clock.now())
    dispatcher = dispatcher_for(app, webhook_deactivate_hours=1000.0)  # not switched off after a day
    subscribe(client, admin, receiver)
    receiver.down = True
    submitted(client, citizen)
    start = clock.now()
    while clock.now() - start < timedelta(hours=71):
        dispatcher.drain()
        delivery = session.scalar(select(WebhookDelivery))
        session.refresh(delivery)
        assert delivery.status == DeliveryStatus.pending
        clock.freeze(max(delivery.next_attempt_at, clock.now() + timedelta(minutes=1)))
    clock.advance(hours=2)
    dispatcher.drain()
    dispatcher.close()
    session.refresh(delivery)
    assert delivery.status == DeliveryStatus.failed and delivery.attempts > 10


def test_receiver_down_for_an_hour_then_up_gets_everything_in_order_once(client, session, admin, citizen, receiver,
                                                                        dispatcher):
    subscribe(client, admin, receiver)
    receiver.down = True
    official = official_of(client, session)
    dossiers = [submitted(client, citizen) for _ in range(3)]
    for d in dossiers:
        for action in ("receive", "start_processing", "approve"):
            assert act(client, official, d["id"], action).status_code == 200
    for _ in range(6):  # an hour of failures
        dispatcher.drain()
        clock.advance(minutes=10)
    receiver.down = False
    for _ in range(12):
        dispatcher.drain()
        clock.advance(minutes=20)
    assert len(receiver.ids) == len(set(receiver.ids)) == 12
    by_dossier: dict[str, list[int]] = {}
    for arrival in receiver.arrivals:
        by_dossier.setdefault(arrival.event["data"]["dossier_id"], []).append(arrival.event["sequence"])
    assert all(seq == sorted(seq) and len(seq) == 4 for seq in by_dossier.values())


def test_a_worker_killed_mid_delivery_leaves_it_to_the_lease(client, session, admin, citizen, receiver, app):
    clock.freeze(clock.now())
    subscribe(client, admin, receiver)
    submitted(client, citizen)
    killed = dispatcher_for(app)
    killed.fan_out()
    assert len(killed.claim()) == 1  # claimed, then the process dies before sending
    other = dispatcher_for(app)
    try:
        other.drain()
        assert receiver.arrivals == []
        clock.advance(seconds=state_of(app).runtime.settings.webhook_lease_seconds + 1)
        other.drain()
        assert len(receiver.arrivals) == 1
    finally:
        killed.close()
        other.close()


def test_a_hanging_receiver_does_not_delay_a_healthy_one(client, session, admin, citizen, app):
    clock.freeze(clock.now())
    hanging, healthy = Receiver(hang=10).start(), Receiver().start()
    subscribe(client, admin, hanging)
    subscribe(client, admin, healthy)
    dispatcher = dispatcher_for(app, webhook_timeout_seconds=2.0, webhook_per_endpoint=2)
    official = official_of(client, session)
    try:
        dossier = submitted(client, citizen)
        dispatcher.step()  # the hanging receiver now holds its threads
        delays = []
        for action in ("receive", "start_processing", "approve"):
            assert act(client, official, dossier["id"], action).status_code == 200
            committed = time.monotonic()
            expected = len(healthy.arrivals) + 1
            while len(healthy.arrivals) < expected and time.monotonic() - committed < 5:
                dispatcher.step()
                dispatcher.wakeup.wait(0.02)
                dispatcher.wakeup.clear()
            delays.append(healthy.arrivals[-1].at - committed)
        assert max(delays) < 1.0, delays
        assert hanging.arrivals == []
    finally:
        dispatcher.close()
        hanging.stop()
        healthy.stop()


def test_redeliver_sends_an_event_again_and_an_unknown_one_is_404(client, session, admin, citizen, receiver,
                                                                   dispatcher):
    sub = subscribe(client, admin, receiver)
    submitted(client, citizen)
    dispatcher.drain()
    event_id = receiver.ids[0]
    url = f"/api/v1/admin/webhooks/{sub['id']}/deliveries"
    assert client.post(f"{url}/{event_id}/redeliver", headers=bearer(admin)).status_code == 202
    dispatcher.drain()
    assert receiver.ids == [event_id, event_id]
    for bad in ("999999999", "abc", "1" * 30):
        assert client.post(f"{url}/{bad}/redeliver", headers=bearer(admin)).status_code == 404


def test_replay_re_sends_a_period_in_order(client, session, admin, citizen, receiver, dispatcher, app):
    sub = subscribe(client, admin, receiver)
    official = official_of(client, session)
    dossier = submitted(client, citizen)
    act(client, official, dossier["id"], "receive")
    dispatcher.drain()
    first = list(receiver.ids)
    assert len(first) == 2
    since = (clock.now() - timedelta(minutes=5)).isoformat()
    result = app.test_cli_runner().invoke(args=["events", "replay", "--since", since, "--subscription", sub["id"]])
    assert result.exit_code == 0 and "queued: 2" in result.output, result.output
    dispatcher.drain()
    assert receiver.ids == first + first  # the same ids: the receiver drops them as already seen


def test_replay_queues_in_batches_one_transaction_each_with_bulk_inserts(client, session, admin, citizen, receiver,
                                                                        dispatcher, app, monkeypatch):
    """Batches of REPLAY_BATCH (2 here; 1,000 in use), each one transaction with one INSERT; events not
    fanned out yet are queued by the replay and not again by the fan-out."""
    from sqlalchemy import event as sa_event

    from services.events import webhooks

    monkeypatch.setattr(webhooks, "REPLAY_BATCH", 2, raising=False)
    real, transactions = webhooks.transaction, []

    def counted(s):
        transactions.append(s.info.get("tx_depth", 0))
        return real(s)

    monkeypatch.setattr(webhooks, "transaction", counted)
    sub = subscribe(client, admin, receiver)
    official = official_of(client, session)
    dossier = submitted(client, citizen)
    for action in ("receive", "start_processing"):
        act(client, official, dossier["id"], action)
    submitted(client, citizen)  # 4 events, not fanned out: the replay creates their deliveries
    inserts = []
    engine = session.get_bind().engine

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("INSERT INTO WEBHOOK_DELIVERIES"):
            inserts.append(statement)

    sa_event.listen(engine, "before_cursor_execute", count)
    transactions.clear()
    try:
        since = (clock.now() - timedelta(minutes=5)).isoformat()
        result = app.test_cli_runner().invoke(args=["events", "replay", "--since", since, "--subscription",
                                                    sub["id"]])
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    assert result.exit_code == 0 and "queued: 4" in result.output, result.output
    assert transactions.count(0) == 4  # 2 + 2 + an empty last batch, then the audit entry: 4 outermost
    assert len(inserts) == 2  # one per batch that had events, not one per event
    dispatcher.drain()
    assert sorted(receiver.ids) == sorted({*receiver.ids}) and len(receiver.ids) == 4
    mine = [a.event["sequence"] for a in receiver.arrivals if a.event["data"]["dossier_id"] == dossier["id"]]
    assert mine == sorted(mine) and len(mine) == 3


def test_a_subscription_failing_for_24_hours_is_deactivated_and_admins_told(client, session, admin, citizen,
                                                                            receiver, dispatcher):
    sub = subscribe(client, admin, receiver)
    receiver.down = True
    submitted(client, citizen)
    for _ in range(30):
        dispatcher.drain()
        clock.advance(hours=1)
    session.expire_all()
    row = session.get(WebhookSubscription, sub["id"])
    assert row.active is False and row.deactivated_at is not None
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "webhook.deactivated")) is not None
    assert session.scalar(select(Notification).where(Notification.kind == "webhook.deactivated")) is not None
    # Turned on again by an admin: the failure clock starts over.
    admin = sign_in(client, ADMIN)
    again = client.patch(f"/api/v1/admin/webhooks/{sub['id']}", headers=bearer(admin), json={"active": True})
    assert again.json["active"] is True and again.json["failing_since"] is None


def test_the_backlog_is_on_metrics(client, admin, citizen, receiver):
    subscribe(client, admin, receiver)
    submitted(client, citizen)
    text = client.get("/metrics").get_data(as_text=True)
    assert "smartqn_webhook_backlog" in text and "smartqn_events_unfanned 1.0" in text


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


def test_a_receiver_that_drips_its_answer_is_cut_at_the_whole_call_deadline():
    """One byte every 0.5 s never trips a per-read timeout of 1.5 s; the call's deadline cuts it."""
    import socket
    import threading

    from services.events.sending import post

    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Drip: ")
            for _ in range(40):  # 20 s of answer, if nobody hangs up
                if stop.wait(0.5):
                    return
                try:
                    conn.sendall(b"x")
                except OSError:
                    return

    threading.Thread(target=drip, daemon=True).start()
    started = time.monotonic()
    try:
        answer = post(f"http://127.0.0.1:{listener.getsockname()[1]}/hook", b"{}", {}, 1.5, allow_private=True)
    finally:
        stop.set()
        listener.close()
    took = time.monotonic() - started
    assert took < 2.5, took
    assert answer.status_code is None and answer.error is not None and "timeout" in answer.error
    assert answer.retryable and 1400 <= answer.duration_ms < 2500
