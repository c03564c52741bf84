"""services.db helpers on both databases: a unique-key race is an answer, not an IntegrityError."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from services.db import insert_new
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
