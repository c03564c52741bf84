"""Webhooks delivered by the workers (issue 15): signed, retried with backoff, ordered per resource,
leased, listed, redelivered, replayed, deactivated after a day of failures."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from api.context import state_of
from services.clock import clock
from services.events.delivery import Dispatcher
from services.models import AuditEntry, Notification, WebhookDelivery, WebhookSubscription
from tests.api.conftest import dispatcher_for, events_of, subscribe
from tests.dossier_helpers import act, official_of, submitted
from tests.event_helpers import Receiver, verify
from tests.helpers import ADMIN, bearer, sign_in
from vocab import DeliveryStatus

pytestmark = pytest.mark.usefixtures("_only_this_tests_events")


@pytest.fixture
def dispatcher(app, session) -> Iterator[Dispatcher]:
    clock.freeze(clock.now())
    d = dispatcher_for(app, webhook_timeout_seconds=2.0)
    yield d
    d.close()


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
