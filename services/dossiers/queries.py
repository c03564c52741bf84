"""Reading dossiers in bulk: the citizen's list, the officials' queue, the public lookup by code.

Every list is keyset-paginated on an index (see the model's indexes), so page 10,000 of a province's
queue costs what page 1 costs. A page is a page of glimpses (services.dossiers.glimpse): what each
dossier's answer depends on, in one statement; the answers themselves are kept rendered by the HTTP
layer, which loads in full only the dossiers whose glimpse moved.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Select, and_, bindparam, func, literal_column, or_, select, union_all
from sqlalchemy.orm import Session

from services.actors import Actor
from services.clock import clock
from services.db import fetch_rows
from services.dossiers.glimpse import Glimpse, Marks, glimpse_select, glimpses, marked, marks
from services.dossiers.table import FINAL
from services.errors import NotFound
from services.models import Agency, Dossier, User
from services.pagination import Page, after_bound, bound_after, page_limit, paged
from services.province.catalog import agency_scope
from services.text import fold
from vocab import Role


@dataclass(frozen=True)
class _Narrowing:
    """What narrows the queue: its shape picks a statement built once (`_queue_statement`), its values are
    bound."""

    status: str | None = None
    overdue: bool | None = None
    due_before: datetime | None = None
    q: str | None = None

    def shape(self) -> tuple[Any, ...]:
        needle = (self.q or "").strip()
        search = None if not needle else "cccd" if needle.isdigit() and len(needle) == 12 else "text"
        return self.status is not None, self.overdue, self.due_before is not None, search

    def params(self) -> dict[str, Any]:
        needle = (self.q or "").strip()
        escaped = needle.replace("/", "//").replace("%", "/%").replace("_", "/_")  # % and _ taken literally
        return {"status": self.status, "now": clock.now(), "due_before": self.due_before, "q": needle,
                "q_prefix": f"{escaped}%", "q_name": f"%{escaped}%", "q_folded": f"%{fold(escaped)}%"}


def _narrowed(stmt: Select[Any], shape: tuple[Any, ...]) -> Select[Any]:
    status, overdue, due_before, search = shape
    if status:
        stmt = stmt.where(Dossier.status == bindparam("status"))
    now = bindparam("now", type_=Dossier.due_at.type)
    # The final statuses written into the statement, so PostgreSQL's plan of it (prepared) can use the
    # partial indexes of open dossiers (services.models.dossier.OPEN).
    final: list[Any] = [literal_column(f"'{word}'") for word in sorted(FINAL)]
    if overdue is True:
        stmt = stmt.where(Dossier.due_at < now, Dossier.status.not_in(final))
    elif overdue is False:
        stmt = stmt.where(or_(Dossier.due_at.is_(None), Dossier.due_at >= now, Dossier.status.in_(final)))
    if due_before:
        stmt = stmt.where(Dossier.due_at < bindparam("due_before", type_=Dossier.due_at.type))
    if search == "cccd":
        stmt = stmt.join(Dossier.applicant).where(User.cccd == bindparam("q"))
    elif search == "text":
        name = func.lower(User.full_name)
        stmt = stmt.join(Dossier.applicant).where(or_(
            Dossier.code.like(bindparam("q_prefix"), escape="/"),
            name.like(func.lower(bindparam("q_name")), escape="/"),
            name.like(func.lower(bindparam("q_folded")), escape="/")))
    return stmt


OWN_KEY = [Dossier.created_at, Dossier.id]
QUEUE_KEY = [Dossier.queue_at, Dossier.id]


@functools.cache
def _own_statement(status: bool, after: bool, rows: int) -> Select[Any]:
    stmt = glimpse_select().where(Dossier.applicant_id == bindparam("user_id"))
    if status:
        stmt = stmt.where(Dossier.status == bindparam("status"))
    if after:
        stmt = stmt.where(after_bound(OWN_KEY, descending=True))
    return stmt.order_by(*(c.desc() for c in OWN_KEY)).limit(page_limit(rows))


def list_own(session: Session, actor: Actor, *, status: str | None = None, after: Sequence[Any] | None = None,
             limit: int = 20) -> Page[Glimpse]:
    """The caller's dossiers, newest first."""
    params = {**bound_after(OWN_KEY, after, limit), "user_id": actor.user_id, "status": status}
    rows = glimpses(session.execute(_own_statement(bool(status), after is not None, limit + 1), params).all())
    return paged(rows, limit, lambda d: (d.created_at.isoformat(), d.id))


def _key(d: Glimpse) -> tuple[Any, ...]:
    return (d.queue_at.isoformat() if d.queue_at else None, d.id)


