"""The citizen's dossiers: drafts, submission with its code, resubmission, withdrawal, rating.

Each public function is one transaction; the moves themselves are the lifecycle table's
(services.dossiers.table), made by the engine.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from services import idempotency
from services.actors import Actor
from services.calendar import WorkingCalendar
from services.clock import clock
from services.db import transaction
from services.dossiers.access import get_own, new_draft
from services.dossiers.lifecycle import apply, transition_for
from services.errors import Conflict, ValidationFailed
from services.idempotency import IdempotentRequest
from services.models import Agency, Dossier, Procedure
from services.province import fees
from services.province.catalog import get_procedure
from services.province.competence import agency_of_ward, find_competent
from services.wallet.reuse import prefilled
from vocab import DossierStatus


def competent_agency(session: Session, procedure: Procedure, form: dict[str, Any], agency_code: str | None) -> Agency:
    """The agency named (it must be competent), else the one serving the form's ward, else the default."""
    if agency_code is not None:
        agency = find_competent(session, procedure, agency_code)
        if agency is None:
            raise ValidationFailed("this agency does not handle this procedure", errors={
                "agency_code": [f"Not competent for {procedure.code}; see /procedures/{procedure.code}/agencies."]})
        return agency
    ward = form.get("ward_code")
    names_ward = "ward_code" in (procedure.form_schema.get("properties") or {})
    if isinstance(ward, str) and names_ward and (agency := agency_of_ward(session, procedure, ward)) is not None:
        return agency
    return procedure.agency


def create_draft(session: Session, actor: Actor, *, procedure_code: str, form: dict[str, Any],
                 agency_code: str | None = None, prefill: bool = False) -> Dossier:
    """A new draft; with `prefill`, the form's missing fields come from the caller's earlier dossiers."""
    with transaction(session):
        procedure = get_procedure(session, procedure_code)
        if prefill:
            form = prefilled(session, actor.user_id, procedure, form)
        agency = competent_agency(session, procedure, form, agency_code)
        now = clock.now()
        dossier = new_draft(procedure=procedure, agency_id=agency.id, agency=agency, applicant_id=actor.user_id,
                            form=form, fee_vnd=fees.quote(procedure.fee, form, base_vnd=procedure.fee_vnd),
                            created_at=now, status_changed_at=now)
        session.add(dossier)
        session.flush()
        return dossier


def update_form(session: Session, actor: Actor, dossier_id: str, *, form: dict[str, Any]) -> Dossier:
    with transaction(session):
        dossier = get_own(session, actor, dossier_id, lock=True)
        transition_for(dossier, "update", actor)
        dossier.form = form
        if dossier.status == DossierStatus.draft:  # the amount shown before submitting follows the form
            dossier.fee_vnd = fees.quote(dossier.procedure.fee, form, base_vnd=dossier.procedure.fee_vnd)
        session.flush()
        return dossier


def delete_draft(session: Session, actor: Actor, dossier_id: str) -> None:
    with transaction(session):
        dossier = get_own(session, actor, dossier_id, lock=True)
        transition_for(dossier, "delete", actor)
        session.delete(dossier)


def submit(session: Session, actor: Actor, dossier_id: str, *, calendar: WorkingCalendar,
           request: IdempotentRequest | None) -> Dossier:
    """Submit a draft; with an Idempotency-Key, a retry gets the same dossier back, never a second move."""
    def work() -> Dossier:
        dossier = get_own(session, actor, dossier_id, lock=True, papers=True)
        apply(session, dossier, "submit", actor, calendar=calendar)
        return dossier

    with transaction(session):
        return idempotency.run(session, request, work, lambda _id: get_own(session, actor, dossier_id),
                               resource_id=dossier_id)


def citizen_act(session: Session, actor: Actor, dossier_id: str, action: str, *,
                calendar: WorkingCalendar) -> Dossier:
    """withdraw, or resubmit after a supplement request (the table checks the form and papers again)."""
    with transaction(session):
        dossier = get_own(session, actor, dossier_id, lock=True, papers=True)
        apply(session, dossier, action, actor, calendar=calendar)
        return dossier


def rate(session: Session, actor: Actor, dossier_id: str, *, score: int, comment: str | None) -> Dossier:
    with transaction(session):
        dossier = get_own(session, actor, dossier_id, lock=True)
        transition_for(dossier, "rate", actor)
        if dossier.rated_at is not None:
            raise Conflict("this dossier is already rated")
        dossier.rating_score, dossier.rating_comment, dossier.rated_at = score, comment, clock.now()
        session.flush()
        return dossier
