"""The transition engine: who may do what to a dossier now, and what each move changes.

Every move goes through `apply`, which reads services.workflow.TRANSITIONS, checks the actor and
the requirements, runs the action's effect and appends one immutable timeline entry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from services import alerts, audit
from services.actors import Actor
from services.calendar import WorkingCalendar
from services.clock import clock
from services.errors import InvalidTransition, PaymentRequired, ValidationFailed
from services.models import Dossier, TimelineEntry
from services.workflow import BY_ACTION, CITIZEN, CLOCK_RUNNING, FINAL, INPUTS, SYSTEM, Transition, target_of


def is_overdue(dossier: Dossier, now: datetime) -> bool:
    return dossier.due_at is not None and dossier.due_at < now and dossier.status not in FINAL


def payment_status(dossier: Dossier) -> str:
    if dossier.fee_vnd == 0:
        return "not_required"
    if dossier.paid_at is not None:
        return "paid"
    now = clock.now()
    pending = any(p.status == "pending" and p.expires_at > now for p in dossier.payments)
    return "pending" if pending else "unpaid"


SYSTEM_ACTOR = Actor(user_id="", role=SYSTEM)


def may_act(actor: Actor, dossier: Dossier, transition: Transition) -> bool:
    if transition.actor == SYSTEM or actor.role == SYSTEM:
        return transition.actor == SYSTEM and actor.role == SYSTEM
    if transition.actor == CITIZEN:
        return actor.user_id == dossier.applicant_id
    if actor.role == "admin":
        return True
    return actor.role == "official" and actor.agency_code == dossier.agency.code


def predecessor(dossier: Dossier) -> Dossier | None:
    if dossier.bundle is None or not dossier.bundle_position:
        return None
    earlier = [d for d in dossier.bundle.dossiers if (d.bundle_position or 0) < dossier.bundle_position]
    return earlier[-1] if earlier else None


# State requirements, also consulted for allowed_actions: name → (holds?, error when not).
STATE_CHECKS: dict[str, Callable[[Dossier, datetime], bool]] = {
    "not_rated": lambda d, now: d.rated_at is None,
    "fee_paid": lambda d, now: d.fee_vnd == 0 or d.paid_at is not None,
    "overdue": is_overdue,
    "predecessor_completed": lambda d, now: (p := predecessor(d)) is None or p.status == "completed",
}
STATE_ERRORS = {
    "fee_paid": lambda: PaymentRequired("the fee is not paid yet"),
    "overdue": lambda: InvalidTransition("only an overdue dossier calls for an apology"),
    "not_rated": lambda: InvalidTransition("this dossier is already rated"),
    "predecessor_completed": lambda: InvalidTransition("the previous step of the interconnected group is not "
                                                       "completed yet"),
}


def allowed_actions(dossier: Dossier, actor: Actor, now: datetime) -> list[str]:
    return [
        t.action for t in BY_ACTION.values()
        if dossier.status in t.sources and may_act(actor, dossier, t)
        and all(STATE_CHECKS[r](dossier, now) for r in t.requires if r in STATE_CHECKS)
    ]


def transition_for(dossier: Dossier, action: str, actor: Actor) -> Transition:
    transition = BY_ACTION.get(action)
    if transition is None or dossier.status not in transition.sources or not may_act(actor, dossier, transition):
        raise InvalidTransition(f"cannot {action} a dossier that is {dossier.status}")
    return transition


def _check_inputs(transition: Transition, note: str | None, reason: str | None, new_due_at: datetime | None,
                  dossier: Dossier, now: datetime) -> None:
    errors: dict[str, list[str]] = {}
    given = {"note": note, "reason": reason, "new_due_at": new_due_at}
    for name in transition.requires:
        if name in INPUTS and not given[name]:
            errors[name] = [f"Required for {transition.action}."]
    if new_due_at is not None and "new_due_at" in transition.requires:
        if new_due_at.tzinfo is None:
            errors["new_due_at"] = ["Must carry a UTC offset."]
        elif new_due_at <= max(now, dossier.due_at or now):
            errors["new_due_at"] = ["Must be later than now and than the missed due date."]
    if errors:
        raise ValidationFailed(f"{transition.action} needs more", errors=errors)


def _on_receive(d: Dossier, now: datetime, cal: WorkingCalendar, new_due_at: datetime | None) -> None:
    d.received_at = now
    d.due_at = cal.due_at(now, d.procedure.processing_days)


def _on_request_supplement(d: Dossier, now: datetime, cal: WorkingCalendar, new_due_at: datetime | None) -> None:
    d.resume_status = d.status
    d.supplement_count += 1
    if d.status in CLOCK_RUNNING and d.due_at is not None:
        d.remaining_days = cal.remaining_days(now, d.due_at)
        d.due_at = None  # the clock stops


def _on_resubmit(d: Dossier, now: datetime, cal: WorkingCalendar, new_due_at: datetime | None) -> None:
    if d.remaining_days is not None:
        d.due_at = cal.resume(now, d.remaining_days)
        # The pause began when the dossier became supplement_requested; statistics leave it out.
        d.paused_days += cal.working_days_spent(d.status_changed_at, now)
    d.remaining_days, d.resume_status = None, None


def _on_close(d: Dossier, now: datetime, cal: WorkingCalendar, new_due_at: datetime | None) -> None:
    d.closed_at = now


def _on_return_result(d: Dossier, now: datetime, cal: WorkingCalendar, new_due_at: datetime | None) -> None:
    d.completed_at = d.closed_at = now
    if d.received_at is not None:  # recorded once, by the action, so the statistics only average it
        d.processing_days = max(0, cal.working_days_spent(d.received_at, now) - d.paused_days)


def _on_record_payment(d: Dossier, now: datetime, cal: WorkingCalendar, new_due_at: datetime | None) -> None:
    d.paid_at = now


def _on_apologize(d: Dossier, now: datetime, cal: WorkingCalendar, new_due_at: datetime | None) -> None:
    d.appointment_at = new_due_at  # the promise; `due_at`, which decides on-time, does not move


EFFECTS = {
    "receive": _on_receive,
    "request_supplement": _on_request_supplement,
    "resubmit": _on_resubmit,
    "reject": _on_close,
    "withdraw": _on_close,
    "return_result": _on_return_result,
    "apologize": _on_apologize,
    "record_payment": _on_record_payment,
}


def apply(session: Session, dossier: Dossier, action: str, actor: Actor, *, calendar: WorkingCalendar,
          note: str | None = None, reason: str | None = None, new_due_at: datetime | None = None) -> TimelineEntry:
    """Make one move (inside the caller's transaction) and record it on the timeline."""
    now = clock.now()
    transition = transition_for(dossier, action, actor)
    _check_inputs(transition, note, reason, new_due_at, dossier, now)
    for requirement in transition.requires:
        check = STATE_CHECKS.get(requirement)
        if check is not None and not check(dossier, now):
            raise STATE_ERRORS[requirement]()
    before = dossier.status
    after = target_of(transition, before, dossier.resume_status)
    if effect := EFFECTS.get(action):
        effect(dossier, now, calendar, new_due_at)
    if after != before:
        dossier.status, dossier.status_changed_at = after, now
    dossier.queue_at = dossier.due_at or dossier.status_changed_at
    entry = TimelineEntry(dossier_id=dossier.id, seq=len(dossier.timeline) + 1, action=action, from_status=before,
                          status=after, actor_id=actor.user_id or None, actor_role=actor.role, at=now, note=note,
                          reason=reason, new_due_at=new_due_at)
    dossier.timeline.append(entry)
    alerts.dossier_moved(session, dossier, action=action, before=before, note=note, reason=reason,
                         appointment_at=new_due_at)
    if actor.role in ("official", "admin"):
        audit.record(session, actor, f"dossier.{action}", "dossier", dossier.code or dossier.id,
                     {"from": before, "to": after, "note": note, "reason": reason,
                      "new_due_at": new_due_at.isoformat() if new_due_at else None})
    session.flush()
    return entry
