"""Finding one dossier for whoever asks: its applicant, an official of its agency, or an admin.

What a caller may not see is NotFound, never Forbidden.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import flag_modified

from services.actors import Actor
from services.errors import NotFound
from services.models import Dossier, Procedure
from vocab import DossierStatus, Role


def find(session: Session, dossier_id: str, *, lock: bool = False) -> Dossier | None:
    # One round trip: the timeline and papers come joined (a dossier has few of each).
    stmt = select(Dossier).where(Dossier.id == dossier_id).options(
        joinedload(Dossier.timeline), joinedload(Dossier.attachments),
        joinedload(Dossier.procedure).lazyload(Procedure.agency))  # the dossier's own agency is joined already
    if lock:
        stmt = stmt.with_for_update(of=Dossier)
    return session.scalars(stmt).unique().one_or_none()


def visible_to(dossier: Dossier, actor: Actor) -> bool:
    return (dossier.applicant_id == actor.user_id or actor.role == Role.admin
            or (actor.role == Role.official and actor.agency_code == dossier.agency.code
                and dossier.status != DossierStatus.draft))


def get_visible(session: Session, actor: Actor, dossier_id: str, *, lock: bool = False) -> Dossier:
    """The dossier if the actor is its applicant, an official of its agency or an admin; else 404."""
    dossier = find(session, dossier_id, lock=lock)
    if dossier is None or not visible_to(dossier, actor):
        raise NotFound("dossier not found")
    return dossier


def get_own(session: Session, actor: Actor, dossier_id: str, *, lock: bool = False) -> Dossier:
    dossier = find(session, dossier_id, lock=lock)
    if dossier is None or dossier.applicant_id != actor.user_id:
        raise NotFound("dossier not found")
    return dossier


def touch(dossier: Dossier) -> None:
    """Make the next flush update the row, so its version (and ETag) moves."""
    flag_modified(dossier, "form")
