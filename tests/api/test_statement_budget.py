"""Statements per request on the hot paths, counted with engine events (BEGIN and COMMIT included, as
SAVEPOINT / RELEASE inside the tests' outer transaction), so a regression fails here, not in a benchmark."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select

from services.models import Notification, PushJob
from tests.dossier_helpers import draft, official_of, submitted
from tests.helpers import OTHER, bearer, sign_in

# Statements per write, BEGIN and COMMIT included (SAVEPOINT and RELEASE here), by dialect (`write_budget`).
#
# PostgreSQL, 4 for a submit (the 6, without BEGIN and COMMIT), with or without devices: the
# Idempotency-Key's claim, with the dossier's id (its CTE sets the claim's lock_timeout and its RETURNING
# resets it); the locked SELECT of the dossier (the catalog revision with it: required documents and form
# schema come from the catalog cache); the code counter's UPDATE; and one statement of data-modifying CTEs
# (services.notices.inbox.notify_all): the dossier's UPDATE and its timeline entry's INSERT (written as data,
# services.rows), the event's INSERT, the recipients (the officials' SELECT among them), the notifications'
# INSERT, each person's kept unread count (UPDATE users) and the push jobs of those with a device. Was 13,
# then 8 (9 with devices), then 6.
# An action: the locked SELECT and one statement with the dossier's UPDATE, the timeline entry, the audit
# row, the event, the notifications and the push jobs (was 7, then 4). A receive also issues form 01: the
# form's counter's UPDATE (and its row's INSERT … ON CONFLICT on the year's first, as in these tests), and the
# PDF's stored file (INSERT … ON CONFLICT) and the document's row join the one statement (was 15, then 11,
# then 6; now 4 on the year's first form, 3 after).
#
# SQLite keeps a statement per table: the dossier's UPDATE, and the timeline entry's, the stored file's, the
# document's, the event's and an action's audit row's INSERTs one by one, the recipients with their devices
# and unread counts (one SELECT), the notifications' bulk INSERT, the unread counts' UPDATE and, when someone
# has a device, the push jobs'.
BUDGETS = {"postgresql": {"submit": 4, "action": 2, "receive": 4},
           "sqlite": {"submit": 9, "action": 8, "receive": 12}}


def write_budget(session: Any, write: str, *, devices: bool = False) -> int:
    """The most statements a write may take on the session's database, with BEGIN and COMMIT."""
    dialect = session.get_bind().dialect.name
    push_jobs = 1 if devices and dialect != "postgresql" else 0  # the push jobs' own INSERT
    return BUDGETS[dialect][write] + push_jobs + 2


@contextmanager
def counted(session: Any) -> Iterator[list[str]]:
    statements: list[str] = []
    connection = session.get_bind()

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", before)


def test_reads_are_one_statement_and_writes_a_handful(client: Any, session: Any) -> None:
    citizen, other = sign_in(client), sign_in(client, OTHER)
    official = official_of(client, session)
    ids = [submitted(client, citizen)["id"], submitted(client, other)["id"], submitted(client, citizen)["id"]]
    pending = draft(client, citizen)
    client.get("/api/v1/admin/dossiers", headers=bearer(official))  # the token's revocation check, cached
    client.get("/api/v1/me/notifications/unread-count", headers=bearer(citizen))

    # BEGIN, one SELECT, COMMIT (SAVEPOINT and RELEASE inside the tests' outer transaction; in production
    # these reads run outside a transaction: one statement). The owner's dossier, their list and the queue
    # are glimpsed, and what they show is rendered once per revision (api/dossier_views.py): the first read
    # also loads those dossiers in full, one more SELECT.
    for path, tokens, kept in ((f"/api/v1/dossiers/{ids[0]}", citizen, True),
                               (f"/api/v1/admin/dossiers/{ids[1]}", official, False),
                               ("/api/v1/dossiers?limit=2", citizen, True), ("/api/v1/admin/dossiers", official, True),
                               ("/api/v1/admin/dossiers?limit=1", official, False),  # its dossier is kept already
                               ("/api/v1/me/notifications/unread-count", citizen, False)):
        for budget in (4, 3) if kept else (3,):
            with counted(session) as statements:
                response = client.get(path, headers=bearer(tokens))
            assert response.status_code == 200, response.json
            assert len(statements) <= budget, (path, statements)
    page = client.get("/api/v1/admin/dossiers", headers=bearer(official)).json
    assert [d["id"] for d in page["items"]] == ids and all(d["applicant"]["cccd"] for d in page["items"])
    assert page["items"][0]["timeline"][0]["action"] == "submit" and page["items"][0]["attachments"]

    with counted(session) as statements:
        response = client.post(f"/api/v1/dossiers/{pending['id']}/submit",
                               headers={**bearer(citizen), "Idempotency-Key": "budget"})
    assert response.status_code == 200
    print(f"\nsubmit: {len(statements)} statements")
    assert len(statements) <= write_budget(session, "submit"), statements
    _receive_and_start(client, session, official, ids[0], devices=False)


