"""The inbox: writing a notification with its push jobs (in the caller's transaction), reading it back."""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    JSON,
    Connection,
    Integer,
    Select,
    String,
    Subquery,
    Table,
    Text,
    bindparam,
    case,
    func,
    insert,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.orm import Session

from notifications.templates import kinds
from services.clock import clock
from services.db import as_utc, fetch_rows, new_id, rowcount, transaction, utc
from services.errors import NotFound
from services.models import Device, Dossier, Notification, PushJob, StaffRole, User
from services.models.notification import pushes_written
from services.pagination import Page, after_bound, bound_after, keyset_page, page_limit, paged
from services.rows import Change, Written, built, checked, statement
from vocab import PushJobStatus, Role


class Officials(NamedTuple):
    """The signed-up officials of an agency as an audience (services.notices.alerts.officials), resolved in the
    statement that writes the notices."""

    agency_id: str


# Whom a notice is for: people by id, an agency's officials (`Officials`), or any SELECT of their ids, which
# notify_all resolves in the statement that writes the notices (on PostgreSQL) or finds the devices.
Recipients = Iterable[str] | Select[Any] | Officials
Tell = tuple[Recipients, str, dict[str, Any]]  # who, the kind, its parameters


def notify(session: Session, user_ids: Recipients, kind: str, params: dict[str, Any], *,
           dossier: Dossier | None = None) -> list[str]:
    """One inbox entry per person and one push job per (entry, device), in the caller's transaction."""
    return notify_all(session, [(user_ids, kind, params)], dossier=dossier)


def notify_all(session: Session, tells: list[Tell], *, dossier: Dossier | None = None,
               rows: Sequence[Written] = ()) -> list[str]:
    """Several notifications of one event (the applicant's, the officials') with one push job per (notification,
    device), whose badge is the person's kept unread count with the notifications written here (which this
    adds to it). `rows`: the event's other rows (a move's dossier Change and timeline entry, desk document,
    event and audit entry), written with them.
    Returns the notifications' ids.

    On a submit each statement costs more than the rows in it: on PostgreSQL all of it is one statement
    (`_written_at_once`, built once per shape); elsewhere the rows are written one by one, one SELECT finds
    every recipient with their devices and unread counts, then one bulk INSERT writes the notifications, one
    UPDATE the counts and, when someone has a device, one INSERT the push jobs."""
    for _who, kind, _params in tells:
        if kind not in kinds():
            raise ValueError(f"no template for notification kind {kind!r}")
    written = _written_at_once if session.get_bind().dialect.name == "postgresql" else _written_by_the_orm
    return written(session, tells, dossier, rows)


def _written_by_the_orm(session: Session, tells: list[Tell], dossier: Dossier | None,
                        rows: Sequence[Written]) -> list[str]:
    """notify_all elsewhere than on PostgreSQL (and its reference there: tests compare the two)."""
    matched = 0
    for row in rows:
        result = session.execute(statement(session, row))
        matched += rowcount(result) if isinstance(row, Change) else 0
    checked(sum(isinstance(row, Change) for row in rows), matched)
    (audiences, _rows), params = _shape(tells, ())
    audience = _audience(audiences)
    if audience is None:
        return []
    found = session.execute(
        select(audience.c.tell, audience.c.user_id, Device.id, User.unread_count)
        .join(User, User.id == audience.c.user_id).outerjoin(Device, Device.user_id == audience.c.user_id).distinct()
        .order_by(audience.c.tell, audience.c.user_id, Device.id), params).all()
    now = clock.now()
    notes: dict[tuple[int, str], dict[str, Any]] = {}  # one notification per tell and person
    devices: dict[tuple[int, str], list[str]] = defaultdict(list)
    unread_before: dict[str, int] = {}
    for tell, user_id, device_id, unread_count in found:
        if (tell, user_id) not in notes:
            _who, kind, params = tells[tell]
            notes[tell, user_id] = {"id": new_id(), "user_id": user_id, "kind": kind, "params": params,
                                    "dossier_id": dossier.id if dossier else None, "created_at": now}
        if device_id is not None:
            devices[tell, user_id].append(device_id)
        unread_before[user_id] = unread_count
    if not notes:
        return []
    session.execute(insert(Notification), list(notes.values()))
    written = Counter(row["user_id"] for row in notes.values())
    session.execute(_bump(), [{"person": user_id, "by": n} for user_id, n in sorted(written.items())])
    if devices:
        session.execute(insert(PushJob), [
            {"id": new_id(), "kind": "message", "notification_id": notes[key]["id"], "device_id": device_id,
             "badge": unread_before[key[1]] + written[key[1]], "status": "pending", "attempts": 0,
             "next_attempt_at": now, "created_at": now}
            for key, device_ids in devices.items() for device_id in device_ids])
        pushes_written(session)
    return [row["id"] for row in notes.values()]


