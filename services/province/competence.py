"""Which agencies are competent for a procedure: its default agency, every active agency of its level
when the catalog says so (commune procedures: every commune), and the ones the catalog lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, exists, false, or_, select
from sqlalchemy.orm import Session

from services.errors import ValidationFailed
from services.models import Agency, AgencyWard, Procedure, ProcedureAgency
from services.pagination import Page
from services.text import fold
from vocab import ProcedureLevel


def _competent(procedure: Procedure) -> ColumnElement[bool]:
    listed = exists().where(ProcedureAgency.procedure_id == procedure.id, ProcedureAgency.agency_id == Agency.id)
    by_level = (Agency.level == procedure.level.value
                if procedure.by_level and procedure.level == ProcedureLevel.commune else false())
    return Agency.active.is_(True) & or_(Agency.id == procedure.agency_id, by_level, listed)


def is_competent(session: Session, procedure: Procedure, agency_id: str) -> bool:
    return session.scalar(select(Agency.id).where(Agency.id == agency_id, _competent(procedure))) is not None


def find_competent(session: Session, procedure: Procedure, code: str) -> Agency | None:
    return session.scalar(select(Agency).where(Agency.code == code, _competent(procedure)))


def agency_of_ward(session: Session, procedure: Procedure, ward_code: str) -> Agency | None:
    """The competent agency serving a ward (the applicant's commune), if any."""
    return session.scalar(select(Agency).join(AgencyWard, AgencyWard.agency_id == Agency.id)
                          .where(AgencyWard.ward_code == ward_code, _competent(procedure)))


def competent_agencies(session: Session, procedure: Procedure, *, q: str | None = None,
                       after: Sequence[Any] | None = None, limit: int = 20) -> Page[Agency]:
    """The agencies competent for a procedure, by code; `q` matches names with or without diacritics.
    A province has a few hundred agencies at most, so the match is made on the folded names here."""
    if after is not None and (len(after) != 1 or not isinstance(after[0], str)):
        raise ValidationFailed("invalid cursor", errors={"cursor": ["Not a cursor issued by this list."]})
    stmt = select(Agency).where(_competent(procedure)).order_by(Agency.code)
    if after is not None:
        stmt = stmt.where(Agency.code > after[0])
    needle = fold(q or "")
    rows = [a for a in session.scalars(stmt) if needle in fold(a.name) or a.code.startswith(q or "")]
    items = rows[:limit]
    return Page(items, (items[-1].code,) if len(rows) > limit else None)
