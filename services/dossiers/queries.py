"""Reading dossiers in bulk: the citizen's list, the officials' queue, the public lookup by code.

Every list is keyset-paginated on an index (see the model's indexes), so page 10,000 of a province's
queue costs what page 1 costs. A page is a page of glimpses (services.dossiers.glimpse): what each
dossier's answer depends on, in one statement; the answers themselves are kept rendered by the HTTP
layer, which loads in full only the dossiers whose glimpse moved.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, and_, or_, select, union_all
from sqlalchemy.orm import Session

from services.actors import Actor
from services.clock import clock
from services.dossiers.glimpse import Glimpse, glimpse_select, glimpses
from services.dossiers.table import FINAL
from services.errors import NotFound
from services.models import Agency, Dossier, User
from services.pagination import Page, after_key, check_limit
from services.province.catalog import agency_scope
from services.text import fold
from vocab import Role


def list_own(session: Session, actor: Actor, *, status: str | None = None, after: Sequence[Any] | None = None,
             limit: int = 20) -> Page[Glimpse]:
    """The caller's dossiers, newest first."""
    stmt = glimpse_select().where(Dossier.applicant_id == actor.user_id)
    if status:
        stmt = stmt.where(Dossier.status == status)
    return _page(session, stmt, [Dossier.created_at, Dossier.id], lambda d: (d.created_at.isoformat(), d.id),
                 after=after, limit=limit, descending=True)


def _page(session: Session, stmt: Select[Any], columns: Sequence[Any], key_of: Callable[[Glimpse], Any], *,
          after: Sequence[Any] | None, limit: int, descending: bool = False) -> Page[Glimpse]:
    """keyset_page for `glimpse_select` statements."""
    check_limit(limit)
    if after is not None:
        stmt = stmt.where(after_key(columns, after, descending=descending))
    order = [col.desc() if descending else col.asc() for col in columns]
    rows = glimpses(session.execute(stmt.order_by(*order).limit(limit + 1)).all())
    items = rows[:limit]
    return Page(items, key_of(items[-1]) if len(rows) > limit and items else None)


def _narrowed(stmt: Select[Any], *, status: str | None, overdue: bool | None, due_before: datetime | None,
              q: str | None) -> Select[Any]:
    if status:
        stmt = stmt.where(Dossier.status == status)
    now = clock.now()
    if overdue is True:
        stmt = stmt.where(Dossier.due_at < now, Dossier.status.not_in(FINAL))
    elif overdue is False:
        stmt = stmt.where(or_(Dossier.due_at.is_(None), Dossier.due_at >= now, Dossier.status.in_(FINAL)))
    if due_before is not None:
        stmt = stmt.where(Dossier.due_at < due_before)
    if q and q.strip():
        needle = q.strip()
        if needle.isdigit() and len(needle) == 12:
            stmt = stmt.join(Dossier.applicant).where(User.cccd == needle)
        else:
            stmt = stmt.join(Dossier.applicant).where(or_(  # % and _ taken literally
                Dossier.code.startswith(needle, autoescape=True),
                User.full_name.icontains(needle, autoescape=True),
                User.full_name.icontains(fold(needle), autoescape=True),
            ))
    return stmt.where(Dossier.queue_at.is_not(None))


QUEUE_KEY = [Dossier.queue_at, Dossier.id]


def _key(d: Glimpse) -> tuple[Any, ...]:
    return (d.queue_at.isoformat() if d.queue_at else None, d.id)


def _agency_page(session: Session, agency_id: Any, narrow: Callable[[Select[Any]], Select[Any]],
                 after: Sequence[Any] | None, limit: int) -> Page[Glimpse]:
    """An agency's queue: the dossiers it handles and those it received and forwarded (Decree 118/2025).
    Two keyset branches, each on its own index, merged; the page's glimpses come in the same statement
    (WHERE id IN the merged keys)."""
    check_limit(limit)

    def branch(condition: Any) -> Select[Any]:
        stmt = narrow(cast(Select[Any], select(Dossier.id, Dossier.queue_at).where(condition)))
        if after is not None:
            stmt = stmt.where(after_key(QUEUE_KEY, after))
        page = stmt.order_by(*QUEUE_KEY).limit(limit + 1).subquery()
        return select(page.c.id, page.c.queue_at)

    keys = union_all(branch(Dossier.agency_id == agency_id),
                     branch(and_(Dossier.receiving_centre_id == agency_id, Dossier.agency_id != agency_id))).subquery()
    ids = select(keys.c.id).order_by(keys.c.queue_at, keys.c.id).limit(limit + 1)
    rows = glimpses(session.execute(glimpse_select().where(Dossier.id.in_(ids)).order_by(*QUEUE_KEY)).all())
    items = rows[:limit]
    return Page(items, _key(items[-1]) if len(rows) > limit and items else None)


def queue(session: Session, actor: Actor, *, status: str | None = None, overdue: bool | None = None,
          due_before: datetime | None = None, q: str | None = None, agency_code: str | None = None,
          after: Sequence[Any] | None = None, limit: int = 20) -> Page[Glimpse]:
    """An agency's dossiers (every agency's for an admin naming none), oldest due first."""
    def narrow(stmt: Select[Any]) -> Select[Any]:
        return _narrowed(stmt, status=status, overdue=overdue, due_before=due_before, q=q)

    if actor.role == Role.official and actor.agency_code and agency_code in (None, actor.agency_code):
        # The official's own agency, named in their token: its id comes inside the page's statement.
        own = select(Agency.id).where(Agency.code == actor.agency_code).scalar_subquery()
        return _agency_page(session, own, narrow, after, limit)
    if (agency := agency_scope(session, actor, agency_code)) is not None:
        return _agency_page(session, agency.id, narrow, after, limit)
    return _page(session, narrow(glimpse_select()), QUEUE_KEY, _key, after=after, limit=limit)


def lookup(session: Session, code: str) -> Dossier:
    dossier = session.scalar(select(Dossier).where(Dossier.code == code))
    if dossier is None:
        raise NotFound("no dossier with this code")
    return dossier
