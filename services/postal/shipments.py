"""Shipments through the postal carrier: a pickup of the papers or a return of the result, each with its
waybill; the carrier's status callbacks, applied once and in order; and shipments stuck in one status.

A callback is applied under the shipment's row lock. Its event id is recorded first (a repeat changes
nothing), and it moves the shipment only if it is newer than the status it has (the carrier's event time,
then the status's rank): a late `in_transit` never overwrites `delivered`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from services import audit
from services.actors import Actor
from services.calendar import WorkingCalendar
from services.clock import clock
from services.db import insert_new, new_id, transaction
from services.dossiers.access import get_visible
from services.dossiers.table import FINAL
from services.errors import Conflict, NotFound
from services.models import Dossier, Shipment, ShipmentEvent
from services.notices.alerts import dossier_params, officials
from services.notices.inbox import notify
from services.pagination import Page, keyset_page
from services.postal.carrier import Carrier
from services.province.catalog import agency_scope
from vocab import DossierStatus, ShipmentKind, ShipmentStatus

log = logging.getLogger(__name__)
S = ShipmentStatus
RANK = {S.created: 0, S.picked_up: 1, S.in_transit: 2, S.delivered: 3, S.returned: 3, S.failed: 3}
TERMINAL = frozenset({S.delivered, S.returned, S.failed})
OPEN = (S.created, S.picked_up, S.in_transit)
STUCK_WORKING_DAYS = 2
# A result goes by post once it exists; papers are picked up while the dossier is being handled.
RETURNABLE = frozenset({DossierStatus.approved, DossierStatus.completed})


def _check(dossier: Dossier, kind: ShipmentKind, session: Session) -> None:
    if kind == ShipmentKind.return_ and dossier.status not in RETURNABLE:
        raise Conflict("a result is sent by post once the dossier is approved")
    if kind == ShipmentKind.pickup and (dossier.status in FINAL or dossier.status == DossierStatus.draft):
        raise Conflict(f"papers are not picked up for a dossier that is {dossier.status}")
    active = session.scalar(select(Shipment.id).where(Shipment.dossier_id == dossier.id, Shipment.kind == kind,
                                                      Shipment.status.in_(OPEN)).limit(1))
    if active is not None:
        raise Conflict("a shipment of this kind is on its way; wait for it to be delivered or returned")


def create(session: Session, actor: Actor, dossier_id: str, *, kind: str, address: dict[str, Any],
           carrier: Carrier, callback_url: str) -> Shipment:
    """A waybill from the carrier for the dossier's papers or result. The carrier is called between two
    units of work (never inside one): our reference makes its retry harmless, and the row is written after."""
    kind = ShipmentKind(kind)
    with transaction(session):
        dossier = get_visible(session, actor, dossier_id)
        _check(dossier, kind, session)
        code = dossier.code or ""
    reference = new_id()
    waybill = carrier.create_waybill(reference=reference, kind=kind.value, address=address, dossier_code=code,
                                     callback_url=callback_url)
    with transaction(session):
        dossier = get_visible(session, actor, dossier_id, lock=True)
        _check(dossier, kind, session)
        now = clock.now()
        shipment = Shipment(id=reference, dossier_id=dossier.id, kind=kind, status=S.created,
                            waybill_no=waybill.waybill_no, fee_vnd=waybill.fee_vnd, address=address,
                            created_by=actor.user_id, created_at=now, status_changed_at=now, status_event_at=now)
        session.add(shipment)
        session.flush()
        audit.record(session, actor, "shipment.create", "dossier", dossier.code or dossier.id,
                     {"kind": kind.value, "waybill_no": waybill.waybill_no})
        _tell(session, dossier, shipment)
        return shipment


def _tell(session: Session, dossier: Dossier, shipment: Shipment) -> None:
    params = dossier_params(dossier, waybill_no=shipment.waybill_no, shipment_kind=shipment.kind.value)
    notify(session, [dossier.applicant_id], f"shipment.{shipment.status}", params, dossier=dossier)
    if shipment.status in (S.returned, S.failed):
        # The hand-over is open again: the officials make a new shipment or hand it over at the desk.
        notify(session, officials(dossier.agency_id), "staff.shipment_returned", params, dossier=dossier)


def apply_callback(session: Session, *, event_id: str, waybill_no: str, status: str, occurred_at: datetime) -> str:
    """One verified carrier callback: `applied`, `stale` (older than what is known) or `duplicate`."""
    status = ShipmentStatus(status)
    with transaction(session):
        shipment = session.scalar(select(Shipment).where(Shipment.waybill_no == waybill_no)
                                  .with_for_update(of=Shipment))
        if shipment is None:
            raise NotFound("no shipment with this waybill")
        now = clock.now()
        recorded = insert_new(session, ShipmentEvent, {
            "id": new_id(), "shipment_id": shipment.id, "event_id": event_id, "status": status.value,
            "event_at": occurred_at, "received_at": now, "applied": False}, key=["shipment_id", "event_id"])
        if recorded is None:
            return "duplicate"
        current = shipment.status
        if current in TERMINAL or status == current or \
                (occurred_at, RANK[status]) <= (shipment.status_event_at, RANK[current]):
            log.info("stale carrier event", extra={"waybill_no": waybill_no, "status": status.value})
            return "stale"
        shipment.status, shipment.status_changed_at, shipment.status_event_at = status, now, occurred_at
        event = session.scalar(select(ShipmentEvent).where(ShipmentEvent.id == recorded))
        if event is not None:
            event.applied = True
        dossier = session.get_one(Dossier, shipment.dossier_id)
        _tell(session, dossier, shipment)
        session.flush()
        return "applied"


def stuck_conditions(calendar: WorkingCalendar, now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Shipments still on their way and unchanged for over two working days."""
    return (Shipment.status.in_(OPEN),
            Shipment.status_changed_at < calendar.working_days_before(now, STUCK_WORKING_DAYS))


def listing(session: Session, actor: Actor, *, calendar: WorkingCalendar, stuck: bool | None = None,
            agency_code: str | None = None, after: Sequence[Any] | None = None,
            limit: int = 20) -> Page[tuple[Shipment, str | None]]:
    """The shipments of the caller's agency's dossiers (its own or received at its centre), oldest change
    first; `stuck`: those still on their way and unchanged for over two working days."""
    stmt = select(Shipment).join(Dossier, Dossier.id == Shipment.dossier_id)
    if (agency := agency_scope(session, actor, agency_code)) is not None:
        stmt = stmt.where(or_(Dossier.agency_id == agency.id, Dossier.receiving_centre_id == agency.id))
    if stuck:
        stmt = stmt.where(*stuck_conditions(calendar, clock.now()))
    page = keyset_page(session, stmt, [Shipment.status_changed_at, Shipment.id],
                       lambda s: (s.status_changed_at.isoformat(), s.id), after=after, limit=limit)
    codes = dict(session.execute(select(Dossier.id, Dossier.code).where(
        Dossier.id.in_([s.dossier_id for s in page.items]))).all())
    return Page([(s, codes.get(s.dossier_id)) for s in page.items], page.next_key)
