"""Reading dossiers in bulk: the citizen's list, the officials' queue, the public lookup by code.

Every list is keyset-paginated on an index (see the model's indexes), so page 10,000 of a province's
queue costs what page 1 costs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from services.actors import Actor
from services.clock import clock
from services.dossiers.access import shown
from services.dossiers.table import FINAL
from services.errors import NotFound
from services.models import Dossier, User
from services.pagination import Page, keyset_page
from services.province.catalog import agency_scope
from services.text import fold


def list_own(session: Session, actor: Actor, *, status: str | None = None, after: Sequence[Any] | None = None,
             limit: int = 20) -> Page[Dossier]:
    """The caller's dossiers, newest first."""
    stmt = select(Dossier).where(Dossier.applicant_id == actor.user_id).options(*shown())
    if status:
        stmt = stmt.where(Dossier.status == status)
    return keyset_page(session, stmt, [Dossier.created_at, Dossier.id], lambda d: (d.created_at.isoformat(), d.id),
                       after=after, limit=limit, descending=True)


def queue(session: Session, actor: Actor, *, status: str | None = None, overdue: bool | None = None,
          due_before: datetime | None = None, q: str | None = None, agency_code: str | None = None,
          after: Sequence[Any] | None = None, limit: int = 20) -> Page[Dossier]:
    """An agency's submitted dossiers (all agencies for an admin), oldest due first."""
    stmt = select(Dossier).where(Dossier.queue_at.is_not(None)).options(*shown(staff=True))
    if (agency := agency_scope(session, actor, agency_code)) is not None:
        stmt = stmt.where(Dossier.agency_id == agency.id)
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
    return keyset_page(session, stmt, [Dossier.queue_at, Dossier.id], lambda d: (d.queue_at.isoformat(), d.id),
                       after=after, limit=limit)


def lookup(session: Session, code: str) -> Dossier:
    dossier = session.scalar(select(Dossier).where(Dossier.code == code))
    if dossier is None:
        raise NotFound("no dossier with this code")
    return dossier
