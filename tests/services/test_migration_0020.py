"""Migration 0020 sets each person's kept unread count from the notifications they have not read."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import MetaData, select

from services import migrations
from services.db import make_engine
from tests.services.test_migration_0009 import scratch_url  # noqa: F401 (a fixture)

T0 = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)


def test_0020_counts_the_unread_of_each_person(scratch_url):  # noqa: F811 (the fixture)
    migrations.upgrade(scratch_url, "0019")
    engine = make_engine(scratch_url)
    try:
        t = MetaData()
        t.reflect(engine)
        busy, quiet = str(uuid.uuid4()), str(uuid.uuid4())
        with engine.begin() as c:
            c.execute(t.tables["users"].insert(), [
                {"id": person, "cccd": cccd, "full_name": "Lê Văn Tám", "date_of_birth": date(1990, 1, 1),
                 "gender": "male", "eid_level": 2, "eid_subject": cccd, "created_at": T0, "last_sign_in_at": T0}
                for person, cccd in ((busy, "001090000001"), (quiet, "001090000002"))])
            c.execute(t.tables["notifications"].insert(), [
                {"id": str(uuid.uuid4()), "user_id": busy, "kind": "dossier.received", "params": {},
                 "created_at": T0, "read_at": read_at} for read_at in (None, None, None, T0)])
        migrations.upgrade(scratch_url, "head")
        t = MetaData()
        t.reflect(engine)
        users = t.tables["users"]
        with engine.connect() as c:
            assert dict(c.execute(select(users.c.id, users.c.unread_count)).all()) == {busy: 3, quiet: 0}
        migrations.downgrade(scratch_url, "0019")
        migrations.upgrade(scratch_url, "head")
    finally:
        engine.dispose()