def _written_at_once(session: Session, tells: list[Tell], dossier: Dossier | None,
                     rows: Sequence[Written]) -> list[str]:
    """notify_all on PostgreSQL: one statement of data-modifying CTEs (`_statement`), built once per shape and
    run with the call's values as parameters."""
    shape, params = _shape(tells, rows)
    params.update(dossier_id=dossier.id if dossier else None, now=clock.now())
    audiences, written = shape
    build = _statement if all(not isinstance(a, Select) for a in audiences) else _statement.__wrapped__
    found = session.execute(build(audiences, written), params).all()
    checked(sum(change for *_, change in written), found[0][2])
    if any(n for _id, n, _matched in found):
        pushes_written(session)
    return [id_ for id_, _n, _matched in found if id_ is not None]


PEOPLE = cast("Table", User.__table__)  # a person's unread count is updated as a column, not through the ORM
RowShape = tuple[Any, tuple[str, ...], tuple[str, ...], bool]  # a row's model, columns, key, and if a Change


def _shape(tells: list[Tell], rows: Sequence[Written]) -> tuple[tuple[tuple[Any, ...], tuple[RowShape, ...]],
                                                               dict[str, Any]]:
    """What `_statement` is built from (each tell's audience: "ids", "officials", a SELECT, or None for no one;
    each row's model, columns, conflict key or (a Change) the columns that find it), and the values it runs
    with."""
    audiences: list[Any] = []
    params: dict[str, Any] = {}
    for n, (who, kind, values) in enumerate(tells):
        params[f"kind_{n}"], params[f"params_{n}"] = kind, values
        if isinstance(who, Officials):
            audiences.append("officials")
            params[f"agency_{n}"] = who.agency_id
        elif isinstance(who, Select):
            audiences.append(who)
        elif ids := list(dict.fromkeys(who)):
            audiences.append("ids")
            params[f"ids_{n}"] = ids
        else:
            audiences.append(None)
    written = []
    for n, row in enumerate(rows):
        params.update({f"row_{n}_{c}": value for c, value in row.values.items()})
        if isinstance(row, Change):
            written.append((row.model, tuple(row.values), tuple(row.where), True))
            params.update({f"where_{n}_{c}": value for c, value in row.where.items()})
        else:
            written.append((row.model, tuple(row.values), row.conflict, False))
    return (tuple(audiences), tuple(written)), params


