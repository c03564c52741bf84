"""The one-stop desk: a centre's official files a walk-in or postal dossier for a person and it is
received at once (code, appointment, form 01), then forwarded to the competent agency if the centre
is not it (Decree 118/2025). The person is found or created by CCCD (services.people.identity)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from services import idempotency
from services.actors import Actor
from services.calendar import WorkingCalendar
from services.clock import clock
from services.db import transaction
from services.dossiers.access import get_visible, new_draft
from services.dossiers.citizen import competent_agency
from services.dossiers.documents import Press
from services.dossiers.lifecycle import apply
from services.errors import Forbidden
from services.idempotency import IdempotentRequest
from services.models import Agency, Dossier
from services.people.identity import person_at_desk
from services.province import fees
from services.province.catalog import get_agency, get_procedure
from vocab import Channel, Role


def centre_of(session: Session, actor: Actor) -> Agency:
    """The one-stop centre the caller works at; staff of any other agency are refused (403)."""
    if actor.role not in (Role.official, Role.admin) or not actor.agency_code:
        raise Forbidden("only an official of a one-stop centre files dossiers at the desk")
    agency = get_agency(session, actor.agency_code)
    if not agency.is_centre or not agency.active:
        raise Forbidden("your agency is not a one-stop centre that receives dossiers")
    return agency


def file(session: Session, actor: Actor, *, procedure_code: str, agency_code: str | None, variant: str | None,
         channel: str, return_method: str, applicant: dict[str, Any], form: dict[str, Any],
         calendar: WorkingCalendar, press: Press, request: IdempotentRequest | None,
         papers: list[str] | None = None) -> Dossier:
    """File and receive a dossier at the caller's centre; with an Idempotency-Key a retry gets the same one."""

    def work() -> Dossier:
        centre = centre_of(session, actor)
        procedure = get_procedure(session, procedure_code)
        competent = competent_agency(session, procedure, form, agency_code)
        born: date = applicant["date_of_birth"]
        person = person_at_desk(session, cccd=applicant["cccd"], full_name=applicant["full_name"],
                                date_of_birth=born, gender=applicant["gender"])
        contact = {k: applicant[k] for k in ("phone", "address") if applicant.get(k)}
        now = clock.now()
        # Filed at the centre (its officials make the receipt), then forwarded to the competent agency.
        dossier = new_draft(procedure=procedure, agency_id=centre.id, agency=centre, applicant_id=person.id,
                            receiving_centre_id=centre.id, channel=Channel(channel),
                            return_method=Channel(return_method), applicant_contact=contact or None, form=form,
                            fee_vnd=fees.quote(procedure.fee, form, base_vnd=procedure.fee_vnd), created_at=now,
                            status_changed_at=now)
        set_committed_value(dossier, "receiving_centre", centre)
        set_committed_value(dossier, "bundle", None)
        set_committed_value(dossier, "applicant", person)
        session.add(dossier)
        session.flush()
        apply(session, dossier, "receive_at_desk", actor, calendar=calendar, press=press, variant=variant,
              papers=papers or [])
        if competent.id != centre.id:
            apply(session, dossier, "transfer", actor, calendar=calendar, agency_code=competent.code,
                  note="Chuyển cơ quan có thẩm quyền giải quyết")
        return dossier

    with transaction(session):
        return idempotency.run(session, request, work,
                               lambda dossier_id: get_visible(session, actor, dossier_id, staff=True))
