"""What a move writes for its notices (services.notices.inbox.notify_all): one push job per device of each
recipient, whose badge is the person's unread count with the move's own notices; on PostgreSQL all of it in
one statement, which must write what the ORM path writes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services.clock import clock
from services.models import Device, Dossier, Notification, PushJob, User
from services.notices import alerts
from tests.api.test_notifications import inbox, register
from tests.dossier_helpers import act, official_of, submitted
from tests.helpers import CITIZEN, OTHER, bearer, sign_in


@pytest.fixture
def citizen(client):
    return sign_in(client, CITIZEN)


def test_a_push_carries_the_unread_count_with_its_own_notification_as_badge(client, session, citizen):
    # Every recipient of a move (the applicant, each official of the agency) is found with their devices and
    # unread counts in the statement that writes the notifications (or, on SQLite, in one query before it).
    official = official_of(client, session)
    register(client, citizen, token="tok-badge-citizen")
    register(client, official, token="tok-badge-official")
    submitted(client, citizen)
    assert client.post("/api/v1/me/notifications/read-all", headers=bearer(citizen)).status_code == 204
    submitted(client, citizen)
    submitted(client, citizen)
    rows = session.execute(select(Device.token, PushJob.badge).join(Device, Device.id == PushJob.device_id)
                           .where(PushJob.kind == "message", Device.token.like("tok-badge-%"))).all()
    assert sorted(rows) == [("tok-badge-citizen", 1), ("tok-badge-citizen", 1), ("tok-badge-citizen", 2),
                            ("tok-badge-official", 1), ("tok-badge-official", 2), ("tok-badge-official", 3)]


def test_badges_after_a_submit_are_the_unread_counts_with_the_new_notices(client, session, citizen):
    """On both databases the same numbers (PostgreSQL writes them in one statement, SQLite through the ORM):
    each device of a recipient gets the person's unread count before the move plus what the move told them;
    a recipient without a device gets no push job."""
    official, colleague = official_of(client, session), official_of(client, session, person=OTHER)
    for tokens, token in ((citizen, "tok-badges-c1"), (citizen, "tok-badges-c2"), (official, "tok-badges-o")):
        assert register(client, tokens, token=token).status_code in (200, 201)
    submitted(client, citizen)
    submitted(client, citizen)
    oldest = inbox(client, official)["items"][-1]["id"]
    assert client.post(f"/api/v1/me/notifications/{oldest}/read", headers=bearer(official)).status_code == 204
    dossier = submitted(client, citizen)
    rows = session.execute(select(Device.token, PushJob.badge).join(Device, Device.id == PushJob.device_id)
                           .join(Notification, Notification.id == PushJob.notification_id)
                           .where(Notification.dossier_id == dossier["id"])).all()
    assert sorted(rows) == [("tok-badges-c1", 3), ("tok-badges-c2", 3), ("tok-badges-o", 2)]
    assert len(inbox(client, colleague)["items"]) == 3  # told, with no device to push to


def test_one_statement_writes_what_the_orm_path_writes(client, session, citizen):
    """PostgreSQL's one statement (services.notices.inbox._written_at_once) against the ORM path on the same
    rows: the same notifications, push jobs and badges, the same other rows; someone told twice in one call
    (an official who is also the applicant) counts both in their badge."""
    from services.events import log as events
    from services.models import Event
    from services.notices import inbox as notices
    from services.rows import Row

    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the one-statement path is PostgreSQL's")
    official = official_of(client, session)
    dual = official_of(client, session, person=OTHER)  # also the applicant below
    for tokens, token in ((citizen, "tok-twin-c"), (official, "tok-twin-o1"), (official, "tok-twin-o2"),
                          (dual, "tok-twin-d")):
        assert register(client, tokens, token=token).status_code in (200, 201)
    dossier_id = submitted(client, citizen)["id"]
    submitted(client, sign_in(client, OTHER))
    dossier = session.get(Dossier, dossier_id)
    applicant, other = (session.scalar(select(Device.user_id).where(Device.token == t))
                        for t in ("tok-twin-c", "tok-twin-d"))
    tells = [([applicant, other, applicant], "dossier.submitted", {"n": 1}),
             (alerts.officials(dossier.agency_id), "staff.submitted", {"n": 2}),
             ([], "staff.submitted", {"n": 3}),
             (select(Device.user_id).where(Device.token == "tok-twin-o1"), "staff.overdue", {"n": 5})]

    def written(path):
        savepoint = session.begin_nested()
        event = events.row("dossier.submitted", events.DOSSIER, dossier.id, {"n": 4}, sequence=99,
                           user_id=dossier.applicant_id, agency_id=dossier.agency_id)
        ids = path(session, tells, dossier, [Row(Event, event)])
        notes = session.execute(select(Notification.user_id, Notification.kind, Notification.params,
                                       Notification.dossier_id, Notification.created_at)
                                .where(Notification.id.in_(ids))).all()
        jobs = session.execute(select(Notification.user_id, Notification.kind, PushJob.device_id, PushJob.badge,
                                      PushJob.kind, PushJob.status, PushJob.attempts, PushJob.next_attempt_at)
                               .join(PushJob, PushJob.notification_id == Notification.id)
                               .where(Notification.id.in_(ids))).all()
        logged = session.execute(select(Event.type, Event.data, Event.sequence, Event.user_id, Event.agency_id,
                                        Event.occurred_at).where(Event.sequence == 99)).all()
        counts = session.execute(select(User.id, User.unread_count).where(User.id.in_({n[0] for n in notes}))
                                 .order_by(User.id)).all()
        savepoint.rollback()
        return sorted(map(tuple, notes), key=repr), sorted(map(tuple, jobs), key=repr), logged, counts

    clock.freeze(clock.now())  # the rows' times are equal too
    by_the_orm, at_once = written(notices._written_by_the_orm), written(notices._written_at_once)
    assert at_once == by_the_orm
    notes, jobs, logged, counts = at_once
    assert len(notes) == 5 and len(logged) == 1  # the applicant and the dual official; the two officials; o
    assert len(counts) == 3  # each person's kept count, the same after either path
    # Unread before, plus what this call wrote: the applicant 1 + 1; the official o (two devices, two notices)
    # 2 + 2; the dual official 3 (two staff notices and their own dossier's) + 2, on each notice's job.
    assert sorted(job[3] for job in jobs) == [2, 4, 4, 4, 4, 5, 5]


def unread_as_counted(session, user_id: str) -> int:
    return session.scalar(select(func.count()).select_from(Notification)
                          .where(Notification.user_id == user_id, Notification.read_at.is_(None)))


def test_the_kept_unread_count_follows_every_write_of_the_inbox(client, session, citizen):
    """The count each person's row keeps (services.notices.inbox) is, after every kind of write, what counting
    their unread notifications gives: notices of a submit and of an official's move, one read (twice), all
    read, and a read-all with nothing unread."""
    official = official_of(client, session)
    for tokens, token in ((citizen, "tok-kept-c"), (official, "tok-kept-o")):
        assert register(client, tokens, token=token).status_code in (200, 201)
    people = [session.scalar(select(Device.user_id).where(Device.token == t)) for t in ("tok-kept-c", "tok-kept-o")]

    def agree() -> list[int]:
        session.expire_all()
        kept = [session.get(User, person).unread_count for person in people]
        assert kept == [unread_as_counted(session, person) for person in people]
        assert client.get("/api/v1/me/notifications/unread-count", headers=bearer(citizen)).json == {
            "count": kept[0]}
        return kept

    dossier = submitted(client, citizen)
    submitted(client, citizen)
    assert agree() == [2, 2]
    act(client, official, dossier["id"], "receive")
    assert agree() == [3, 2]
    newest = inbox(client, citizen)["items"][0]["id"]
    for _ in range(2):
        assert client.post(f"/api/v1/me/notifications/{newest}/read", headers=bearer(citizen)).status_code == 204
    assert agree() == [2, 2]
    for _ in range(2):
        assert client.post("/api/v1/me/notifications/read-all", headers=bearer(official)).status_code == 204
    assert agree() == [2, 0]
    submitted(client, citizen)
    assert agree() == [3, 1]


def test_a_change_to_a_row_not_as_read_rolls_the_move_back(client, session, citizen):
    """A move writes its dossier as a Change of the version it read (services.rows): if the row is not at
    that version any more, nothing of the statement stays, as the ORM's own version check would have it."""
    from sqlalchemy.orm.exc import StaleDataError

    from services.notices import inbox as notices
    from services.rows import Change, pending_change

    dossier = session.get(Dossier, submitted(client, citizen)["id"])
    version = dossier.version
    dossier.rating_comment = "bump"  # any column: a pending change from the version read
    change = pending_change(dossier)
    assert change == Change(Dossier, {"id": dossier.id, "version": version},
                            {"rating_comment": "bump", "version": version + 1})
    assert dossier.version == version + 1 and dossier not in session.dirty  # no flush has anything to walk
    stale = change._replace(where={**change.where, "version": version - 1})
    paths = [notices._written_by_the_orm]
    if session.get_bind().dialect.name == "postgresql":
        paths.append(notices._written_at_once)
    for path in paths:
        savepoint = session.begin_nested()
        with pytest.raises(StaleDataError):
            path(session, [([dossier.applicant_id], "dossier.submitted", {})], dossier, [stale])
        savepoint.rollback()
    assert session.scalar(select(Dossier.version).where(Dossier.id == dossier.id)) == version
