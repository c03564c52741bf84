"""The citizen's dossiers: drafts, submission with its code, resubmission, withdrawal, rating.

Each public function is one transaction. What a caller may not see is NotFound, never Forbidden.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import jsonschema
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import flag_modified

from services import idempotency
from services.calendar import TZ, WorkingCalendar
from services.catalog import get_procedure
from services.clock import clock
from services.counters import next_number
from services.db import transaction
from services.dossier_actions import Actor, apply, transition_for
from services.errors import Conflict, EidLevelInsufficient, MissingDocuments, NotFound, ValidationFailed
from services.idempotency import IdempotentRequest, Replay
from services.models import Dossier, DossierCodeCounter, Procedure, User

Render = Callable[[Dossier], dict[str, Any]]


def find(session: Session, dossier_id: str, *, lock: bool = False) -> Dossier | None:
    # One round trip: the timeline and papers come joined (a dossier has few of each).
    stmt = select(Dossier).where(Dossier.id == dossier_id).options(
        joinedload(Dossier.timeline), joinedload(Dossier.attachments),
        joinedload(Dossier.procedure).lazyload(Procedure.agency))  # the dossier's own agency is joined already
    if lock:
        stmt = stmt.with_for_update(of=Dossier)
    return session.scalars(stmt).unique().one_or_none()


def get_visible(session: Session, dossier_id: str, actor: Actor, *, lock: bool = False) -> Dossier:
    """The dossier if the actor is its applicant, an official of its agency or an admin; else 404."""
    dossier = find(session, dossier_id, lock=lock)
    if dossier is None or not (dossier.applicant_id == actor.user_id or actor.role == "admin"
                               or (actor.role == "official" and actor.agency_code == dossier.agency.code
                                   and dossier.status != "draft")):
        raise NotFound("dossier not found")
    return dossier


def get_own(session: Session, dossier_id: str, actor: Actor, *, lock: bool = False) -> Dossier:
    dossier = find(session, dossier_id, lock=lock)
    if dossier is None or dossier.applicant_id != actor.user_id:
        raise NotFound("dossier not found")
    return dossier


def touch(dossier: Dossier) -> None:
    """Make the next flush update the row, so its version (and ETag) moves."""
    flag_modified(dossier, "form")


def create_draft(session: Session, actor: Actor, *, procedure_code: str, form: dict[str, Any]) -> Dossier:
    with transaction(session):
        procedure = get_procedure(session, procedure_code)
        dossier = Dossier(procedure=procedure, agency_id=procedure.agency_id, applicant_id=actor.user_id,
                          form=form, fee_vnd=procedure.fee_vnd, status="draft", created_at=clock.now(),
                          status_changed_at=clock.now())
        session.add(dossier)
        session.flush()
        return dossier


def update_form(session: Session, dossier_id: str, actor: Actor, *, form: dict[str, Any]) -> Dossier:
    with transaction(session):
        dossier = get_own(session, dossier_id, actor, lock=True)
        transition_for(dossier, "update", actor)  # the state machine's table says when a form may change
        dossier.form = form
        session.flush()
        return dossier


def delete_draft(session: Session, dossier_id: str, actor: Actor) -> None:
    with transaction(session):
        dossier = get_own(session, dossier_id, actor, lock=True)
        transition_for(dossier, "delete", actor)
        session.delete(dossier)


def form_schema_of(dossier: Dossier) -> dict[str, Any]:
    # Members of an interconnected bundle share the group's one form.
    return dossier.bundle.group.form_schema if dossier.bundle is not None else dossier.procedure.form_schema


def validate_form(schema: dict[str, Any], form: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors: dict[str, list[str]] = {}
    for error in validator.iter_errors(form):
        path = "form" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        errors.setdefault(path, []).append(error.message)
    if errors:
        raise ValidationFailed("the form does not satisfy the procedure's schema", errors=errors)


def check_documents(dossier: Dossier) -> None:
    present = {a.document_type for a in dossier.attachments if a.kind == "document"}
    missing = [d.type for d in dossier.procedure.required_documents if d.mandatory and d.type not in present]
    if missing:
        raise MissingDocuments("mandatory documents are missing", errors={"documents": missing})


def check_eid_level(session: Session, dossier: Dossier) -> None:
    applicant = session.get(User, dossier.applicant_id)
    if applicant is None or applicant.eid_level < dossier.procedure.min_eid_level:
        raise EidLevelInsufficient(f"this procedure needs eID level {dossier.procedure.min_eid_level}")


def next_code(session: Session, dossier: Dossier) -> str:
    """{agency identifier}-{yyMMdd}-{NNNN}: gap-free per agency and local day (services.counters)."""
    day: date = clock.now().astimezone(TZ).date()
    number = next_number(session, DossierCodeCounter, agency_id=dossier.agency_id, day=day)
    return f"{dossier.agency.code}-{day:%y%m%d}-{number:04d}"


def submit_one(session: Session, dossier: Dossier, actor: Actor, *, calendar: WorkingCalendar) -> None:
    """Check and submit a draft (inside the caller's transaction)."""
    transition_for(dossier, "submit", actor)  # before the checks: a submitted dossier is not re-checked
    if not dossier.procedure.active:
        raise Conflict("this procedure no longer accepts new dossiers")
    check_eid_level(session, dossier)
    validate_form(form_schema_of(dossier), dossier.form)
    check_documents(dossier)
    dossier.code = next_code(session, dossier)
    dossier.fee_vnd = dossier.procedure.fee_vnd
    dossier.submitted_at = clock.now()
    apply(session, dossier, "submit", actor, calendar=calendar)


def submit(session: Session, dossier_id: str, actor: Actor, *, calendar: WorkingCalendar,
           request: IdempotentRequest | None, render: Render) -> Replay:
    """Submit a draft; with an Idempotency-Key, a retry gets the first answer again."""
    def work() -> dict[str, Any]:
        dossier = get_own(session, dossier_id, actor, lock=True)
        submit_one(session, dossier, actor, calendar=calendar)
        return render(dossier)

    with transaction(session):
        return idempotency.run(session, request, work)


def citizen_act(session: Session, dossier_id: str, actor: Actor, action: str, *,
                calendar: WorkingCalendar) -> Dossier:
    """withdraw or resubmit (after a supplement request, with the form and papers checked again)."""
    with transaction(session):
        dossier = get_own(session, dossier_id, actor, lock=True)
        if action == "resubmit" and dossier.status == "supplement_requested":
            validate_form(form_schema_of(dossier), dossier.form)
            check_documents(dossier)
        apply(session, dossier, action, actor, calendar=calendar)
        return dossier


def rate(session: Session, dossier_id: str, actor: Actor, *, score: int, comment: str | None) -> Dossier:
    with transaction(session):
        dossier = get_own(session, dossier_id, actor, lock=True)
        transition_for(dossier, "rate", actor)
        if dossier.rated_at is not None:
            raise Conflict("this dossier is already rated")
        dossier.rating_score, dossier.rating_comment, dossier.rated_at = score, comment, clock.now()
        session.flush()
        return dossier
