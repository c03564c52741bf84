"""Interconnected applications (liên thông, Đề án 06): one form, a dossier per step, submitted together.

Each member goes to its own agency; a later step cannot be received before the earlier one is
completed (services.dossier_actions, requirement `predecessor_completed`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services import idempotency
from services.calendar import WorkingCalendar
from services.clock import clock
from services.db import transaction
from services.dossier_actions import Actor
from services.dossiers import Render, submit_one, validate_form
from services.errors import NotFound, ValidationFailed
from services.idempotency import IdempotentRequest, Replay
from services.models import Dossier, DossierBundle, ProcedureGroup
from services.workflow import FINAL


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
            bundle.dossiers.append(Dossier(
                procedure=procedure, agency_id=procedure.agency_id, applicant_id=actor.user_id, form=form,
                fee_vnd=procedure.fee_vnd, bundle_position=position, created_at=now, status_changed_at=now))
        session.flush()
        return bundle


def get_own(session: Session, bundle_id: str, actor: Actor) -> DossierBundle:
    bundle = session.get(DossierBundle, bundle_id)
    if bundle is None or bundle.applicant_id != actor.user_id:
        raise NotFound("bundle not found")
    return bundle


def update_form(session: Session, bundle_id: str, actor: Actor, *, form: dict[str, Any]) -> DossierBundle:
    with transaction(session):
        bundle = get_own(session, bundle_id, actor)
        for dossier in bundle.dossiers:
            if dossier.status in ("draft", "supplement_requested"):
                dossier.form = form
        bundle.form = form
        session.flush()
        return bundle


def aggregate_status(bundle: DossierBundle) -> str:
    """One status for the whole application, as the citizen thinks of it."""
    statuses = [d.status for d in bundle.dossiers]
    if len(set(statuses)) == 1:
        return statuses[0]
    if "rejected" in statuses:
        return "rejected"
    if "supplement_requested" in statuses:
        return "supplement_requested"
    if all(s in FINAL for s in statuses):
        return "completed" if "completed" in statuses else statuses[-1]
    return "in_progress" if any(s != "submitted" for s in statuses) else "submitted"


def submit(session: Session, bundle_id: str, actor: Actor, *, calendar: WorkingCalendar,
           request: IdempotentRequest | None, render: Render) -> Replay:
    """Submit every member, all or none, under one Idempotency-Key."""
    def work() -> dict[str, Any]:
        bundle = get_own(session, bundle_id, actor)
        validate_form(bundle.group.form_schema, bundle.form)
        for dossier in bundle.dossiers:
            session.refresh(dossier, with_for_update={"of": Dossier})
            submit_one(session, dossier, actor, calendar=calendar)
        return render(bundle)

    with transaction(session):
        return idempotency.run(session, request, work)
