"""Several workers draining one outbox at once, as on several machines: on committed data, each with its
own database sessions and its own firebase-admin app. No message goes out twice, none is left."""

from __future__ import annotations

import dataclasses
import threading
from datetime import date

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from notifications.fcm import FcmSender
from notifications.worker import PushWorker, Stats
from services.clock import clock
from services.inbox import notify
from services.models import Device, Notification, PushJob, User

USERS, DEVICES_EACH = 30, 3


@pytest.fixture
def outbox(app):
    """90 pending pushes (30 people × 3 devices), committed; removed afterwards."""
    engine = app.extensions["smartqn.engine"]
    with Session(engine) as session, session.begin():
        users = [User(cccd=f"0010900{i:05d}", full_name=f"Người {i}", date_of_birth=date(1990, 1, 1),
                      gender="male", eid_level=2, eid_subject=f"push-race-{i}") for i in range(USERS)]
        session.add_all(users)
        session.flush()
        session.add_all(Device(user_id=u.id, token=f"race-{u.id}-{n}", platform="android", locale="vi")
                        for u in users for n in range(DEVICES_EACH))
        session.flush()
        notify(session, [u.id for u in users], "staff.overdue", {"code": "H47-RACE", "procedure": "Thử",
                                                                 "due_time": "17:00 01/12/2026"})
        ids = [u.id for u in users]
    yield engine
    with Session(engine) as session, session.begin():
        session.execute(delete(Notification).where(Notification.user_id.in_(ids)))
        session.execute(delete(User).where(User.id.in_(ids)))


def test_two_workers_share_the_outbox_without_sending_anything_twice(outbox, settings, fcm):
    fcm.reset()
    small = dataclasses.replace(settings, push_batch_size=7)  # many claims, so the workers interleave
    senders = [FcmSender(fcm.credentials, endpoint=fcm.base) for _ in range(2)]
    workers = [PushWorker(sessionmaker(outbox, expire_on_commit=False), s, small, now=clock.now) for s in senders]
    results: list[Stats] = []
    barrier = threading.Barrier(2)

    def run(worker: PushWorker) -> None:
        barrier.wait()
        results.append(worker.drain())

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for sender in senders:
        sender.close()

    delivered = [m["token"] for m in fcm.messages() if m.get("token", "").startswith("race-")]
    assert len(delivered) == USERS * DEVICES_EACH and len(set(delivered)) == len(delivered)
    assert sum(r.sent for r in results) == USERS * DEVICES_EACH
    with Session(outbox) as session:
        left = session.scalar(select(func.count()).select_from(PushJob).join(Device)
                              .where(Device.token.startswith("race-"), PushJob.status != "sent"))
        assert left == 0
