"""PostgreSQL drops the app's connections (restart, failover, pg_terminate_backend): no request may fail.

These run a second app on the real engine and committed data (the suite's rolled-back connection
cannot be terminated without ending the test), tagged with an application_name so that only its
connections are terminated. Each round fills the pool, terminates every connection of the app, and
checks that the next requests of one kind answer as if nothing had happened.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, request_started
from flask.testing import FlaskClient
from sqlalchemy import Engine, delete, event, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from api import create_app
from api.context import state_of
from services.health import database_ok
from services.idempotency import IdempotentRequest, begin
from services.models import (
    Agency,
    Dossier,
    DossierCodeCounter,
    IdempotencyKey,
    StoredFile,
    TimelineEntry,
    User,
)
from services.settings import Settings
from tests.dossier_helpers import PDF, SIMPLE, draft, submitted
from tests.helpers import bearer, sign_in

TAG = "smartqn-dropped-connections-test"
PERSON = {"cccd": "001301000777", "full_name": "Lê Thị Thu", "date_of_birth": "2001-01-01", "gender": "female",
          "eid_level": 2}


@dataclasses.dataclass
class Live:
    app: Flask
    client: FlaskClient
    engine: Engine
    admin: Engine  # the suite's own engine: its connections are not tagged, never terminated here
    tokens: dict[str, Any]
    statuses: list[int] = dataclasses.field(default_factory=list)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.client.open(path, method=method, headers={**bearer(self.tokens), **kwargs.pop("headers", {})},
                                    **kwargs)
        self.statuses.append(response.status_code)
        return response

    def fill_pool(self, connections: int = 4) -> None:
        """Leave the pool holding some idle connections, as a server does between requests."""
        held = [self.engine.connect() for _ in range(connections)]
        for connection in held:
            connection.exec_driver_sql("SELECT 1")
        for connection in held:
            connection.close()

    def backends(self) -> int:
        """This app's connections, as the server sees them now (a new connection: a transaction would keep
        reading the same snapshot of pg_stat_activity)."""
        with self.admin.connect() as connection:
            return connection.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :tag"),
                                     {"tag": TAG}) or 0

    def terminate(self) -> int:
        """End every backend of this app from another connection, and wait until they are gone."""
        with self.admin.connect() as connection:
            return connection.scalar(text("SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
                                          "WHERE application_name = :tag"), {"tag": TAG}) or 0


@pytest.fixture
def live(app: Flask, settings: Settings) -> Iterator[Live]:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("pg_terminate_backend is PostgreSQL's; SQLite has no server to drop connections")
    other = create_app(dataclasses.replace(settings, database_url=f"{settings.database_url}?application_name={TAG}"))
    engine = state_of(other).runtime.engine
    admin = state_of(app).runtime.engine
    sha = hashlib.sha256(PDF).hexdigest()
    with Session(admin) as session:
        file_was_there = session.get(StoredFile, sha) is not None
    client = other.test_client()
    try:
        yield Live(other, client, engine, admin, sign_in(client, PERSON))
    finally:
        engine.dispose()
        with Session(admin) as session, session.begin():
            user = session.scalar(select(User.id).where(User.cccd == PERSON["cccd"]))
            agency = session.scalar(select(Agency.id).where(Agency.code == SIMPLE["agency"]))
            session.execute(delete(Dossier).where(Dossier.applicant_id == user))  # cascades to its rows
            session.execute(delete(DossierCodeCounter).where(DossierCodeCounter.agency_id == agency))
            session.execute(delete(User).where(User.id == user))  # keys, tokens, notifications cascade
            if not file_was_there:
                session.execute(delete(StoredFile).where(StoredFile.sha256 == sha))


def test_readiness_answers_200_when_its_pooled_connection_was_dropped(live):
    live.fill_pool()
    assert live.terminate() >= 4
    response = live.call("GET", "/readyz")
    assert response.status_code == 200, response.json
    assert response.json["checks"] == {"database": "ok"}


def test_reads_survive_dropped_connections(live):
    dossier = draft(live.client, live.tokens)
    live.fill_pool()
    assert live.terminate() >= 4
    for _ in range(3):
        detail = live.call("GET", f"/api/v1/dossiers/{dossier['id']}")
        assert detail.status_code == 200, detail.json
        assert detail.json["id"] == dossier["id"] and detail.json["status"] == "draft"
        procedure = live.call("GET", f"/api/v1/procedures/{SIMPLE['code']}")
        assert procedure.status_code == 200 and procedure.json["code"] == SIMPLE["code"]
        listed = live.call("GET", "/api/v1/dossiers")
        assert listed.status_code == 200 and [d["id"] for d in listed.json["items"]] == [dossier["id"]]
    assert all(status < 500 for status in live.statuses)


def test_the_edges_held_connection_is_replaced_after_a_drop_and_closed_on_dispose(live):
    # The WSGI edge keeps one connection per thread between requests (services.db.HeldReads): one the
    # server dropped is replaced before the next read, which the edge still answers without Flask.
    dossier = submitted(live.client, live.tokens)
    path = f"/api/v1/dossiers/{dossier['id']}"
    flask_answered: list[object] = []

    def started(sender: Any, **_extra: Any) -> None:
        flask_answered.append(sender)

    request_started.connect(started, live.app)
    try:
        first = live.call("GET", path)  # Flask: renders and keeps it
        assert first.status_code == 200 and flask_answered
        for _ in range(2):
            flask_answered.clear()
            assert live.terminate() >= 1  # the held connection among them
            again = live.call("GET", path)
            assert again.status_code == 200 and again.data == first.data
            assert not flask_answered, "the edge answered on a fresh connection"
    finally:
        request_started.disconnect(started, live.app)
    assert live.backends() >= 1
    live.engine.dispose()  # the pool's connections and the held one
    for _ in range(50):  # a closed connection's backend leaves pg_stat_activity a moment later
        if live.backends() == 0:
            break
        time.sleep(0.05)
    assert live.backends() == 0


def test_a_submit_and_its_retry_survive_dropped_connections(live):
    dossier = draft(live.client, live.tokens)
    live.fill_pool()
    assert live.terminate() >= 4
    headers = {"Idempotency-Key": "submit-after-drop"}
    first = live.call("POST", f"/api/v1/dossiers/{dossier['id']}/submit", headers=headers)
    assert first.status_code == 200, first.json
    live.fill_pool()
    live.terminate()
    retry = live.call("POST", f"/api/v1/dossiers/{dossier['id']}/submit", headers=headers)
    assert retry.status_code == 200, retry.json
    assert retry.json == first.json and first.json["status"] == "submitted"
    with Session(live.engine) as session:
        keys = session.scalar(select(func.count()).select_from(IdempotencyKey)
                              .where(IdempotencyKey.key == "submit-after-drop"))
    assert keys == 1


def test_a_claim_held_by_a_terminated_transaction_is_not_stranded(live):
    # A submit's transaction claimed its key and then lost its connection before committing: the
    # server rolls it back, so the claim (in the same transaction) goes with it and its lock is freed.
    dossier = draft(live.client, live.tokens)
    user_id = live.client.get("/api/v1/me", headers=bearer(live.tokens)).json["id"]
    stranded = Session(live.engine)
    stranded.begin()
    begin(stranded, IdempotentRequest(user_id, "claimed-then-dropped", "not this request's"))
    assert live.terminate() >= 1
    with contextlib.suppress(DBAPIError):  # its connection is gone; closing it may say so
        stranded.close()
    response = live.call("POST", f"/api/v1/dossiers/{dossier['id']}/submit",
                         headers={"Idempotency-Key": "claimed-then-dropped"})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "submitted"


def test_a_connection_dropped_after_checkout_is_neither_a_409_nor_unready(live):
    # What the checkout cannot see: the server drops the connection between checkout and the first
    # statement. The idempotency claim must not answer "still being processed" for it (the request
    # fails with the disconnect and its retry works), and readiness tries once more on a fresh connection.
    user_id = live.client.get("/api/v1/me", headers=bearer(live.tokens)).json["id"]
    with Session(live.engine) as session:
        session.connection()
        live.terminate()
        with pytest.raises(DBAPIError) as raised:
            begin(session, IdempotentRequest(user_id, "dropped-at-claim", "fingerprint"))
        assert raised.value.connection_invalidated
    with Session(live.engine) as session:
        session.connection()
        live.terminate()
        assert database_ok(session)


class Assassin:
    """Kills the app's database connection under a running request: at the first statement that
    matches, or at COMMIT, from the suite's own (untagged) engine."""

    def __init__(self, live: Live, *, statement: str | None = None, at_commit: bool = False) -> None:
        self.live, self.statement, self.at_commit, self.kills = live, statement, at_commit, 0

    def _kill(self, connection: Any) -> None:
        pid = connection.connection.dbapi_connection.info.backend_pid
        with self.live.admin.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        self.kills += 1

    def before_execute(self, connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.kills == 0 and self.statement and statement.lstrip().upper().startswith(self.statement.upper()):
            self._kill(connection)

    def before_commit(self, connection: Any) -> None:
        if self.kills == 0 and self.at_commit:
            self._kill(connection)

    def __enter__(self) -> Assassin:
        event.listen(self.live.engine, "before_cursor_execute", self.before_execute)
        event.listen(self.live.engine, "commit", self.before_commit)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.live.engine, "before_cursor_execute", self.before_execute)
        event.remove(self.live.engine, "commit", self.before_commit)


