"""A dossier at a glance: one indexed read that says who may see it and what its response would show.

A citizen reads their dossier far more often than it changes. The response is a function of the row's
version (every move and edit updates the row), its papers (a result upload adds one without a move),
whether a payment is pending and unexpired, whether it is overdue now, and the catalog (the procedure's
name). `glimpse` reads exactly those, so an answer rendered earlier for the same glimpse is the answer
(api/dossier_views.py); only a change makes the full read and rendering run again.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, func, select, type_coerce
from sqlalchemy.orm import Session, aliased

from services.actors import Actor
from services.clock import clock
from services.db import UTCDateTime
from services.dossiers.access import seen_by
from services.dossiers.rules import fee_status, overdue
from services.models import Agency, Attachment, Dossier
from services.models.payment import Payment
from services.province.catalog_cache import revision_columns
from vocab import DossierStatus, FeeStatus, PaymentStatus


@dataclass(frozen=True)
class Glimpse:
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

    def visible_to(self, actor: Actor) -> bool:
        return seen_by(actor, self.applicant_id, self.status, self.agency_code, self.centre_code)

    def shown_state(self, now: datetime | None = None) -> tuple[bool, FeeStatus]:
        """What the response derives from the clock: overdue, and the fee's state."""
        now = now or clock.now()
        pending = self.pending_until is not None and self.pending_until > now
        return overdue(self.due_at, self.status, now), fee_status(self.fee_vnd, self.paid, pending)


def glimpse(session: Session, dossier_id: str) -> Glimpse | None:
    row = session.execute(_statement().where(Dossier.id == dossier_id)).one_or_none()
    if row is None:
        return None
    (version, applicant_id, status, agency_code, centre_code, bundle_id, fee_vnd, paid_at, due_at, pending_until,
     papers, last_paper_at, revision, bumped_at) = row
    return Glimpse(version, applicant_id, status, agency_code, centre_code, bundle_id is not None, fee_vnd,
                   paid_at is not None, due_at, pending_until, papers, last_paper_at, (revision, bumped_at))


@functools.cache
def _statement() -> Select[Any]:
    agency, centre = aliased(Agency), aliased(Agency)
    pending = type_coerce(select(func.max(Payment.expires_at)).where(Payment.dossier_id == Dossier.id,
                                                          Payment.status == PaymentStatus.pending)
               .correlate(Dossier).scalar_subquery(), UTCDateTime())
    papers = select(func.count()).where(Attachment.dossier_id == Dossier.id).correlate(Dossier).scalar_subquery()
    last_paper = type_coerce(select(func.max(Attachment.created_at)).where(Attachment.dossier_id == Dossier.id)
                  .correlate(Dossier).scalar_subquery(), UTCDateTime())
    stmt = (select(Dossier.version, Dossier.applicant_id, Dossier.status, agency.code, centre.code, Dossier.bundle_id,
                   Dossier.fee_vnd, Dossier.paid_at, Dossier.due_at, pending, papers, last_paper, *revision_columns())
            .join(agency, agency.id == Dossier.agency_id)
            .outerjoin(centre, centre.id == Dossier.receiving_centre_id))
    return cast("Select[Any]", stmt)
