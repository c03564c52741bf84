"""The public catalog: agencies, procedures and interconnected groups, read-only for citizens."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services.actors import Actor
from services.db import utcnow
from services.errors import NotFound
from services.models import Agency, AgencyWard, CatalogRevision, Procedure, ProcedureGroup
from services.pagination import Page, keyset_page
from services.text import fold


def catalog_revision(session: Session) -> int:
    """The catalog's change counter; every catalog ETag is derived from it."""
    return session.scalar(select(CatalogRevision.revision).where(CatalogRevision.id == 1)) or 0


def bump_revision(session: Session) -> int:
    """Mark the catalog changed (call inside the transaction that changed it)."""
    row = session.get(CatalogRevision, 1, with_for_update=True)
    if row is None:
        row = CatalogRevision(id=1, revision=1)
        session.add(row)
    else:
        row.revision += 1
        row.changed_at = utcnow()
    session.flush()
    return row.revision


def list_agencies(session: Session, *, level: str | None = None, q: str | None = None) -> list[Agency]:
    """Active agencies by code (a province has a few hundred); `q` matches names without diacritics too."""
    stmt = select(Agency).where(Agency.active.is_(True)).options(selectinload(Agency.wards)).order_by(Agency.code)
    if level:
        stmt = stmt.where(Agency.level == level)
    return matching(session.scalars(stmt), q)


def matching(agencies: Iterable[Agency], q: str | None) -> list[Agency]:
    """Agencies whose name holds `q` (diacritics optional) or whose code starts with it. A province has
    a few hundred agencies at most, so the match is made on the folded names here, not in SQL."""
    needle = fold(q or "")
    return [a for a in agencies if needle in fold(a.name) or a.code.startswith(q or "")]


def serving(agency: Agency, ward_codes: list[str]) -> list[AgencyWard]:
    """The agency's ward rows for these codes, reusing the rows it has (a ward row is keyed by its code)."""
    current = {w.ward_code: w for w in agency.wards}
    return [current.get(code) or AgencyWard(ward_code=code) for code in sorted(ward_codes)]


def find_agency(session: Session, code: str) -> Agency | None:
    return session.scalar(select(Agency).where(Agency.code == code))


def get_agency(session: Session, code: str) -> Agency:
    agency = find_agency(session, code)
    if agency is None:
        raise NotFound(f"agency {code} not found")
    return agency


def agency_scope(session: Session, actor: Actor, agency_code: str | None) -> Agency | None:
    """The one agency a staff member's request is limited to, or None for every agency (an admin
    naming none). An official may name only their own agency; anything else is 404."""
    if actor.role == "admin":
        return get_agency(session, agency_code) if agency_code else None
    if actor.role != "official" or not actor.agency_code or agency_code not in (None, actor.agency_code):
        raise NotFound("agency not found")
    return get_agency(session, actor.agency_code)


def list_procedures(
    session: Session,
    *,
    q: str | None = None,
    agency_code: str | None = None,
    field: str | None = None,
    after: Sequence[Any] | None = None,
    limit: int = 20,
) -> Page[Procedure]:
    """Active procedures ordered by code; `q` matches the name with or without diacritics."""
    stmt = select(Procedure).where(Procedure.active.is_(True))
    if q and (needle := fold(q)):
        stmt = stmt.where(Procedure.search_name.contains(needle, autoescape=True))  # % and _ taken literally
    if agency_code:
        stmt = stmt.join(Procedure.agency).where(Agency.code == agency_code)
    if field:
        stmt = stmt.where(Procedure.field == field)
    return keyset_page(session, stmt, [Procedure.code], lambda p: (p.code,), after=after, limit=limit)


def get_procedure(session: Session, code: str, *, include_inactive: bool = False) -> Procedure:
    stmt = select(Procedure).where(Procedure.code == code).options(selectinload(Procedure.required_documents))
    procedure = session.scalar(stmt)
    if procedure is None or not (procedure.active or include_inactive):
        raise NotFound(f"procedure {code} not found")
    return procedure


def list_groups(session: Session) -> list[ProcedureGroup]:
    return list(
        session.scalars(select(ProcedureGroup).where(ProcedureGroup.active.is_(True)).order_by(ProcedureGroup.code))
    )
