"""services.db helpers on both databases: a unique-key race is an answer, not an IntegrityError."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from api.context import state_of
from services.db import insert_new, lost_connection, transient
from services.models import DeadlineAlert
from tests.dossier_helpers import submitted
from tests.helpers import sign_in


def test_insert_new_inserts_once_and_then_answers_none(client, session):
    # Two workers telling the same dossier at once come down to this: the second insert must neither
    # raise nor roll back the batch it is part of (issue 17, item 8).
    dossier = submitted(client, sign_in(client))
    due = datetime(2026, 12, 10, 10, tzinfo=UTC)
    row = {"dossier_id": dossier["id"], "event": "overdue", "due_at": due, "sent_at": due}
    key = ["dossier_id", "event", "due_at"]
    assert insert_new(session, DeadlineAlert, row, key=key) == dossier["id"]
    assert insert_new(session, DeadlineAlert, row, key=key) is None
    assert session.scalar(select(func.count()).select_from(DeadlineAlert)
                          .where(DeadlineAlert.dossier_id == dossier["id"])) == 1


def test_autocommit_reads_send_no_begin_and_refuse_a_unit_of_work(settings):
    """A read-only request's statements run on a connection in autocommit mode: no BEGIN, no COMMIT."""
    import pytest
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from services.db import autocommit_reads, make_engine, transaction

    engine = make_engine(settings.database_url)
    seen: list[tuple[str, bool]] = []

    def before(conn, _cursor, statement, *_args):
        dbapi = conn.connection.dbapi_connection
        # psycopg: the connection's autocommit flag; pysqlite: SQLAlchemy emits BEGIN itself (services.db)
        seen.append((statement.split()[0], dbapi.autocommit if hasattr(dbapi, "pgconn") else False))

    event.listen(engine, "before_cursor_execute", before)
    try:
        with Session(engine) as session:
            session.scalar(select(func.count()).select_from(DeadlineAlert))
            session.commit()
            autocommit_reads(session)
            session.scalar(select(func.count()).select_from(DeadlineAlert))
            with pytest.raises(RuntimeError), transaction(session):
                pass
            session.commit()
        with Session(engine) as session:  # the pooled connection went back in its usual mode
            session.scalar(select(func.count()).select_from(DeadlineAlert))
    finally:
        engine.dispose()
    if engine.dialect.name == "sqlite":
        assert [s for s, _ in seen] == ["BEGIN", "SELECT", "SELECT", "BEGIN", "SELECT"]
    else:
        assert seen == [("SELECT", False), ("SELECT", True), ("SELECT", False)]


def test_held_reads_keep_one_connection_per_thread_and_replace_a_failed_or_old_one(settings, monkeypatch):
    """The WSGI edge's connection (services.db.HeldReads): kept between reads, in autocommit, in UTC; dropped
    when a read fails under it, replaced when older than the recycle age; its pool slot is not the sessions'."""
    import threading

    import pytest
    from sqlalchemy import literal

    from services import db

    engine = db.make_engine(settings.database_url)
    held = db.HeldReads(engine)
    try:
        with held.connection() as first:
            assert db.fetch_rows(first, select(literal(1)), {})[0][0] == 1
        with held.connection() as again:
            assert again is first
        other: list[object] = []
        thread = threading.Thread(target=lambda: other.append(held.connection().__enter__()))
        thread.start()
        thread.join()
        assert other and other[0] is not first  # each thread its own
        with pytest.raises(ZeroDivisionError), held.connection():
            raise ZeroDivisionError  # a failed read: that connection is not used again
        with held.connection() as after_failure:
            assert after_failure is not first and after_failure.invalidated is False
        if engine.dialect.name == "postgresql":
            assert after_failure.exec_driver_sql("SHOW TimeZone").scalar() == "UTC"
            assert after_failure.connection.dbapi_connection.autocommit is True
        monkeypatch.setattr(db, "RECYCLE_SECONDS", 0)
        with held.connection() as recycled:
            assert recycled is not after_failure
    finally:
        engine.dispose()
    assert first.invalidated and recycled.invalidated  # dispose() closed what was held


def test_a_deadlocks_victim_is_transient_and_so_run_again_not_a_500(app):
    # Two transactions that lock two rows in opposite orders: PostgreSQL rolls one back (40P01). Its error is
    # transient (services.db.transient): api/replay.py runs such a request once more, api/errors.py answers 503.
    engine = state_of(app).runtime.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes its one write lock at BEGIN: its transactions do not deadlock")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE IF NOT EXISTS deadlock_probe (id int PRIMARY KEY)"))
        c.execute(text("INSERT INTO deadlock_probe VALUES (1), (2) ON CONFLICT DO NOTHING"))
    barrier, errors = threading.Barrier(2), []

    def lock(first: int, second: int) -> None:
        try:
            with engine.begin() as c:
                c.execute(text("SELECT 1 FROM deadlock_probe WHERE id = :i FOR UPDATE"), {"i": first})
                barrier.wait()
                c.execute(text("SELECT 1 FROM deadlock_probe WHERE id = :i FOR UPDATE"), {"i": second})
        except DBAPIError as exc:
            errors.append(exc)

    try:
        threads = [threading.Thread(target=lock, args=pair) for pair in ((1, 2), (2, 1))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        [victim] = errors
        assert transient(victim) and not lost_connection(victim)
    finally:
        with engine.begin() as c:
            c.execute(text("DROP TABLE deadlock_probe"))
