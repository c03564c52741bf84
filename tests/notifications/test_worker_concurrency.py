"""Several workers at once, as on several machines: on committed data, each with its own database
sessions (and firebase-admin app). No message goes out twice, none is left, no alert is told twice."""

from __future__ import annotations

import dataclasses
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from api.context import state_of
from notifications.fcm import FcmSender
from notifications.worker import PushWorker, Stats
from services.clock import clock
from services.models import (
    DeadlineAlert,
    Device,
    Dossier,
    Notification,
    Procedure,
    PushJob,
    StaffRole,
    User,
)
from services.notices import alerts
from tests.notification_helpers import committed_outbox
from vocab import Role

USERS, DEVICES_EACH = 30, 3


@pytest.fixture
def outbox(app):
    """90 pending pushes (30 people × 3 devices), committed; removed afterwards."""
    with committed_outbox(state_of(app).runtime.engine, people=USERS, devices_each=DEVICES_EACH, tag="race",
                          cccd_prefix="0010900") as engine:
        yield engine


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


@pytest.fixture
def overdue_dossier(app):
    """An overdue dossier at an agency with one official, committed; removed afterwards."""
    engine = state_of(app).runtime.engine
    with Session(engine) as session, session.begin():
        procedure = session.scalar(select(Procedure).where(Procedure.code == "2.000908"))
        official = User(cccd="001080012345", full_name="Cán bộ thử", date_of_birth=date(1980, 1, 1), gender="male",
                        eid_level=2, eid_subject="alert-race")
        session.add_all([official, StaffRole(cccd=official.cccd, role=Role.official, agency_id=procedure.agency_id)])
        session.flush()
        due = clock.now() - timedelta(hours=1)
        dossier = Dossier(procedure=procedure, agency_id=procedure.agency_id, applicant_id=official.id, form={},
                          status="in_progress", code="ALERT-RACE-1", received_at=due - timedelta(days=3), due_at=due,
                          queue_at=due)
        session.add(dossier)
        session.flush()
        ids = (dossier.id, official.id, official.cccd)
    yield engine, ids
    with Session(engine) as session, session.begin():
        session.execute(delete(DeadlineAlert).where(DeadlineAlert.dossier_id == ids[0]))
        session.execute(delete(Notification).where(Notification.user_id == ids[1]))
        session.execute(delete(Dossier).where(Dossier.id == ids[0]))
        session.execute(delete(StaffRole).where(StaffRole.cccd == ids[2]))
        session.execute(delete(User).where(User.id == ids[1]))


def test_every_worker_runs_the_deadline_check_and_the_alert_goes_out_once(overdue_dossier, settings):
    engine, (dossier_id, official_id, _) = overdue_dossier
    calendar = settings.working_calendar()
    barrier, written, errors = threading.Barrier(3), [], []

    def check() -> None:
        barrier.wait()
        try:
            with Session(engine) as session:
                written.append(alerts.check_deadlines(session, calendar=calendar))
        except Exception as exc:  # noqa: BLE001 (collected and asserted)
            errors.append(exc)

    threads = [threading.Thread(target=check) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with Session(engine) as session:
        alerts_sent = session.scalar(select(func.count()).select_from(DeadlineAlert)
                                     .where(DeadlineAlert.dossier_id == dossier_id))
        told = session.scalars(select(Notification.kind).where(Notification.user_id == official_id)).all()
    assert errors == [] and sum(written) == 1
    assert alerts_sent == 1 and told == ["staff.overdue"]
