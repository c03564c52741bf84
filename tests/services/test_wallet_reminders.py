"""Expiry reminders: 10 days before and on the day, once each, in the inbox and as pushes, even with
several workers running the check at once."""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from api.context import state_of
from services.calendar import TZ
from services.clock import clock
from services.models import Notification, PushJob, StoredFile, User, WalletAlert, WalletItem
from services.wallet import reminders
from tests.helpers import bearer, sign_in
from tests.wallet_helpers import keep

EXPIRES = date(2027, 3, 20)


def local(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), TZ)


def told(session, user_id: str) -> list[tuple[str, dict]]:
    rows = session.execute(select(Notification.kind, Notification.params).where(Notification.user_id == user_id)
                           .order_by(Notification.created_at)).all()
    return [(kind, params) for kind, params in rows]


def test_ten_days_before_and_on_the_day_once_each(client, session):
    citizen = sign_in(client)
    client.post("/api/v1/me/devices", headers=bearer(citizen), json={"token": "wallet-device-1", "platform": "android",
                                                                     "locale": "en", "app_version": "1.0"})
    item = keep(client, citizen, title="Hộ chiếu", expires_at=EXPIRES.isoformat()).json
    keep(client, citizen, title="Không hạn")  # no expiry: never reminded
    user_id = session.scalar(select(WalletItem.owner_id).where(WalletItem.id == item["id"]))

    clock.freeze(local(EXPIRES - timedelta(days=11)))
    assert reminders.check_expiry(session) == 0
    clock.freeze(local(EXPIRES - timedelta(days=10), hour=6))
    assert reminders.check_expiry(session) == 0  # not before the morning
    clock.freeze(local(EXPIRES - timedelta(days=10)))
    assert reminders.check_expiry(session) == 1
    assert reminders.check_expiry(session) == 0
    clock.freeze(local(EXPIRES - timedelta(days=3)))
    assert reminders.check_expiry(session) == 0
    clock.freeze(local(EXPIRES, hour=8))
    assert reminders.check_expiry(session) == 1
    assert reminders.check_expiry(session) == 0
    clock.freeze(local(EXPIRES + timedelta(days=1)))
    assert reminders.check_expiry(session) == 0

    notes = told(session, user_id)
    assert [k for k, _ in notes] == ["wallet.expiring", "wallet.expired"]
    assert notes[0][1] == {"title": "Hộ chiếu", "document_type": "to_khai_tthn", "expires_date": "20/03/2027",
                           "days_left": 10, "wallet_item_id": item["id"]}
    pushes = session.scalar(select(func.count()).select_from(PushJob).join(Notification)
                            .where(Notification.user_id == user_id))
    assert pushes == 2
    citizen = sign_in(client)  # at the frozen time
    inbox = client.get("/api/v1/me/notifications", headers={**bearer(citizen), "Accept-Language": "en"}).json["items"]
    assert inbox[0]["title"] == "A paper expires today: Hộ chiếu"
    assert inbox[1]["body"].startswith('"Hộ chiếu" in your document wallet expires on 20/03/2027 (10 days left)')
    assert inbox[0]["data"]["wallet_item_id"] == item["id"]


def test_a_paper_kept_with_a_few_days_left_is_reminded_at_once_and_a_worker_back_late_catches_up(client, session):
    clock.freeze(local(EXPIRES - timedelta(days=4)))
    citizen = sign_in(client)
    assert keep(client, citizen, expires_at=EXPIRES.isoformat()).status_code == 201
    assert reminders.check_expiry(session) == 1  # expiring: 4 days left
    clock.freeze(local(EXPIRES + timedelta(days=1)))  # no worker ran on the day itself
    assert reminders.check_expiry(session) == 1
    clock.freeze(local(EXPIRES + timedelta(days=30)))
    citizen = sign_in(client)
    assert keep(client, citizen, expires_at=(EXPIRES - timedelta(days=365)).isoformat()).status_code == 201
    assert reminders.check_expiry(session) == 0


def test_a_deleted_paper_is_not_reminded(client, session):
    citizen = sign_in(client)
    item = keep(client, citizen, expires_at=EXPIRES.isoformat()).json
    client.delete(f"/api/v1/me/wallet/{item['id']}", headers=bearer(citizen))
    clock.freeze(local(EXPIRES))
    assert reminders.check_expiry(session) == 0


@pytest.fixture
def expiring_item(app):
    """A committed wallet item that expires in 10 days; removed afterwards."""
    engine = state_of(app).runtime.engine
    clock.freeze(local(EXPIRES - timedelta(days=10)))
    sha = "e" * 64
    with Session(engine) as session, session.begin():
        owner = User(cccd="001090054321", full_name="Người thử ví", date_of_birth=date(1990, 1, 1), gender="male",
                     eid_level=2, eid_subject="wallet-race")
        session.add(owner)
        if session.get(StoredFile, sha) is None:
            session.add(StoredFile(sha256=sha, size=1, content_type="application/pdf", created_at=clock.now()))
        session.flush()
        item = WalletItem(owner_id=owner.id, document_type="to_khai_tthn", title="Thử", source="upload", sha256=sha,
                          filename="t.pdf", expires_at=EXPIRES, created_at=clock.now())
        session.add(item)
        session.flush()
        ids = (item.id, owner.id)
    yield engine, ids
    with Session(engine) as session, session.begin():
        session.execute(delete(WalletAlert).where(WalletAlert.item_id == ids[0]))
        session.execute(delete(Notification).where(Notification.user_id == ids[1]))
        session.execute(delete(WalletItem).where(WalletItem.id == ids[0]))
        session.execute(delete(User).where(User.id == ids[1]))
        session.execute(delete(StoredFile).where(StoredFile.sha256 == sha))


def test_several_workers_remind_once(expiring_item):
    engine, (item_id, owner_id) = expiring_item
    barrier, written, errors = threading.Barrier(3), [], []

    def check() -> None:
        barrier.wait()
        try:
            with Session(engine) as session:
                written.append(reminders.check_expiry(session))
        except Exception as exc:  # noqa: BLE001 (collected and asserted)
            errors.append(exc)

    threads = [threading.Thread(target=check) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with Session(engine) as session:
        rows = session.scalar(select(func.count()).select_from(WalletAlert).where(WalletAlert.item_id == item_id))
        kinds = session.scalars(select(Notification.kind).where(Notification.user_id == owner_id)).all()
    assert errors == [] and sum(written) == 1
    assert rows == 1 and kinds == ["wallet.expiring"]
