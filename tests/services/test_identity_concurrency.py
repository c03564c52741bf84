"""Two first sign-ins of the same person at once (a double tap on a slow network) make one citizen."""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from api.context import state_of
from services.models import RefreshToken, User
from services.people.eid import EidIdentity
from services.people.identity import sign_in

PERSON = EidIdentity(subject="s-1", cccd="001301000777", full_name="Đỗ Thị Mai", date_of_birth=date(2001, 1, 1),
                     gender="female", eid_level=1)


def test_concurrent_first_sign_ins_create_one_citizen(app, settings):
    engine = state_of(app).runtime.engine
    barrier, results, errors = threading.Barrier(2), [], []

    def attempt() -> None:
        with Session(engine, expire_on_commit=False) as session:
            barrier.wait()
            try:
                results.append(sign_in(session, PERSON, settings=settings).user.user.id)
            except Exception as exc:  # noqa: BLE001 (collected and asserted below)
                errors.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert errors == [] and len(results) == 2 and results[0] == results[1]
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(User).where(User.cccd == PERSON.cccd)) == 1
    finally:
        with Session(engine) as session, session.begin():
            ids = select(User.id).where(User.cccd == PERSON.cccd).scalar_subquery()
            session.execute(delete(RefreshToken).where(RefreshToken.user_id.in_(ids)))
            session.execute(delete(User).where(User.cccd == PERSON.cccd))
