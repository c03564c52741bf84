"""The dossier lifecycle: the table (services.dossiers.table) and its rules on the engine.

Every move of a dossier goes through `DOSSIER.apply` (or `apply` here): who may act, the inputs and
requirements, the effect, one immutable timeline entry, the audit row of a staff move, the event and
the notices the table names, all in the caller's transaction; a desk document's rows, the audit row
and the event are written with the notices (services.notices.inbox.notify_all: one statement on
PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from services import audit
from services.actors import Actor
from services.calendar import WorkingCalendar
from services.clock import clock
from services.db import new_id
from services.dossiers.documents import Press
from services.dossiers.rules import EFFECTS, INPUTS, REQUIREMENTS
from services.dossiers.table import APPLICANT, AT_CENTRE, CITIZEN, OFFICIAL, OFFICIALS, SYSTEM, TABLE
from services.events import log as events
from services.lifecycle import Lifecycle, Move, Transition
from services.models import AuditEntry, Dossier, Event, TimelineEntry
from services.notices.alerts import dossier_params, local_time, officials
from services.notices.inbox import Recipients, notify_all
from services.rows import Row, pending_change, row_of
from vocab import DossierStatus, EventType, Role

SYSTEM_ACTOR = Actor(user_id="", role=SYSTEM)


def may_act(actor: Actor, dossier: Dossier, transition: Transition) -> bool:
    if transition.actor == SYSTEM or actor.role == SYSTEM:
        return transition.actor == SYSTEM and actor.role == SYSTEM
    if transition.actor == CITIZEN:
        return actor.user_id == dossier.applicant_id
    if actor.role == Role.admin:
        return True
    if actor.role != Role.official:
        return False
    centre = dossier.receiving_centre.code if transition.action in AT_CENTRE and dossier.receiving_centre else None
    return actor.agency_code is not None and actor.agency_code in (dossier.agency.code, centre)


def _set_status(move: Move[Dossier]) -> None:
    d = move.subject
    if move.after != move.before:
        d.status, d.status_changed_at = DossierStatus(move.after), move.now
    d.queue_at = d.due_at or d.status_changed_at


def _record(move: Move[Dossier]) -> None:
    d, actor, inputs = move.subject, move.actor, move.inputs
    note, reason, new_due_at = inputs.get("note"), inputs.get("reason"), inputs.get("new_due_at")
    note = note or move.extra.get("note")  # an effect's own account of the move (a desk receipt)
    seq = len(d.timeline) + 1
    # The dossier's changes and its timeline entry are written as data with the notices (one statement on
    # PostgreSQL), not flushed by the unit of work: the dossier reads as written, its entry is in its timeline.
    entry = TimelineEntry(
        id=new_id(), dossier_id=d.id, seq=seq, action=move.action, from_status=move.before, status=move.after,
        actor_id=actor.user_id or None, actor_role=actor.role, at=move.now, note=note, reason=reason,
        new_due_at=new_due_at)
    set_committed_value(d, "timeline", [*d.timeline, entry])
    if (change := pending_change(d)) is not None:
        move.rows.append(change)
    move.rows.append(row_of(entry))
    if actor.role in (Role.official, Role.admin):
        move.rows.append(Row(AuditEntry, audit.entry(
            actor, f"dossier.{move.action}", "dossier", d.code or d.id,
            {"from": move.before, "to": move.after, "note": note, "reason": reason,
             "new_due_at": new_due_at.isoformat() if new_due_at else None})))
    _event(move, seq)


def _transferred(move: Move[Dossier]) -> dict[str, Any]:
    return {"from_agency_code": move.extra["from_agency"].code}


def _paid_online(move: Move[Dossier]) -> dict[str, Any]:
    payment = move.inputs.get("payment")
    return {} if payment is None else {"payment_id": payment.id, "amount_vnd": payment.amount_vnd,
                                       "receipt_no": payment.receipt_no}


def _paid_at_desk(move: Move[Dossier]) -> dict[str, Any]:  # the fee taken at the counter is a payment too
    desk = move.extra["desk_payment"]
    return {"amount_vnd": desk.amount_vnd, "receipt_no": desk.receipt_no, "paid_via": "desk"}


# The event a move writes, by action, with what it adds to the event's data; any other move that
# changes the status writes dossier.status_changed (with the national portal's status number).
EVENTS: dict[str, tuple[EventType, Callable[[Move[Dossier]], dict[str, Any]] | None]] = {
    "submit": (EventType.dossier_submitted, None),
    "transfer": (EventType.dossier_transferred, _transferred),
    "record_payment": (EventType.payment_succeeded, _paid_online),
    "record_desk_payment": (EventType.payment_succeeded, _paid_at_desk),
}


def _event(move: Move[Dossier], seq: int) -> None:
    """At most one event per move, numbered by the move's timeline position (written with the notices)."""
    d = move.subject
    kind, details = EVENTS.get(move.action, (EventType.dossier_status_changed, None))
    if kind == EventType.dossier_status_changed and move.after == move.before:
        return
    extra = {"previous_status": move.before, "action": move.action, **(details(move) if details else {})}
    # A transfer is seen by the agency it leaves (its stream, its webhooks), as a centre's dossier is.
    centre_id = move.extra["from_agency"].id if move.action == "transfer" else d.receiving_centre_id
    move.rows.append(Row(Event, events.row(
        kind, events.DOSSIER, d.id, events.dossier_data(d, **extra), sequence=seq, user_id=d.applicant_id,
        agency_id=d.agency_id, centre_id=centre_id, at=move.now)))