def test_a_read_whose_connection_dies_mid_flight_is_answered(live):
    dossier = draft(live.client, live.tokens)
    with Assassin(live, statement="SELECT dossiers") as assassin:
        response = live.call("GET", f"/api/v1/dossiers/{dossier['id']}")
    assert assassin.kills == 1
    assert response.status_code == 200, response.json
    assert response.json["id"] == dossier["id"]


def submit_count(live: Live, dossier_id: str) -> int:
    with Session(live.admin) as session:
        return session.scalar(select(func.count()).select_from(TimelineEntry).where(
            TimelineEntry.dossier_id == dossier_id, TimelineEntry.action == "submit")) or 0


def test_a_write_whose_connection_dies_before_commit_is_done_once(live):
    dossier = draft(live.client, live.tokens)
    with Assassin(live, statement="UPDATE dossier_code_counters") as assassin:
        response = live.call("POST", f"/api/v1/dossiers/{dossier['id']}/submit")
    assert assassin.kills == 1
    assert response.status_code == 200, response.json
    assert response.json["status"] == "submitted" and response.json["code"]
    assert submit_count(live, dossier["id"]) == 1


def test_a_write_that_loses_its_commit_is_a_503_without_a_key_and_done_once_with_one(live):
    first, second = draft(live.client, live.tokens), draft(live.client, live.tokens)
    with Assassin(live, at_commit=True):
        unknown = live.call("POST", f"/api/v1/dossiers/{first['id']}/submit")
    # The COMMIT may or may not have happened: without a key, the caller is told to retry.
    assert unknown.status_code == 503 and unknown.headers["Retry-After"] == "1", unknown.json
    assert unknown.json["code"] == "service_unavailable"
    with Assassin(live, at_commit=True) as assassin:
        keyed = live.call("POST", f"/api/v1/dossiers/{second['id']}/submit", headers={"Idempotency-Key": "lost-commit"})
    assert assassin.kills == 1
    assert keyed.status_code == 200, keyed.json
    assert submit_count(live, second["id"]) == 1
