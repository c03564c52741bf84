"""The named rules the dossier table refers to: requirements, inputs and effects.

Every name used in services.dossiers.table must be a key here; the engine refuses the table at import
otherwise.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import jsonschema
from sqlalchemy import inspect, select

from services.calendar import TZ
from services.clock import clock
from services.counters import next_number
from services.dossiers import documents
from services.dossiers.table import CLOCK_RUNNING, FINAL
from services.errors import (
    Conflict,
    DomainError,
    EidLevelInsufficient,
    InvalidTransition,
    MissingDocuments,
    PaymentRequired,
    ValidationFailed,
)
from services.lifecycle import Effect, InputCheck, Move, Requirement
from services.models import DeskPayment, Dossier, DossierCodeCounter, User
from services.money.receipts import next_receipt
from services.money.vnpay import format_vnd
from services.people.cccd import FORMAT_CHECKER, disagreement
from services.province import fees
from services.province.competence import find_competent
from services.wallet.items import file_results
from vocab import AttachmentKind, DeskForm, DeskPaymentMethod, DossierStatus, FeeStatus, PaidVia, PaymentStatus

DossierMove = Move[Dossier]


def is_overdue(dossier: Dossier, now: datetime) -> bool:
    return overdue(dossier.due_at, dossier.status, now)


def overdue(due_at: datetime | None, status: DossierStatus, now: datetime) -> bool:
    return due_at is not None and due_at < now and status not in FINAL


def payment_status(dossier: Dossier) -> FeeStatus:
    now = clock.now()
    pending = any(p.status == PaymentStatus.pending and p.expires_at > now for p in dossier.payments)
    return fee_status(dossier.fee_vnd, dossier.paid_at is not None, pending)


def fee_status(fee_vnd: int, paid: bool, pending: bool) -> FeeStatus:
    """A fee's state from the dossier's fee and paid mark and whether an unexpired payment is pending."""
    if fee_vnd == 0:
        return FeeStatus.not_required
    if paid:
        return FeeStatus.paid
    return FeeStatus.pending if pending else FeeStatus.unpaid


def predecessor(dossier: Dossier) -> Dossier | None:
    if dossier.bundle is None or not dossier.bundle_position:
        return None
    earlier = [d for d in dossier.bundle.dossiers if (d.bundle_position or 0) < dossier.bundle_position]
    return earlier[-1] if earlier else None


def form_schema_of(dossier: Dossier) -> dict[str, Any]:
    # Members of an interconnected bundle share the group's one form.
    return dossier.bundle.group.form_schema if dossier.bundle is not None else dossier.procedure.form_schema


def _cccd_agreement(schema: Any, value: Any, path: str, errors: dict[str, list[str]]) -> None:
    """A `format: cccd` number against the birth date and gender beside it, wherever the form has them."""
    if not isinstance(schema, dict) or not isinstance(value, dict):
        return
    for key, sub in (schema.get("properties") or {}).items():
        if key in value:
            if isinstance(sub, dict) and sub.get("format") == "cccd":
                for message in disagreement(value[key], value):
                    errors.setdefault(f"{path}.{key}", []).append(message)
            _cccd_agreement(sub, value[key], f"{path}.{key}", errors)


def form_errors(schema: dict[str, Any], form: dict[str, Any]) -> ValidationFailed | None:
    validator = jsonschema.Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    errors: dict[str, list[str]] = {}
    for error in validator.iter_errors(form):
        path = "form" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        errors.setdefault(path, []).append(error.message)
    _cccd_agreement(schema, form, "form", errors)
    return ValidationFailed("the form does not satisfy the procedure's schema", errors=errors) if errors else None


def validate_form(schema: dict[str, Any], form: dict[str, Any]) -> None:
    if (error := form_errors(schema, form)) is not None:
        raise error


def missing_documents(d: Dossier) -> list[str]:
    """The mandatory papers not held as files (the procedure's required documents must be loaded)."""
    present = {a.document_type for a in d.attachments if a.kind == AttachmentKind.document}
    return [r.type for r in d.procedure.required_documents if r.mandatory and r.type not in present]


def _documents_complete(move: DossierMove) -> DomainError | None:
    missing = missing_documents(move.subject)
    return MissingDocuments("mandatory documents are missing", errors={"documents": missing}) if missing else None


def _eid_level(move: DossierMove) -> DomainError | None:
    d = move.subject
    applicant = inspect(d).attrs.applicant.loaded_value  # joined by the locked load of a submit
    level = applicant.eid_level if isinstance(applicant, User) else \
        move.session.scalar(select(User.eid_level).where(User.id == d.applicant_id))
    if level is None or level < d.procedure.min_eid_level:
        return EidLevelInsufficient(f"this procedure needs eID level {d.procedure.min_eid_level}")
    return None


def _when(holds: bool, error: DomainError) -> DomainError | None:
    return None if holds else error


REQUIREMENTS: dict[str, Requirement[Dossier]] = {
    # Checked at the move only (they read the form, the papers, the person).
    "procedure_active": Requirement(lambda m: _when(m.subject.procedure.active, Conflict(
        "this procedure no longer accepts new dossiers")), listed=False),
    "eid_level": Requirement(_eid_level, listed=False),
    "form_valid": Requirement(lambda m: form_errors(form_schema_of(m.subject), m.subject.form), listed=False),
    "documents_complete": Requirement(_documents_complete, listed=False),
    # States, also consulted for allowed_actions.
    "not_rated": Requirement(lambda m: _when(m.subject.rated_at is None, InvalidTransition(
        "this dossier is already rated"))),
    "fee_due": Requirement(lambda m: _when(m.subject.fee_vnd > 0 and m.subject.paid_at is None, Conflict(
        "this dossier has no fee to pay"))),
    "fee_paid": Requirement(lambda m: _when(m.subject.fee_vnd == 0 or m.subject.paid_at is not None,
                                            PaymentRequired("the fee is not paid yet"))),
    "overdue": Requirement(lambda m: _when(is_overdue(m.subject, m.now), InvalidTransition(
        "only an overdue dossier calls for an apology"))),
    "predecessor_completed": Requirement(lambda m: _when(
        (p := predecessor(m.subject)) is None or p.status == DossierStatus.completed,
        InvalidTransition("the previous step of the interconnected group is not completed yet"))),
}


def _required(move: Move[Any], value: Any) -> list[str]:
    return [] if value else [f"Required for {move.action}."]


def _later_due(move: DossierMove, value: datetime | None) -> list[str]:
    if not value:
        return [f"Required for {move.action}."]
    if value.tzinfo is None:
        return ["Must carry a UTC offset."]
    if value <= max(move.now, move.subject.due_at or move.now):
        return ["Must be later than now and than the missed due date."]
    return []


def _variant(move: DossierMove, value: str | None) -> list[str]:
    known = [v["code"] for v in move.subject.procedure.variants]
    if value is None or value in known:
        return []
    return [f"Not a variant of this procedure; one of: {', '.join(known)}." if known else "This procedure has none."]


def _transfer_to(move: DossierMove, value: str | None) -> list[str]:
    if not value:
        return [f"Required for {move.action}."]
    if value == move.subject.agency.code:
        return ["The dossier is already at this agency."]
    agency = find_competent(move.session, move.subject.procedure, value)
    if agency is None:
        return ["Not an agency competent for this procedure."]
    move.extra["agency"] = agency
    return []


def _desk_amount(move: DossierMove, value: int | None) -> list[str]:
    if value is None:
        return [f"Required for {move.action}."]
    if value != move.subject.fee_vnd:
        return [f"The fee of this dossier is {move.subject.fee_vnd} VND."]
    return []


def _desk_method(move: DossierMove, value: str | None) -> list[str]:
    return [] if value in tuple(DeskPaymentMethod) else [f"One of: {', '.join(DeskPaymentMethod)}."]


def _reference(move: DossierMove, value: str | None) -> list[str]:
    return [] if value is None or 1 <= len(value) <= 60 else ["1-60 characters."]


def _papers(move: DossierMove, value: list[str] | None) -> list[str]:
    """The papers taken in at the desk (on paper): each one of the procedure's document types."""
    known = {r.type for r in move.subject.procedure.required_documents}
    unknown = sorted(set(value or ()) - known)
    return [f"Not papers of this procedure: {', '.join(unknown)}; one of: {', '.join(sorted(known))}."] \
        if unknown else []


INPUTS: dict[str, InputCheck] = {"note": _required, "reason": _required, "new_due_at": _later_due,
                                 "variant": _variant, "agency_code": _transfer_to, "amount_vnd": _desk_amount,
                                 "method": _desk_method, "receipt_no": _reference, "papers": _papers}


def processing_days(d: Dossier) -> float:
    """The dossier's statutory time: its variant's, else its procedure's."""
    chosen = next((v for v in d.procedure.variants if v["code"] == d.variant), None)
    return float(chosen["processing_days"] if chosen else d.procedure.processing_days)


def _counts_in_hours(d: Dossier) -> bool:
    days = processing_days(d)
    return days != int(days)


def next_code(move: DossierMove) -> str:
    """{agency identifier}-{yyMMdd}-{NNNN}: gap-free per agency and local day (services.counters)."""
    d = move.subject
    day: date = move.now.astimezone(TZ).date()
    number = next_number(move.session, DossierCodeCounter, agency_id=d.agency_id, day=day)
    return f"{d.agency.code}-{day:%y%m%d}-{number:04d}"


def _submit(move: DossierMove) -> None:
    d = move.subject
    d.code = next_code(move)
    d.fee_vnd = fees.amount(d.procedure.fee, d.form, base_vnd=d.procedure.fee_vnd)  # fixed from now on
    d.submitted_at = move.now
    if d.channel == "online":  # documents_complete held: every mandatory paper is a file
        d.digitised_at = move.now


def _set_due(move: DossierMove) -> None:
    d = move.subject
    d.received_at, d.variant = move.now, move.inputs.get("variant")
    cutoff = time.fromisoformat(d.procedure.cutoff_time) if d.procedure.cutoff_time else None
    d.due_at = move.cal.due_at(move.now, processing_days(d), cutoff)


def _receive(move: DossierMove) -> None:
    _set_due(move)
    documents.issue(move, DeskForm.receipt)


def mark_digitised(d: Dossier, now: datetime) -> None:
    """Stamp the dossier digitised once every mandatory paper is held as a file (scans included)."""
    if d.digitised_at is None and not missing_documents(d):
        d.digitised_at = now


def _receive_at_desk(move: DossierMove) -> None:
    """Filed and received in one move: the code, the fee from the form, the appointment, form 01."""
    d = move.subject
    d.code = next_code(move)
    d.fee_vnd = fees.amount(d.procedure.fee, d.form, base_vnd=d.procedure.fee_vnd)
    d.submitted_at = move.now
    mark_digitised(d, move.now)  # a procedure that asks for no paper is digitised at once
    names = {r.type: r.name for r in d.procedure.required_documents}
    if papers := [names[t] for t in dict.fromkeys(move.inputs.get("papers") or ())]:
        move.extra["papers"] = papers  # listed on form 01, and kept on the timeline
        move.extra["note"] = "Nhận bản giấy: " + "; ".join(papers)
    _receive(move)


def _pause(move: DossierMove) -> None:
    d = move.subject
    documents.issue(move, DeskForm.supplement)
    d.resume_status = d.status
    d.supplement_count += 1
    if d.status not in CLOCK_RUNNING or d.due_at is None:
        return
    if d.due_at <= move.now:
        return  # already late: the clock is not stopped, so no resubmission can make it on time
    if _counts_in_hours(d):
        d.remaining_minutes = move.cal.working_minutes_between(move.now, d.due_at)
    else:
        d.remaining_days = move.cal.remaining_days(move.now, d.due_at)
    d.due_at = None  # the clock stops


def _resubmit(move: DossierMove) -> None:
    d = move.subject
    if d.remaining_days is not None or d.remaining_minutes is not None:
        d.due_at = (move.cal.resume(move.now, d.remaining_days) if d.remaining_days is not None
                    else move.cal.add_working_minutes(move.now, d.remaining_minutes or 0))
        # The pause began when the dossier became supplement_requested; statistics leave it out.
        d.paused_days += move.cal.working_days_spent(d.status_changed_at, move.now)
    d.remaining_days, d.remaining_minutes, d.resume_status = None, None, None


def _transfer(move: DossierMove) -> None:
    """To the competent agency; the centre that received it keeps seeing it, and the clock runs on."""
    d, agency = move.subject, move.extra["agency"]
    move.extra["from_agency"] = d.agency
    if d.receiving_centre_id is None:
        d.receiving_centre_id, d.receiving_centre = d.agency_id, d.agency
    d.agency_id, d.agency = agency.id, agency


def _close(move: DossierMove) -> None:
    move.subject.closed_at = move.now


def _reject(move: DossierMove) -> None:
    _close(move)
    documents.issue(move, DeskForm.refusal)


def _return_result(move: DossierMove) -> None:
    d = move.subject
    d.completed_at = d.closed_at = move.now
    if d.received_at is not None:  # recorded once, by the action, so the statistics only average it
        d.processing_days = max(0, move.cal.working_days_spent(d.received_at, move.now) - d.paused_days)
    file_results(move.session, d)  # the result files enter the applicant's wallet, in this transaction


def _record_payment(move: DossierMove) -> None:
    move.subject.paid_at, move.subject.paid_via = move.now, PaidVia.online


def _record_desk_payment(move: DossierMove) -> None:
    """The fee taken at the counter; its receipt number comes from the online receipts' series."""
    d, inputs = move.subject, move.inputs
    receipt_no = next_receipt(move.session, d.agency, move.now)
    payment = DeskPayment(dossier_id=d.id, amount_vnd=inputs["amount_vnd"], method=inputs["method"],
                          receipt_no=receipt_no, reference=inputs.get("receipt_no"), recorded_by=move.actor.user_id,
                          recorded_at=move.now)
    move.session.add(payment)
    d.paid_at, d.paid_via = move.now, PaidVia.desk
    move.extra["desk_payment"] = payment
    move.extra["notice"] = {"amount": format_vnd(payment.amount_vnd), "receipt_no": receipt_no}
    move.extra["note"] = f"Thu phí tại quầy {format_vnd(payment.amount_vnd)} ({payment.method}), biên lai {receipt_no}"


def _apologize(move: DossierMove) -> None:
    move.subject.appointment_at = move.inputs["new_due_at"]  # the promise; `due_at`, which decides on-time, stays
    documents.issue(move, DeskForm.apology)


EFFECTS: dict[str, Effect] = {
    "submit": _submit, "receive": _receive, "pause": _pause, "resubmit": _resubmit, "close": _close,
    "transfer": _transfer, "receive_at_desk": _receive_at_desk, "reject": _reject,
    "record_desk_payment": _record_desk_payment,
    "return_result": _return_result, "record_payment": _record_payment, "apologize": _apologize,
}
