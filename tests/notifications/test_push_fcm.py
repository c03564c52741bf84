"""The outbox drained by the worker through real firebase-admin code into the FCM emulator, and each
fault of the issue: FCM down for a while, a worker dying mid-batch, dead tokens, a database error."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from api.context import state_of
from notifications.worker import PushWorker
from services.clock import clock
from services.models import Device, PushJob
from services.people.identity import grant_staff
from tests.dossier_helpers import submitted
from tests.helpers import ADMIN, CITIZEN, bearer, sign_in


def device(client, tokens, *, locale="vi", platform="android") -> str:
    token = f"fcm-{locale}-{uuid.uuid4().hex}"
    response = client.post("/api/v1/me/devices", headers=bearer(tokens),
                           json={"token": token, "platform": platform, "locale": locale, "app_version": "2.3.0"})
    assert response.status_code == 201, response.json
    return token


@pytest.fixture
def citizen(client):
    return sign_in(client, CITIZEN)


@pytest.fixture
def started(worker):
    return clock.now()  # the worker fixture stopped the clock


def jobs(session, since, kind="message"):
    """This test's jobs: other tests' committed rows (concurrency, browser, inline worker) are older."""
    session.expire_all()
    return list(session.scalars(select(PushJob).where(PushJob.kind == kind, PushJob.created_at >= since)))


def test_a_status_change_reaches_every_device_in_its_language(client, session, citizen, worker, fcm, started):
    vi, en = device(client, citizen), device(client, citizen, locale="en", platform="ios")
    worker.drain()  # the topic subscriptions of registration
    assert {vi, en} <= set(fcm.topics()["all"])
    fcm.reset()
    dossier = submitted(client, citizen)
    # Written with the change, nothing sent yet.
    assert [j.status for j in jobs(session, started)] == ["pending", "pending"]
    assert fcm.messages() == []

    stats = worker.drain()
    assert stats.sent == 2
    [to_vi], [to_en] = fcm.to(vi), fcm.to(en)
    assert to_vi["notification"]["title"] == f"Đã nộp hồ sơ {dossier['code']}"
    assert to_en["notification"]["title"] == f"Dossier {dossier['code']} submitted"
    assert to_en["notification"]["body"].startswith("Your Certificate of marital status dossier was sent")
    assert to_vi["notification"]["body"].startswith("Hồ sơ Cấp Giấy xác nhận tình trạng hôn nhân đã được gửi")
    note_id = to_vi["data"]["notification_id"]
    assert to_vi["data"] == {"kind": "dossier.submitted", "dossier_id": dossier["id"], "dossier_code": dossier["code"],
                             "status": "submitted", "notification_id": note_id}
    assert to_vi["android"]["priority"] == "high"
    assert to_vi["android"]["collapse_key"] == dossier["id"]
    assert to_vi["android"]["notification"]["channel_id"] == "dossier_updates"
    assert to_en["apns"]["payload"]["aps"] == {"sound": "default", "badge": 1}
    assert to_en["apns"]["headers"]["apns-collapse-id"] == dossier["id"]
    # Each job is marked sent with the id FCM gave it.
    assert sorted(j.message_id for j in jobs(session, started)) == sorted(fcm.names())
    assert all(j.status == "sent" and j.attempts == 1 for j in jobs(session, started))
    assert worker.drain().sent == 0  # nothing twice


def test_fcm_down_for_a_while_delivers_everything_once_after(client, session, citizen, worker, fcm, started):
    token = device(client, citizen)
    fcm.fail("*", "UNAVAILABLE")
    for _ in range(3):
        submitted(client, citizen)
    assert worker.drain().retried == 4  # three messages and the topic subscription
    waiting = jobs(session, started)
    assert all(j.status == "pending" and j.last_error.startswith("UNAVAILABLE") for j in waiting)
    assert min(j.next_attempt_at for j in waiting) > clock.now()  # backed off

    clock.advance(seconds=30)
    assert worker.drain().retried == 4  # still down: backed off again, longer
    fcm.recover("*")
    assert worker.drain().sent == 0  # not due yet
    clock.advance(minutes=2)
    assert worker.drain().sent == 4
    assert len(fcm.to(token)) == 3
    assert len({m["data"]["notification_id"] for m in fcm.to(token)}) == 3
    assert all(j.attempts == 3 for j in jobs(session, started))


def test_retry_after_is_honoured_and_attempts_run_out(client, session, citizen, worker, fcm, started, settings):
    token = device(client, citizen)
    worker.drain()
    fcm.fail(token, "QUOTA_EXCEEDED", retry_after=120)
    submitted(client, citizen)
    worker.drain()
    [job] = jobs(session, started)
    assert job.next_attempt_at >= clock.now() + timedelta(seconds=120)
    for _ in range(settings.push_max_attempts):
        clock.advance(hours=1)
        worker.drain()
    [job] = jobs(session, started)
    assert job.status == "failed" and job.attempts == settings.push_max_attempts
    assert job.last_error.startswith("QUOTA_EXCEEDED")  # kept for the admins, device kept
    assert session.scalar(select(Device).where(Device.token == token)) is not None


@pytest.mark.parametrize("error", ["UNREGISTERED", "INVALID_ARGUMENT"])
def test_a_dead_token_loses_its_device_and_the_other_devices_still_get_it(client, session, citizen, worker, fcm,
                                                                          started, error):
    dead, alive = device(client, citizen), device(client, citizen)
    worker.drain()
    fcm.fail(dead, error)
    submitted(client, citizen)
    stats = worker.drain()
    assert (stats.sent, stats.failed, stats.devices_removed) == (1, 1, 1)
    assert len(fcm.to(alive)) == 1 and fcm.to(dead) == []
    listed = client.get("/api/v1/me/devices", headers=bearer(citizen)).json["items"]
    assert [d["token"] for d in listed] == [alive]
    failed = [j for j in jobs(session, started) if j.status == "failed"]
    assert len(failed) == 1 and failed[0].last_error.startswith(error) and failed[0].device_id is None


def test_a_worker_dying_mid_batch_leaves_the_rest_to_another_after_its_lease(client, session, citizen, worker, fcm,
                                                                               started, settings):
    tokens = [device(client, citizen) for _ in range(3)]
    worker.drain()
    submitted(client, citizen)
    # Worker A claims the batch, sends one message, records it, and dies before the rest.
    lease, claimed = worker.claim()
    assert len(claimed) == 3
    first = claimed[0]
    worker.record(lease, worker.send([first]))
    # Worker B sees nothing while A's lease runs: no message goes out twice.
    other = PushWorker(worker.sessions, worker.sender, settings, now=clock.now)
    assert other.drain().sent == 0
    clock.advance(seconds=settings.push_lease_seconds + 1)
    assert other.drain().sent == 2
    assert sorted(len(fcm.to(t)) for t in tokens) == [1, 1, 1]
    # A's late answer for a job B has taken over is not recorded over B's.
    assert worker.record(lease, [(claimed[1], worker.send([claimed[1]])[0][1])]).sent == 0
    assert all(j.lease_id is None and j.status == "sent" for j in jobs(session, started))


class BrokenDatabaseOnRecord:
    """Sessions from the real factory, except the one that records outcomes: its connection is closed
    underneath it, as when the database restarts between sending and marking sent."""

    def __init__(self, factory, engine):
        self.factory, self.engine, self.calls = factory, engine, 0

    def __call__(self):
        self.calls += 1
        if self.calls != 3:  # 1: the dialect probe, 2: the claim, 3: the record
            return self.factory()
        connection = self.engine.connect()
        connection.connection.dbapi_connection.close()
        return self.factory(bind=connection)


def test_a_database_error_while_marking_sent_retries_the_job_not_loses_it(client, session, citizen, worker, fcm,
                                                                          started, settings, app):
    token = device(client, citizen)
    worker.drain()
    submitted(client, citizen)
    broken = PushWorker(BrokenDatabaseOnRecord(worker.sessions, state_of(app).runtime.engine), worker.sender,
                        settings, now=clock.now)
    assert broken.run_batch().sent == 0  # sent, but the outcome could not be written
    [job] = jobs(session, started)
    assert job.status == "pending" and job.lease_id is not None  # still leased, so still owed
    assert len(fcm.to(token)) == 1
    clock.advance(seconds=settings.push_lease_seconds + 1)
    assert worker.drain().sent == 1
    [job] = jobs(session, started)
    assert job.status == "sent" and job.attempts == 2
    assert len(fcm.to(token)) == 2  # at least once: the phone may show it twice, it is never lost


def test_an_announcement_goes_to_its_fcm_topic(client, session, worker, fcm):
    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    admin = sign_in(client, ADMIN)
    client.post("/api/v1/admin/announcements", headers=bearer(admin),
                json={"title": "Cúp điện", "body": "Hệ thống bảo trì 22:00–23:00.", "audience": "all"})
    assert worker.drain().sent == 1
    [message] = [m for m in fcm.messages() if m.get("topic")]
    assert message["topic"] == "all" and message["notification"]["title"] == "Cúp điện"
    assert message["data"]["kind"] == "announcement"


def test_the_cli_drains_once_with_the_configured_sender(client, app, citizen):
    device(client, citizen)
    submitted(client, citizen)
    result = app.test_cli_runner().invoke(args=["notifications", "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["sent"] == 2  # the topic subscription and the push


def test_the_memory_sender_keeps_what_the_worker_gives_it(client, app, citizen, settings):
    from api.push import make_worker
    from notifications.senders import MemorySender, make_sender

    sender = make_sender("memory")
    assert isinstance(sender, MemorySender)
    token = device(client, citizen, locale="en")
    dossier = submitted(client, citizen)
    assert make_worker(state_of(app).runtime, sender).drain().sent == 2
    [push] = sender.pushes
    assert push.token == token and push.title == f"Dossier {dossier['code']} submitted"
    assert sender.subscriptions == {"all": {token}}