def test_a_move_stays_within_its_budget_when_the_applicant_and_an_official_have_devices(client: Any,
                                                                                         session: Any) -> None:
    citizen, official = sign_in(client), official_of(client, session)
    for tokens, token in ((citizen, "budget-citizen"), (official, "budget-official")):
        registered = client.post("/api/v1/me/devices", headers=bearer(tokens),
                                 json={"token": token, "platform": "android"})
        assert registered.status_code in (200, 201), registered.json
    target, pending = submitted(client, citizen)["id"], draft(client, citizen)
    with counted(session) as statements:
        response = client.post(f"/api/v1/dossiers/{pending['id']}/submit",
                               headers={**bearer(citizen), "Idempotency-Key": "budget-devices"})
    assert response.status_code == 200
    print(f"\nsubmit with devices: {len(statements)} statements")
    assert len(statements) <= write_budget(session, "submit", devices=True), statements
    assert _push_jobs(session, pending["id"]) == 2  # the applicant's and the official's: the budget covered them
    _receive_and_start(client, session, official, target, devices=True)
    # The submit told both; receive and start_processing tell the applicant.
    assert _push_jobs(session, target) == 4


def _receive_and_start(client: Any, session: Any, official: dict[str, Any], dossier_id: str, *,
                       devices: bool) -> None:
    for action, write in (("receive", "receive"), ("start_processing", "action")):
        current = client.get(f"/api/v1/admin/dossiers/{dossier_id}", headers=bearer(official))
        with counted(session) as statements:
            response = client.post(f"/api/v1/admin/dossiers/{dossier_id}/actions", json={"action": action},
                                   headers={**bearer(official), "If-Match": current.headers["ETag"]})
        assert response.status_code == 200, response.json
        print(f"{action}{' with devices' if devices else ''}: {len(statements)} statements")
        assert len(statements) <= write_budget(session, write, devices=devices), statements


def _push_jobs(session: Any, dossier_id: str) -> int:
    return session.scalar(select(func.count()).select_from(PushJob)
                          .join(Notification, Notification.id == PushJob.notification_id)
                          .where(Notification.dossier_id == dossier_id))


def test_the_direct_dossier_rendering_equals_the_schemas_dump(app: Any, client: Any, session: Any) -> None:
    """presenters.dumped() skips marshmallow on the hot paths; it must write exactly what the schemas would."""
    from api import presenters
    from schemas.dossiers import DossierSchema, StaffDossierSchema
    from services.actors import Actor
    from services.dossiers.access import get_visible
    from services.models import User
    from tests.dossier_helpers import FEE, act

    citizen, official = sign_in(client), official_of(client, session)
    received = submitted(client, citizen)["id"]
    assert act(client, official, received, "receive").status_code == 200
    ids = [received, submitted(client, citizen, FEE)["id"], draft(client, citizen)["id"],
           draft(client, citizen, papers=False)["id"]]
    applicant = session.query(User).filter_by(cccd="049085001234").one()
    actors = [Actor(applicant.id, "citizen"), Actor("someone", "admin")]
    with app.test_request_context(headers={"Accept-Language": "en"}):
        for dossier_id in ids:
            dossier = get_visible(session, actors[1], dossier_id, staff=True)
            for actor in actors:
                view = presenters.dossier(dossier, actor)
                assert presenters.dumped(view) == DossierSchema().dump(view)
                staff_view = presenters.dossier(dossier, actor, staff=True)
                assert presenters.dumped(staff_view) == StaffDossierSchema().dump(staff_view)