@functools.lru_cache(maxsize=64)
def _statement(audiences: tuple[Any, ...], rows: tuple[RowShape, ...]) -> Select[Any]:
    """The audience (with the officials' SELECT) → INSERT the notifications … RETURNING id, user_id → add them
    to each person's unread count (UPDATE users … RETURNING the count) → INSERT the push jobs of those joined
    to the devices, each badge that count; the other rows are further INSERTs and UPDATEs.

    The people's rows are locked in the order of their ids before they are updated (`locked`), so two
    statements that tell the same officials wait for each other rather than deadlock (every other writer of
    the count locks one person), and FOR NO KEY UPDATE, as the UPDATE itself would: a transaction that only
    refers to a person (the Idempotency-Key row of a submit waiting for its agency's code counter, which this
    transaction holds) must not block them.

    Ids are gen_random_uuid()'s, in the format of services.db.new_id. Gives (notification id, push jobs
    written, rows the Changes matched), or one (NULL, 0, matched) when no one is told. Built once per shape
    (a SELECT audience: every time): a statement this size costs more to build, and to key for SQLAlchemy's
    compiled cache, than the round trips it saves."""
    others, changes = [], []
    for n, (model, columns, key, change) in enumerate(rows):
        table = model.__table__
        values = {c: bindparam(f"row_{n}_{c}", type_=table.c[c].type) for c in columns}
        if change:
            where = {c: bindparam(f"where_{n}_{c}", type_=table.c[c].type) for c in key}
            changes.append(built(postgresql_insert, model, values, where=where).returning(table.c[key[0]])
                           .cte(f"row_{n}"))
        else:
            others.append(built(postgresql_insert, model, values, conflict=key).cte(f"row_{n}"))
    # How many rows the Changes matched, on every row the statement gives (services.rows.checked).
    matched = sum((select(func.count()).select_from(c).scalar_subquery() for c in changes), literal(0, Integer))
    others += changes
    audience_of = _audience(audiences)
    if audience_of is None:
        return cast("Select[Any]", select(literal(None, String), literal(0, Integer), matched).add_cte(*others))
    recipients = select(audience_of.c.tell, audience_of.c.user_id).distinct().cte("recipients")
    told = union_all(*(select(literal(n, Integer).label("tell"), bindparam(f"kind_{n}", type_=String).label("kind"),
                              bindparam(f"params_{n}", type_=JSON).label("params"))
                       for n in range(len(audiences)))).subquery("told")
    now = bindparam("now", type_=Notification.created_at.type)
    written = (insert(Notification).from_select(
        ["id", "user_id", "kind", "params", "dossier_id", "created_at"],
        select(_uuid(), recipients.c.user_id, told.c.kind, told.c.params, bindparam("dossier_id", type_=String), now)
        .join_from(recipients, told, told.c.tell == recipients.c.tell))
        .returning(Notification.id, Notification.user_id).cte("written"))
    each = select(written.c.user_id, func.count().label("written")).group_by(written.c.user_id).cte("each")
    locked = (select(PEOPLE.c.id).where(PEOPLE.c.id.in_(select(recipients.c.user_id))).order_by(PEOPLE.c.id)
              .with_for_update(key_share=True).cte("locked").prefix_with("MATERIALIZED"))
    bumped = (update(PEOPLE).where(PEOPLE.c.id == locked.c.id, PEOPLE.c.id == each.c.user_id)
              .values(unread_count=PEOPLE.c.unread_count + each.c.written)
              .returning(PEOPLE.c.id, PEOPLE.c.unread_count).cte("bumped"))
    pushed = (insert(PushJob).from_select(
        ["id", "kind", "notification_id", "device_id", "badge", "status", "attempts", "next_attempt_at",
         "created_at"],
        select(_uuid(), literal("message", String), written.c.id, Device.id, bumped.c.unread_count,
               literal(PushJobStatus.pending.value, String), literal(0, Integer), now, now)
        .join_from(written, Device, Device.user_id == written.c.user_id)
        .join(bumped, bumped.c.id == written.c.user_id))
        .returning(PushJob.id).cte("pushed"))
    pushes = select(func.count()).select_from(pushed).scalar_subquery()
    return select(written.c.id, pushes, matched).add_cte(*others)


def _uuid() -> Any:
    return func.gen_random_uuid().cast(String)


def officials_select(agency_id: Any) -> Select[Any]:
    """The ids of an agency's officials who have signed up (a grant made before the first sign-in has no one to
    tell), for an agency id or a parameter."""
    return (select(User.id).join(StaffRole, StaffRole.cccd == User.cccd)
            .where(StaffRole.agency_id == agency_id, StaffRole.role == Role.official))


def _audience(audiences: tuple[Any, ...]) -> Subquery | None:
    """(tell, user_id) for every person each tell names (`_shape`'s audiences, their values the parameters
    `agency_<n>` and `ids_<n>`), as one subquery; None when no one is named."""
    parts = []
    for n, audience in enumerate(audiences):
        if audience == "officials":
            named = officials_select(bindparam(f"agency_{n}", type_=String)).subquery()
        elif audience == "ids":
            named = select(User.id).where(User.id.in_(bindparam(f"ids_{n}", expanding=True))).subquery()
        elif isinstance(audience, Select):
            named = audience.subquery()
        else:
            continue
        parts.append(select(literal(n, Integer).label("tell"), named.c[0].label("user_id")))
    return union_all(*parts).subquery("audience") if parts else None


