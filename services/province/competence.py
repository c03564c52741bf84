"""Which agencies are competent for a procedure: its default agency, every active agency of its level
when the catalog says so (commune procedures: every commune), and the ones the catalog lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, exists, false, or_, select
from sqlalchemy.orm import Session

from services.models import Agency, AgencyWard, Procedure, ProcedureAgency
from services.pagination import Page, after_key, check_limit
from services.province.catalog import matching
from vocab import ProcedureLevel


def _competent(procedure: Procedure) -> ColumnElement[bool]:
    listed = exists().where(ProcedureAgency.procedure_id == procedure.id, ProcedureAgency.agency_id == Agency.id)
    by_level = (Agency.level == procedure.level.value
                if procedure.by_level and procedure.level == ProcedureLevel.commune else false())
    return Agency.active.is_(True) & or_(Agency.id == procedure.agency_id, by_level, listed)


def find_competent(session: Session, procedure: Procedure, code: str) -> Agency | None:
    return session.scalar(select(Agency).where(Agency.code == code, _competent(procedure)))


def agency_of_ward(session: Session, procedure: Procedure, ward_code: str) -> Agency | None:
    """The competent agency serving a ward (the applicant's commune), if any."""
    return session.scalar(select(Agency).join(AgencyWard, AgencyWard.agency_id == Agency.id)
                          .where(AgencyWard.ward_code == ward_code, _competent(procedure)))


def competent_agencies(session: Session, procedure: Procedure, *, q: str | None = None,
                       after: Sequence[Any] | None = None, limit: int = 20) -> Page[Agency]:
    """The agencies competent for a procedure, by code; `q` matches names with or without diacritics."""
    check_limit(limit)
    stmt = select(Agency).where(_competent(procedure)).order_by(Agency.code)
    if after is not None:
        stmt = stmt.where(after_key([Agency.code], after))
    rows = matching(session.scalars(stmt), q)
    items = rows[:limit]
    return Page(items, (items[-1].code,) if len(rows) > limit else None)