def _tell(move: Move[Dossier], tells: list[tuple[Recipients, str]]) -> None:
    inputs = move.inputs
    params = dossier_params(move.subject, note=inputs.get("note"), reason=inputs.get("reason"),
                            appointment_date=local_time(inputs.get("new_due_at"), "%d/%m/%Y"),
                            **move.extra.get("notice", {}))
    # No applicant's name in the officials' notices: a push shows on a lock screen. The move's other rows (its
    # desk document, event and audit entry) are written with them (one statement on PostgreSQL).
    notify_all(move.session, [(who, kind, params) for who, kind in tells], dossier=move.subject, rows=move.rows)


DOSSIER: Lifecycle[Dossier] = Lifecycle(
    "dossier", DossierStatus, TABLE, requirements=REQUIREMENTS, inputs=INPUTS, effects=EFFECTS,
    audiences={APPLICANT: lambda m: [m.subject.applicant_id],
               OFFICIALS: lambda m: officials(m.subject.agency_id)},
    authorize=may_act, status_of=lambda d: d.status, resume_of=lambda d: d.resume_status or DossierStatus.submitted,
    set_status=_set_status, record=_record, tell=_tell)

# What the officials' actions endpoint takes (results are uploaded through their own endpoint).
OFFICIAL_ACTIONS = tuple(a for a in DOSSIER.actions_of(OFFICIAL) if a != "upload_result")


def transition_for(dossier: Dossier, action: str, actor: Actor) -> Transition:
    return DOSSIER.transition_for(dossier, action, actor)


def allowed_actions(dossier: Dossier, actor: Actor, now: datetime) -> list[str]:
    return DOSSIER.allowed_actions(None, dossier, actor, now)


def apply(session: Session, dossier: Dossier, action: str, actor: Actor, *, calendar: WorkingCalendar | None = None,
          press: Press | None = None, **inputs: Any) -> Move[Dossier]:
    """Make one move (inside the caller's transaction) and record it on the timeline; `press` issues the
    desk documents the move calls for (forms 01-04)."""
    return DOSSIER.apply(session, dossier, action, actor, now=clock.now(), calendar=calendar,
                         extra={"press": press} if press is not None else None, **inputs)