# What the inbox shows of a notification, its params as their JSON text: the whole row is the revision of a
# kept rendering (api/notice_views.py), compared without parsing anything.
SHOWN = (Notification.id, Notification.kind, Notification.params.cast(Text).label("params_json"),
         Notification.dossier_id, Notification.created_at, Notification.read_at)
INBOX_KEY = [Notification.created_at, Notification.id]


class Shown(NamedTuple):
    id: str
    kind: str
    params_json: str | None
    dossier_id: str | None
    created_at: datetime
    read_at: datetime | None


def page(session: Session | Connection, user_id: str, *, unread: bool | None = None,
         after: Sequence[Any] | None = None, limit: int = 20) -> Page[Shown]:
    """Newest first. One statement per shape, run on a session or (the WSGI edge's) on a bare connection
    straight on the driver where it can (services.db.fetch_rows)."""
    params = {**bound_after(INBOX_KEY, after, limit), "user_id": user_id}
    stmt = _page_statement(unread, after is not None, limit + 1)
    rows = fetch_rows(session, stmt, params)
    shown = [Shown(id_, kind, params_json, dossier_id, utc(created_at), as_utc(read_at))
             for id_, kind, params_json, dossier_id, created_at, read_at in rows]
    return paged(shown, limit, lambda n: (n.created_at.isoformat(), n.id))


@functools.cache
def _page_statement(unread: bool | None, after: bool, rows: int) -> Select[Any]:
    stmt = cast("Select[Any]", select(*SHOWN).where(Notification.user_id == bindparam("user_id")))
    if unread is True:
        stmt = stmt.where(Notification.read_at.is_(None))
    elif unread is False:
        stmt = stmt.where(Notification.read_at.is_not(None))
    if after:
        stmt = stmt.where(after_bound(INBOX_KEY, descending=True))
    return stmt.order_by(*(c.desc() for c in INBOX_KEY)).limit(page_limit(rows))


def unread_count(session: Session | Connection, user_id: str) -> int:
    """On a session or (the WSGI edge's) a bare connection (services.db.fetch_rows): the person's kept count."""
    rows = fetch_rows(session, _unread(), {"user_id": user_id})
    return int(rows[0][0]) if rows else 0


@functools.cache
def _unread() -> Select[Any]:
    return select(User.unread_count).where(User.id == bindparam("user_id"))


@functools.cache
def _bump() -> Any:
    """Add `by` to a person's unread count (`person`)."""
    return (update(PEOPLE).where(PEOPLE.c.id == bindparam("person"))
            .values(unread_count=PEOPLE.c.unread_count + bindparam("by", type_=Integer)))


def _lessen(session: Session, user_id: str, read: int) -> None:
    """Take the notifications just read off the person's count, after their rows (the lock order of
    every writer of the count: the notifications first, then the person)."""
    session.execute(update(PEOPLE).where(PEOPLE.c.id == user_id).values(
        unread_count=case((PEOPLE.c.unread_count > read, PEOPLE.c.unread_count - read), else_=0)))


def mark_read(session: Session, user_id: str, notification_id: str) -> None:
    """Idempotent; someone else's notification is 404."""
    with transaction(session):
        mine = (Notification.id == notification_id, Notification.user_id == user_id)
        read = session.execute(update(Notification).where(*mine, Notification.read_at.is_(None))
                               .values(read_at=clock.now()), execution_options={"synchronize_session": False})
        if rowcount(read):
            _lessen(session, user_id, 1)
        elif session.scalar(select(Notification.id).where(*mine)) is None:
            raise NotFound("no such notification")


def mark_all_read(session: Session, user_id: str) -> int:
    with transaction(session):
        result = session.execute(update(Notification)
                                 .where(Notification.user_id == user_id, Notification.read_at.is_(None))
                                 .values(read_at=clock.now()))
        if read := rowcount(result):
            _lessen(session, user_id, read)
        return read


def push_jobs(session: Session, *, status: str, after: Sequence[Any] | None = None,
              limit: int = 20) -> Page[PushJob]:
    """The outbox for admins, by status, latest first (a failed job's next_attempt_at is when it gave up)."""
    stmt = select(PushJob).where(PushJob.status == status)
    return keyset_page(session, stmt, [PushJob.next_attempt_at, PushJob.id],
                       lambda j: (j.next_attempt_at.isoformat(), j.id), after=after, limit=limit, descending=True)
