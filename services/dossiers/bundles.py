"""Interconnected applications (liên thông, Đề án 06): one form, a dossier per step, submitted together.

Each member goes to its own agency; a later step cannot be received before the earlier one is
completed (the lifecycle table's requirement `predecessor_completed`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services import idempotency
from services.actors import Actor
from services.calendar import WorkingCalendar
from services.clock import clock
from services.db import transaction
from services.dossiers.access import new_draft, shown
from services.dossiers.lifecycle import DOSSIER, apply
from services.dossiers.rules import validate_form
from services.dossiers.table import FINAL
from services.errors import NotFound, ValidationFailed
from services.idempotency import IdempotentRequest
from services.models import Dossier, DossierBundle, Procedure, ProcedureGroup
from vocab import DossierStatus as S


def create(session: Session, actor: Actor, *, group_code: str, form: dict[str, Any],
           procedure_codes: list[str] | None = None) -> DossierBundle:
    """Drafts for every step of the group (or the chosen steps; the first step is always included)."""
    with transaction(session):
        group = session.scalar(select(ProcedureGroup).where(ProcedureGroup.code == group_code,
                                                            ProcedureGroup.active.is_(True)))
        if group is None:
            raise NotFound(f"interconnected group {group_code} not found")
        members = [m.procedure for m in group.members]
        if procedure_codes is not None:
            unknown = set(procedure_codes) - {p.code for p in members}
            if unknown or members[0].code not in procedure_codes:
                raise ValidationFailed("invalid steps", errors={"procedure_codes": [
                    f"Steps of {group_code}, starting with {members[0].code}."]})
            members = [p for p in members if p.code in procedure_codes]
        now = clock.now()
        bundle = DossierBundle(group=group, applicant_id=actor.user_id, form=form, created_at=now)
        session.add(bundle)
        for position, procedure in enumerate(members):
            bundle.dossiers.append(new_draft(
                procedure=procedure, agency_id=procedure.agency_id, applicant_id=actor.user_id, form=form,
                fee_vnd=procedure.fee_vnd, bundle_position=position, created_at=now, status_changed_at=now))
        session.flush()
        return bundle


def get_own(session: Session, actor: Actor, bundle_id: str) -> DossierBundle:
    members = selectinload(DossierBundle.dossiers)
    bundle = session.scalar(select(DossierBundle).where(DossierBundle.id == bundle_id).options(
        members.options(*shown()), members.joinedload(Dossier.procedure).selectinload(Procedure.required_documents)))
    if bundle is None or bundle.applicant_id != actor.user_id:
        raise NotFound("bundle not found")
    return bundle


def update_form(session: Session, actor: Actor, bundle_id: str, *, form: dict[str, Any]) -> DossierBundle:
    with transaction(session):
        bundle = get_own(session, actor, bundle_id)
        for dossier in bundle.dossiers:
            if DOSSIER.allows(dossier.status, "update"):
                dossier.form = form
        bundle.form = form
        session.flush()
        return bundle


def aggregate_status(bundle: DossierBundle) -> str:
    """One status for the whole application, as the citizen thinks of it."""
    statuses = [d.status for d in bundle.dossiers]
    if not statuses:  # every member draft was deleted
        return S.draft
    if len(set(statuses)) == 1:
        return statuses[0]
    if S.rejected in statuses:
        return S.rejected
    if S.supplement_requested in statuses:
        return S.supplement_requested
    if all(s in FINAL for s in statuses):
        return S.completed if S.completed in statuses else statuses[-1]
    return S.in_progress if any(s != S.submitted for s in statuses) else S.submitted


def submit(session: Session, actor: Actor, bundle_id: str, *, calendar: WorkingCalendar,
           request: IdempotentRequest | None) -> DossierBundle:
    """Submit every member, all or none, under one Idempotency-Key."""
    def work() -> DossierBundle:
        bundle = get_own(session, actor, bundle_id)
        validate_form(bundle.group.form_schema, bundle.form)
        for dossier in bundle.dossiers:
            session.refresh(dossier, with_for_update={"of": Dossier})
            apply(session, dossier, "submit", actor, calendar=calendar)
        return bundle

    with transaction(session):
        return idempotency.run(session, request, work, lambda _id: get_own(session, actor, bundle_id),
                               resource_id=bundle_id)
