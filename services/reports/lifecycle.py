"""The report lifecycle: the table (services.reports.table) and its rules on the engine.

Every move of a report goes through `REPORT.apply`: who may act, inputs and requirements, the effect,
the record (`_record`: one timeline entry, the audit row of a staff move) and the notices to the
reporter, the followers and, for some moves, the agency's officials.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services import audit
from services.actors import Actor
from services.calendar import WorkingCalendar
from services.clock import clock
from services.events import log as events
from services.lifecycle import Lifecycle, Move, Transition
from services.models import Report, ReportEntry, ReportFollower
from services.notices.alerts import officials_of
from services.notices.inbox import notify_all
from services.reports import pins
from services.reports.rules import EFFECTS, INPUTS, REQUIREMENTS
from services.reports.table import CITIZEN, OFFICIALS, PEOPLE, TABLE
from vocab import EventType, ReportStatus, Role


def may_act(actor: Actor, report: Report, transition: Transition) -> bool:
    if transition.actor == CITIZEN:
        return report.reporter_id is not None and actor.user_id == report.reporter_id
    if actor.role == Role.admin:
        return True
    return actor.role == Role.official and actor.agency_code == report.agency.code


def _set_status(move: Move[Report]) -> None:
    r = move.subject
    if move.after != move.before:
        r.status, r.status_changed_at = ReportStatus(move.after), move.now


def _record(move: Move[Report]) -> None:
    """The one place a report's move is recorded (timeline, audit, its map cell): events hook in here."""
    r, actor, inputs = move.subject, move.actor, move.inputs
    pins.touch(move.session, [r.cell])
    note = inputs.get("note") or inputs.get("reason")
    agency_code = r.agency.code if move.action == "transfer" else None
    r.timeline.append(ReportEntry(
        report_id=r.id, seq=len(r.timeline) + 1, action=move.action, from_status=move.before or None,
        status=move.after, actor_id=actor.user_id or None, actor_role=actor.role, agency_code=agency_code,
        at=move.now, note=note))
    if actor.role in (Role.official, Role.admin):
        audit.record(move.session, actor, f"report.{move.action}", "report", r.code,
                     {"from": move.before, "to": move.after, "note": note, "agency_code": agency_code})
    if move.action == "create" or move.after != move.before:  # a rating or a follow changes no status
        events.record(move.session, EventType.report_created if move.action == "create"
                      else EventType.report_status_changed, events.REPORT, r.id,
                      {"report_id": r.id, "code": r.code, "category_code": r.category.code,
                       "agency_code": r.agency.code, "status": str(move.after),
                       "previous_status": move.before or None, "action": move.action},
                      sequence=len(r.timeline), user_id=r.reporter_id, agency_id=r.agency_id, at=move.now)


# Filing is not a move of the table (there is no status before it), but it is recorded the same way.
CREATE = Transition("create", frozenset(), ReportStatus.new, CITIZEN)


def record_created(session: Session, report: Report, actor: Actor, now: datetime) -> None:
    _record(Move(session, report, actor, CREATE, now, None, {}, before="", after=ReportStatus.new))


def people_of(session: Session, report: Report) -> list[str]:
    """The reporter and everyone following the report."""
    followers = session.scalars(select(ReportFollower.user_id).where(ReportFollower.report_id == report.id))
    return [u for u in (report.reporter_id, *followers) if u]


def params(report: Report, **extra: Any) -> dict[str, Any]:
    return {"code": report.code, "status": report.status.value, "category": report.category.name,
            "category_en": report.category.name_en or report.category.name, "agency": report.agency.name,
            "report_id": report.id, **extra}


def _tell(move: Move[Report], tells: list[tuple[list[str], str]]) -> None:
    inputs = move.inputs
    values = params(move.subject, note=inputs.get("note") or inputs.get("reason"))
    notify_all(move.session, [(who, kind, values) for who, kind in tells])


REPORT: Lifecycle[Report] = Lifecycle(
    "report", ReportStatus, TABLE, requirements=REQUIREMENTS, inputs=INPUTS, effects=EFFECTS,
    audiences={PEOPLE: lambda m: people_of(m.session, m.subject),
               OFFICIALS: lambda m: officials_of(m.session, m.subject.agency_id)},
    authorize=may_act, status_of=lambda r: r.status, resume_of=lambda r: None,
    set_status=_set_status, record=_record, tell=_tell)


def allowed_actions(report: Report, actor: Actor, now: datetime) -> list[str]:
    return REPORT.allowed_actions(None, report, actor, now)


def apply(session: Session, report: Report, action: str, actor: Actor, *, calendar: WorkingCalendar | None = None,
          **inputs: Any) -> Move[Report]:
    return REPORT.apply(session, report, action, actor, now=clock.now(), calendar=calendar, **inputs)