@functools.cache
def _queue_statement(scope: str, shape: tuple[Any, ...], after: bool, rows: int) -> Select[Any]:
    """The queue's page of glimpses for a scope: "code" (an official's own agency, named in their token: its
    id comes inside the statement), "id" (an agency an admin named) or "all". An agency's queue is the
    dossiers it handles and those it received and forwarded (Decree 118/2025): two keyset branches, each on
    its own index, merged, the page's glimpses in the same statement (WHERE id IN the merged keys)."""
    def narrow(stmt: Select[Any]) -> Select[Any]:
        stmt = _narrowed(stmt, shape).where(Dossier.queue_at.is_not(None))
        return stmt.where(after_bound(QUEUE_KEY, descending=False)) if after else stmt

    if scope == "all":
        return narrow(glimpse_select()).order_by(*QUEUE_KEY).limit(page_limit(rows))
    agency: Any = (select(Agency.id).where(Agency.code == bindparam("agency")).scalar_subquery()
                   if scope == "code" else bindparam("agency"))

    def branch(condition: Any) -> Select[Any]:
        page = narrow(cast(Select[Any], select(Dossier.id, Dossier.queue_at).where(condition)))
        sub = page.order_by(*QUEUE_KEY).limit(page_limit(rows)).subquery()
        return select(sub.c.id, sub.c.queue_at)

    keys = union_all(branch(Dossier.agency_id == agency),
                     branch(and_(Dossier.receiving_centre_id == agency, Dossier.agency_id != agency))).subquery()
    ids = select(keys.c.id).order_by(keys.c.queue_at, keys.c.id).limit(page_limit(rows))
    return glimpse_select().where(Dossier.id.in_(ids)).order_by(*QUEUE_KEY)


def queue(session: Session, actor: Actor, *, status: str | None = None, overdue: bool | None = None,
          due_before: datetime | None = None, q: str | None = None, agency_code: str | None = None,
          after: Sequence[Any] | None = None, limit: int = 20) -> Page[Glimpse]:
    """An agency's dossiers (every agency's for an admin naming none), oldest due first."""
    narrowing = _Narrowing(status, overdue, due_before, q)
    if (own := own_agency(actor, agency_code)) is not None:
        return _queue_page(session, "code", own, narrowing, after, limit)
    if (agency := agency_scope(session, actor, agency_code)) is not None:
        return _queue_page(session, "id", agency.id, narrowing, after, limit)
    return _queue_page(session, "all", None, narrowing, after, limit)


def own_agency(actor: Actor, agency_code: str | None) -> str | None:
    """The official's own agency, when the queue asked for is theirs."""
    if actor.role == Role.official and actor.agency_code and agency_code in (None, actor.agency_code):
        return actor.agency_code
    return None


def agency_queue(session: Session | Connection, agency_code: str, *, status: str | None = None,
                 overdue: bool | None = None, due_before: datetime | None = None, q: str | None = None,
                 after: Sequence[Any] | None = None, limit: int = 20) -> Page[Glimpse]:
    """An official's own agency's queue, the agency named by its code (no other read needed); on a session
    or (the WSGI edge's) a bare connection (services.db.fetch_rows)."""
    return _queue_page(session, "code", agency_code, _Narrowing(status, overdue, due_before, q), after, limit)


def agency_queue_marks(session: Session | Connection, agency_code: str, *, status: str | None = None,
                       overdue: bool | None = None, due_before: datetime | None = None, q: str | None = None,
                       after: Sequence[Any] | None = None, limit: int = 20) -> Marks:
    """The marks of the page `agency_queue` would read (services.dossiers.glimpse.marks): is a page kept
    earlier still the page?"""
    narrowing = _Narrowing(status, overdue, due_before, q)
    stmt = _marked_queue(narrowing.shape(), after is not None, limit + 1)
    return marks(fetch_rows(session, stmt, _queue_params(agency_code, narrowing, after, limit)), limit)


@functools.cache
def _marked_queue(shape: tuple[Any, ...], after: bool, rows: int) -> Select[Any]:
    return marked(_queue_statement("code", shape, after, rows))


def _queue_page(session: Session | Connection, scope: str, agency: str | None, narrowing: _Narrowing,
                after: Sequence[Any] | None, limit: int) -> Page[Glimpse]:
    """A page of `_queue_statement` for a scope and its agency (a code, an id, or None for every agency)."""
    stmt = _queue_statement(scope, narrowing.shape(), after is not None, limit + 1)
    return paged(glimpses(fetch_rows(session, stmt, _queue_params(agency, narrowing, after, limit))), limit, _key)


def _queue_params(agency: str | None, narrowing: _Narrowing, after: Sequence[Any] | None,
                  limit: int) -> dict[str, Any]:
    params = {**bound_after(QUEUE_KEY, after, limit), **narrowing.params()}
    if agency is not None:
        params["agency"] = agency
    return params


def lookup(session: Session, code: str) -> Dossier:
    dossier = session.scalar(select(Dossier).where(Dossier.code == code))
    if dossier is None:
        raise NotFound("no dossier with this code")
    return dossier
