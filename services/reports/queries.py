"""Reading reports: one report for whoever asks, the reporter's list, the agency queue and the possible
duplicates near a point (the public map is services.reports.pins).

The queue is keyset-paginated on (agency, due_at, id) indexes; the duplicate search reads the grid-cell
index (services.reports.geo) and checks the exact distance on what it returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from services.actors import Actor
from services.clock import clock
from services.errors import NotFound
from services.models import Report, ReportFollower
from services.pagination import Page, keyset_page
from services.province.catalog import agency_scope
from services.reports import geo
from services.reports.categories import find_category
from services.reports.table import OPEN
from vocab import Role

DUPLICATE_RADIUS_M = 50.0


def find(session: Session, report_id: str, *, lock: bool = False) -> Report | None:
    stmt = select(Report).where(Report.id == report_id)
    if lock:
        stmt = stmt.with_for_update(of=Report)
    return session.scalars(stmt).unique().one_or_none()


def is_staff_of(report: Report, actor: Actor) -> bool:
    return actor.role == Role.admin or (actor.role == Role.official and actor.agency_code == report.agency.code)


def get_report(session: Session, report_id: str, *, lock: bool = False) -> Report:
    report = find(session, report_id, lock=lock)
    if report is None:
        raise NotFound("report not found")
    return report


def get_own(session: Session, actor: Actor, report_id: str, *, lock: bool = False) -> Report:
    report = find(session, report_id, lock=lock)
    if report is None or report.reporter_id != actor.user_id:
        raise NotFound("report not found")
    return report


def get_handled(session: Session, actor: Actor, report_id: str, *, lock: bool = False) -> Report:
    """A report of the official's agency (any, for an admin); else 404."""
    report = find(session, report_id, lock=lock)
    if report is None or not is_staff_of(report, actor):
        raise NotFound("report not found")
    return report


def is_following(session: Session, user_id: str, report_id: str) -> bool:
    return session.get(ReportFollower, (report_id, user_id)) is not None


def list_own(session: Session, actor: Actor, *, after: Sequence[Any] | None = None, limit: int = 20) -> Page[Report]:
    """The caller's reports, newest first."""
    stmt = select(Report).where(Report.reporter_id == actor.user_id)
    return keyset_page(session, stmt, [Report.created_at, Report.id], lambda r: (r.created_at.isoformat(), r.id),
                       after=after, limit=limit, descending=True)


def _category_id(session: Session, code: str) -> str:
    """A filter by category: an unknown code matches nothing (a list, not an error)."""
    category = find_category(session, code)
    return category.id if category is not None else ""


QUEUE_KEY = [Report.due_at, Report.id]


def queue(session: Session, actor: Actor, *, status: str | None = None, overdue: bool | None = None,
          category_code: str | None = None, agency_code: str | None = None, after: Sequence[Any] | None = None,
          limit: int = 20) -> Page[Report]:
    """An agency's reports (every agency's for an admin naming none), oldest due first."""
    stmt = select(Report)
    if (agency := agency_scope(session, actor, agency_code)) is not None:
        stmt = stmt.where(Report.agency_id == agency.id)
    if status:
        stmt = stmt.where(Report.status == status)
    now = clock.now()
    if overdue is True:
        stmt = stmt.where(Report.due_at < now, Report.status.in_(OPEN))
    elif overdue is False:
        stmt = stmt.where(or_(Report.due_at >= now, Report.status.not_in(OPEN)))
    if category_code:
        stmt = stmt.where(Report.category_id == _category_id(session, category_code))
    return keyset_page(session, stmt, QUEUE_KEY, lambda r: (r.due_at.isoformat(), r.id), after=after, limit=limit)


def _in_cells(ranges: list[tuple[int, int]]) -> Any:
    return or_(*(Report.cell.between(low, high) for low, high in ranges))


def nearby(session: Session, category_code: str, lat: float, lon: float,
           radius_m: float = DUPLICATE_RADIUS_M) -> list[tuple[Report, float]]:
    """Open reports of the category within `radius_m`: possible duplicates, nearest first."""
    category_id = _category_id(session, category_code)
    south, west, north, east = geo.around(lat, lon, radius_m)
    stmt = select(Report).where(
        Report.category_id == category_id, Report.status.in_(OPEN),
        _in_cells(geo.cell_ranges(south, west, north, east)),
        Report.lat.between(south, north), Report.lon.between(west, east))
    found = [(r, geo.distance_m((lat, lon), (r.lat, r.lon))) for r in session.scalars(stmt).unique()]
    return sorted(((r, d) for r, d in found if d <= radius_m), key=lambda pair: pair[1])


def is_overdue(report: Report, now: datetime) -> bool:
    return report.status in OPEN and report.due_at < now
