"""Dossiers at a glance: one indexed read that says who may see each and what its response would show.

A citizen reads their dossier, and an official their queue, far more often than either changes. A
dossier's response is a function of the row's version (every move and edit updates the row), its papers
(a result upload adds one without a move), whether a payment is pending and unexpired, whether it is
overdue now, the catalog (the procedure's name) and, for officials, the applicant's identity. A glimpse
reads exactly those, so an answer rendered earlier for the same glimpse is the answer
(api/dossier_views.py): only a change makes the full read and rendering run again. `glimpse_select`
serves one dossier and the paged lists alike (services.dossiers.queries).

A page's answer is kept too, checked by its marks (`marked`): of each dossier on it, the glimpse's
columns that change without the clock (the version, papers, pending payment, catalog, applicant), and
whether a next page follows. The clock's part is a time: the page holds until the first due date or
payment expiry on it comes (`Glimpse.until`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Connection, Select, bindparam, func, select, type_coerce
from sqlalchemy.orm import Session, aliased

from services.actors import Actor
from services.clock import clock
from services.db import UTCDateTime, as_utc, fetch_rows, utc
from services.dossiers.access import seen_by
from services.dossiers.rules import fee_status, overdue
from services.models import Agency, Attachment, Dossier, User
from services.models.payment import Payment
from services.province.catalog_cache import revision_columns
from vocab import DossierStatus, PaymentStatus


class Glimpse(NamedTuple):  # a tuple: a page's twenty are built on every queue read
    id: str
    created_at: datetime
    queue_at: datetime | None
    version: int
    applicant_id: str
    status: DossierStatus
    agency_code: str
    centre_code: str | None
    bundled: bool
    fee_vnd: int
    paid: bool
    due_at: datetime | None
    pending_until: datetime | None
    papers: int
    last_paper_at: datetime | None
    catalog: tuple[Any, Any]
    applicant: tuple[str, str, date, str, int]  # what the officials' view shows of the person

    def visible_to(self, actor: Actor) -> bool:
        return seen_by(actor, self.applicant_id, self.status, self.agency_code, self.centre_code)

    @property
    def mark(self) -> tuple[Any, ...]:
        """The glimpse's columns that change without the clock, in `MARK`'s order: a row of `marked`."""
        return (self.id, self.version, self.pending_until, self.papers, self.last_paper_at, *self.catalog,
                *self.applicant)

    def until(self, now: datetime) -> datetime | None:
        """When the clock's part of its revision may next change (a due date or a payment's expiry to come)."""
        ahead = [t for t in (self.due_at, self.pending_until) if t is not None and t >= now]
        return min(ahead, default=None)

    def revision(self, now: datetime | None = None) -> tuple[Any, ...]:
        """Everything the response shows that can change, the clock's part (overdue, the fee's state)
        taken now: two glimpses with the same revision have the same answer."""
        now = now or clock.now()
        pending = self.pending_until is not None and self.pending_until > now
        return (self.version, self.papers, self.last_paper_at, self.catalog, self.applicant,
                overdue(self.due_at, self.status, now), fee_status(self.fee_vnd, self.paid, pending))


def glimpse(session: Session | Connection, dossier_id: str) -> Glimpse | None:
    """One dossier's glimpse, on a session or (the WSGI edge's) a bare connection (services.db.fetch_rows)."""
    return next(iter(glimpses(fetch_rows(session, _one(), {"dossier_id": dossier_id}))), None)


@functools.cache
def _one() -> Select[Any]:
    # Built once, its value bound: SQLAlchemy keys its compiled-statement cache on the statement's
    # structure, which it computes once per statement object.
    return glimpse_select().where(Dossier.id == bindparam("dossier_id"))


def glimpses(rows: Sequence[Any]) -> list[Glimpse]:
    """The glimpses of `glimpse_select` rows."""
    out = []
    for row in rows:
        (id_, created_at, queue_at, version, applicant_id, status, agency_code, centre_code, bundle_id, fee_vnd,
         paid_at, due_at, pending_until, papers, last_paper_at, revision, bumped_at, *applicant) = row
        out.append(Glimpse(id_, utc(created_at), as_utc(queue_at), version, applicant_id,
                           DossierStatus(status), agency_code, centre_code, bundle_id is not None, fee_vnd,
                           paid_at is not None, as_utc(due_at), as_utc(pending_until), papers, as_utc(last_paper_at),
                           (revision, as_utc(bumped_at)), cast(Any, tuple(applicant))))
    return out


# Glimpse.mark's columns, by their names in glimpse_select (in the mark's order).
MARK = ("id", "version", "pending_until", "papers", "last_paper_at", "catalog_revision", "catalog_bumped_at",
        "full_name", "cccd", "date_of_birth", "gender", "eid_level")

Marks = tuple[tuple[tuple[Any, ...], ...], bool]  # each dossier's mark, and whether more follow


def marked(stmt: Select[Any]) -> Select[Any]:
    """A page statement of glimpses (filtered, ordered and limited) reading only its marks (`marks`)."""
    columns = stmt.selected_columns
    return stmt.with_only_columns(*(columns[name] for name in MARK), maintain_column_froms=True)


def marks(rows: Sequence[Any], limit: int) -> Marks:
    """A page's marks from `marked` rows (`limit + 1` of them read), comparable with `page_marks`."""
    # Aware datetimes equal their UTC twins, so the driver's (in the connection's time zone) need no
    # normalising (SQLite's come through SQLAlchemy's UTCDateTime, aware too).
    return tuple(tuple(row) for row in rows[:limit]), len(rows) > limit


def page_marks(items: Sequence[Glimpse], more: bool) -> Marks:
    return tuple(g.mark for g in items), more


@functools.cache
def glimpse_select() -> Select[Any]:
    """SELECT the glimpse of dossiers: filter, order and limit it like `loading.select_shown`."""
    agency, centre = aliased(Agency), aliased(Agency)
    pending = type_coerce(select(func.max(Payment.expires_at))
                          .where(Payment.dossier_id == Dossier.id, Payment.status == PaymentStatus.pending)
                          .correlate(Dossier).scalar_subquery(), UTCDateTime())
    papers = select(func.count()).where(Attachment.dossier_id == Dossier.id).correlate(Dossier).scalar_subquery()
    last_paper = type_coerce(select(func.max(Attachment.created_at)).where(Attachment.dossier_id == Dossier.id)
                             .correlate(Dossier).scalar_subquery(), UTCDateTime())
    applicant = aliased(User)
    revision, bumped_at = revision_columns()
    stmt = (select(Dossier.id, Dossier.created_at, Dossier.queue_at, Dossier.version, Dossier.applicant_id,
                   Dossier.status, agency.code.label("agency_code"), centre.code.label("centre_code"),
                   Dossier.bundle_id, Dossier.fee_vnd, Dossier.paid_at, Dossier.due_at, pending.label("pending_until"),
                   papers.label("papers"), last_paper.label("last_paper_at"), revision.label("catalog_revision"),
                   bumped_at.label("catalog_bumped_at"), applicant.full_name, applicant.cccd, applicant.date_of_birth,
                   applicant.gender, applicant.eid_level)
            .join(agency, agency.id == Dossier.agency_id)
            .outerjoin(centre, centre.id == Dossier.receiving_centre_id)
            .join(applicant, applicant.id == Dossier.applicant_id))
    return cast("Select[Any]", stmt)
