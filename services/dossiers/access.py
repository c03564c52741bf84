"""Finding one dossier for whoever asks: its applicant, an official of its agency, or an admin.

What a caller may not see is NotFound, never Forbidden.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, inspect, select
from sqlalchemy.orm import Session, joinedload, raiseload, selectinload
from sqlalchemy.orm.attributes import flag_modified, set_committed_value
from sqlalchemy.orm.util import identity_key

from services.actors import Actor
from services.dossiers.loading import SHOWN, hydrate, payments_column, select_shown, set_payments
from services.errors import NotFound
from services.models import Agency, Dossier, DossierBundle, Procedure
from services.province.catalog_cache import CATALOG, revision_columns
from vocab import DossierStatus, Role


def shown(*, staff: bool = False) -> tuple[Any, ...]:
    """What a dossier's response reads, for a list of dossiers: nothing is loaded after the unit of work
    (the payments' loader first: find() replaces it)."""
    return (selectinload(Dossier.payments), selectinload(Dossier.bundle).selectinload(DossierBundle.dossiers),
            joinedload(Dossier.receiving_centre).raiseload(Agency.parent),
            *((joinedload(Dossier.applicant),) if staff else ()))


def find(session: Session, dossier_id: str, *, lock: bool = False, papers: bool = False,
         staff: bool = False) -> Dossier | None:
    """One dossier with what its response reads; `papers` adds the applicant (their eID level, checked on
    submit), `staff` the applicant too (the officials' view). Unlocked reads are one statement
    (services.dossiers.loading); a locked one loads through the ORM and refreshes what an earlier read of
    this session left, so a write works on the row as locked. A locked load (or one with papers) also
    sets the procedure's required documents and form schema from the catalog cache, in the same one
    statement (services.province.catalog_cache)."""
    if not lock and not papers:
        return next(iter(hydrate(session.execute(select_shown(session, staff=staff)
                                                 .where(Dossier.id == dossier_id)).all())), None)
    stmt = _full_load(session.get_bind().dialect.name, lock=lock, applicant=staff or papers)
    earlier = session.identity_map.get(identity_key(Dossier, dossier_id))
    if earlier is not None and inspect(earlier).info.pop(SHOWN, False):
        stmt = stmt.execution_options(populate_existing=True)  # replace the read's unsessioned collections
    row = session.execute(stmt, {"dossier_id": dossier_id}).unique(lambda r: r[0].id).one_or_none()
    if row is None:
        return None
    dossier, payments, revision, bumped_at = row
    set_payments(dossier, payments)
    CATALOG.fill(session, dossier.procedure, (revision, bumped_at))
    return dossier


@cache
def _full_load(dialect: str, *, lock: bool, applicant: bool) -> Select[Any]:
    """find()'s ORM load, built once per shape (building it was about a tenth of a submit's CPU); the
    timeline and papers come joined (a dossier has few of each)."""
    stmt = select(Dossier, payments_column(dialect), *revision_columns()).where(
        Dossier.id == bindparam("dossier_id")).options(
        joinedload(Dossier.timeline), joinedload(Dossier.attachments), *shown(staff=applicant)[1:],
        raiseload(Dossier.payments),  # a JSON column of the same SELECT (viewonly: never written through)
        joinedload(Dossier.procedure).raiseload(Procedure.agency))  # the dossier's own agency is joined already
    return stmt.with_for_update(of=Dossier) if lock else stmt


def find_many(session: Session, ids: Sequence[str], *, staff: bool = False) -> dict[str, Dossier]:
    """Dossiers by id with what their responses read, in one statement (no lock)."""
    rows = session.execute(select_shown(session, staff=staff).where(Dossier.id.in_(ids))).all()
    return {d.id: d for d in hydrate(rows)}


def visible_to(dossier: Dossier, actor: Actor) -> bool:
    """Its applicant, an admin, or an official of its competent agency or of the centre that received it."""
    centre = dossier.receiving_centre.code if dossier.receiving_centre else None
    return seen_by(actor, dossier.applicant_id, dossier.status, dossier.agency.code, centre)


def seen_by(actor: Actor, applicant_id: str, status: DossierStatus, agency_code: str, centre_code: str | None) -> bool:
    return (applicant_id == actor.user_id or actor.role == Role.admin
            or (actor.role == Role.official and actor.agency_code in (agency_code, centre_code)
                and status != DossierStatus.draft))


def get_visible(session: Session, actor: Actor, dossier_id: str, *, lock: bool = False,
                staff: bool = False) -> Dossier:
    """The dossier if the actor is its applicant, an official of its agency or an admin; else 404."""
    dossier = find(session, dossier_id, lock=lock, staff=staff)
    if dossier is None or not visible_to(dossier, actor):
        raise NotFound("dossier not found")
    return dossier


def get_own(session: Session, actor: Actor, dossier_id: str, *, lock: bool = False,
            papers: bool = False) -> Dossier:
    dossier = find(session, dossier_id, lock=lock, papers=papers)
    if dossier is None or dossier.applicant_id != actor.user_id:
        raise NotFound("dossier not found")
    return dossier


def new_draft(**values: Any) -> Dossier:
    """A new draft, known to have no payments yet (so its first response reads nothing more)."""
    dossier = Dossier(status=DossierStatus.draft, **values)
    set_committed_value(dossier, "payments", [])
    set_committed_value(dossier, "receiving_centre", None)
    return dossier


def touch(dossier: Dossier) -> None:
    """Make the next flush update the row, so its version (and ETag) moves."""
    flag_modified(dossier, "form")
