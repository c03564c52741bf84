"""Dossiers with everything their response shows, in one statement.

A dossier's response reads its row, its procedure and agencies (many-to-one: joined), and three small
collections: the timeline, the papers and the payments. Joining two collections multiplies their rows
(timeline × papers) and hydrating that product was most of a detail read's CPU; a `selectin` load per
collection costs a round trip each. Here each collection comes back as one JSON array in a correlated
scalar subquery of the same SELECT (`json_agg` on PostgreSQL, `json_group_array` on SQLite), decoded
into plain (transient) model objects set as the collections' loaded value. The same statement loads one
dossier or several by id (`access.find_many`: the dossiers of a page whose kept renderings are out of
date, services.dossiers.glimpse), one query whatever their number.

Read paths only: the objects built here are not in the session, so nothing may be added to these
collections and flushed. Locked loads (every write) go through the ORM's own loaders and refresh an
object this module loaded earlier in the same session (`populate_existing`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, inspect, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session, joinedload, raiseload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from services.db import StrEnumColumn, UTCDateTime
from services.models import Agency, Attachment, Dossier, DossierBundle, Procedure, StoredFile, TimelineEntry
from services.models.payment import Payment

Decoder = Callable[[Any], Any]
SHOWN = "smartqn.shown"  # in a hydrated dossier's state info: its collections are not in the session


def _datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)  # PostgreSQL's JSON gives an offset; SQLite's text is UTC
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _decoder(column: Any) -> Decoder | None:
    type_ = column.type
    if isinstance(type_, UTCDateTime):
        return _datetime
    if isinstance(type_, StrEnumColumn):
        enum = type_.enum
        return lambda v: None if v is None else enum(v)
    return None


class _Collection:
    """One collection as a JSON array of arrays: the columns, how to decode each, how to build an object."""

    def __init__(self, columns: Sequence[Any], where: Callable[[], Any], order_by: Sequence[Any],
                 joins: Sequence[tuple[Any, Any]] = ()) -> None:
        self.columns, self.where, self.order_by, self.joins = list(columns), where, list(order_by), list(joins)
        self.decoders = [_decoder(c) for c in self.columns]

    def subquery(self, dialect: str) -> Any:
        if dialect == "postgresql":
            agg = func.json_agg(aggregate_order_by(func.json_build_array(*self.columns), *self.order_by))
            stmt = select(func.coalesce(agg, literal_column("'[]'::json")))
            stmt = self._from(stmt).where(self.where())
            return stmt.correlate(Dossier).scalar_subquery()
        inner = self._from(select(*self.columns)).where(self.where()).order_by(*self.order_by)
        inner_sq = inner.correlate(Dossier).subquery()
        return (select(func.json_group_array(func.json_array(*inner_sq.c)))
                .correlate(Dossier).scalar_subquery())

    def _from(self, stmt: Select[Any]) -> Select[Any]:
        for target, on in self.joins:
            stmt = stmt.join_from(self.columns[0].table, target, on)
        return stmt

    def decode(self, raw: Any) -> list[list[Any]]:
        rows = raw if isinstance(raw, list) else []
        decoders = self.decoders
        return [[v if d is None else d(v) for d, v in zip(decoders, row, strict=True)] for row in rows]


_TIMELINE = _Collection(
    (TimelineEntry.id, TimelineEntry.seq, TimelineEntry.action, TimelineEntry.from_status, TimelineEntry.status,
     TimelineEntry.actor_id, TimelineEntry.actor_role, TimelineEntry.at, TimelineEntry.note, TimelineEntry.reason,
     TimelineEntry.new_due_at),
    lambda: TimelineEntry.dossier_id == Dossier.id, (TimelineEntry.seq,))
_TIMELINE_NAMES = ("id", "seq", "action", "from_status", "status", "actor_id", "actor_role", "at", "note", "reason",
                   "new_due_at")

_PAPERS = _Collection(
    (Attachment.id, Attachment.kind, Attachment.document_type, Attachment.filename, Attachment.sha256,
     Attachment.uploaded_by, Attachment.created_at, Attachment.wallet_item_id, Attachment.digitised,
     StoredFile.size, StoredFile.content_type, StoredFile.created_at),
    lambda: Attachment.dossier_id == Dossier.id, (Attachment.created_at, Attachment.id),
    joins=((StoredFile, StoredFile.sha256 == Attachment.sha256),))

_PAYMENTS = _Collection(
    (Payment.id, Payment.status, Payment.amount_vnd, Payment.created_at, Payment.expires_at, Payment.paid_at),
    lambda: Payment.dossier_id == Dossier.id, (Payment.created_at, Payment.id))
_PAYMENT_NAMES = ("id", "status", "amount_vnd", "created_at", "expires_at", "paid_at")


def select_shown(session: Session, *, staff: bool = False) -> Select[Any]:
    """SELECT dossiers with their procedure, agencies (and applicant for staff) joined, and their timeline,
    papers and payments as three JSON columns: filter, order and limit it, then `hydrate` the rows."""
    return _select_shown(session.get_bind().dialect.name, staff)


@functools.cache
def _select_shown(dialect: str, staff: bool) -> Select[Any]:
    # Built once per dialect and view (a Select is immutable: each caller's .where() makes a new one);
    # building it anew cost about a tenth of a detail read.
    procedure = joinedload(Dossier.procedure)
    return select(Dossier, _TIMELINE.subquery(dialect), _PAPERS.subquery(dialect), _PAYMENTS.subquery(dialect)) \
        .options(raiseload(Dossier.timeline), raiseload(Dossier.attachments), raiseload(Dossier.payments),
                 procedure.raiseload(Procedure.agency),
                 joinedload(Dossier.receiving_centre).raiseload(Agency.parent),
                 selectinload(Dossier.bundle).selectinload(DossierBundle.dossiers),
                 *((joinedload(Dossier.applicant),) if staff else ()))


def hydrate(rows: Sequence[Any]) -> list[Dossier]:
    """The dossiers of `select_shown` rows, their collections set from the JSON columns."""
    dossiers = []
    for dossier, timeline, papers, payments in rows:
        if isinstance(timeline, str | bytes):  # a driver that hands JSON back as text
            timeline, papers, payments = json.loads(timeline), json.loads(papers), json.loads(payments)
        set_committed_value(dossier, "timeline", [
            TimelineEntry(dossier_id=dossier.id, **dict(zip(_TIMELINE_NAMES, row, strict=True)))
            for row in _TIMELINE.decode(timeline)])
        set_committed_value(dossier, "attachments", [_paper(dossier.id, row) for row in _PAPERS.decode(papers)])
        set_payments(dossier, payments)
        inspect(dossier).info[SHOWN] = True
        dossiers.append(dossier)
    return dossiers


def payments_column(dialect: str) -> Any:
    """The payments as a JSON column, for a locked load that joins the rest through the ORM."""
    return _PAYMENTS.subquery(dialect)


def set_payments(dossier: Dossier, raw: Any) -> None:
    if isinstance(raw, str | bytes):
        raw = json.loads(raw)
    set_committed_value(dossier, "payments", [
        Payment(dossier_id=dossier.id, **dict(zip(_PAYMENT_NAMES, row, strict=True))) for row in _PAYMENTS.decode(raw)])


def _paper(dossier_id: str, row: list[Any]) -> Attachment:
    (id_, kind, document_type, filename, sha256, uploaded_by, created_at, wallet_item_id, digitised, size,
     content_type, stored_at) = row
    attachment = Attachment(id=id_, dossier_id=dossier_id, kind=kind, document_type=document_type,
                            filename=filename, sha256=sha256, uploaded_by=uploaded_by, created_at=created_at,
                            wallet_item_id=wallet_item_id, digitised=bool(digitised))
    set_committed_value(attachment, "blob", StoredFile(sha256=sha256, size=size, content_type=content_type,
                                                       created_at=stored_at))
    return attachment

