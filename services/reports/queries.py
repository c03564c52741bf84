"""Reading reports: one report for whoever asks, the reporter's list, the agency queue, the public map
and the possible duplicates near a point.

The queue is keyset-paginated on (agency, due_at, id) indexes; the map and the duplicate search read
the grid-cell index (services.reports.geo) and check the exact box or distance on what it returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from services.actors import Actor
from services.clock import clock
from services.errors import NotFound, ValidationFailed
from services.models import Agency, Report, ReportCategory, ReportFollower, ReportPhoto
from services.pagination import Page, keyset_page
from services.province.catalog import agency_scope
from services.reports import geo
from services.reports.categories import find_category
from services.reports.table import OPEN, RECENT_DAYS
from vocab import ReportStatus, Role

DUPLICATE_RADIUS_M = 50.0
MAX_BOX_DEGREES = 0.5  # about 55 km: a map wider than a city is refused, not scanned
MAP_LIMIT = 500


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


def follower_counts(session: Session, ids: Sequence[str]) -> dict[str, int]:
    if not ids:
        return {}
    return dict(session.execute(select(ReportFollower.report_id, func.count()).where(
        ReportFollower.report_id.in_(list(ids))).group_by(ReportFollower.report_id)).tuples().all())


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


@dataclass(frozen=True)
class Box:
    south: float
    west: float
    north: float
    east: float

    @classmethod
    def parse(cls, text: str) -> Box:
        """`west,south,east,north` (the order of GeoJSON and OpenStreetMap), in degrees."""
        try:
            west, south, east, north = (float(v) for v in text.split(","))
        except ValueError as exc:
            raise ValidationFailed("bad bbox", errors={"bbox": ["west,south,east,north in degrees."]}) from exc
        if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
            raise ValidationFailed("bad bbox", errors={"bbox": ["west < east and south < north, in range."]})
        if north - south > MAX_BOX_DEGREES or east - west > MAX_BOX_DEGREES:
            raise ValidationFailed("bbox too large", errors={"bbox": [f"At most {MAX_BOX_DEGREES}° a side."]})
        return cls(south, west, north, east)


@dataclass(frozen=True)
class Pin:
    """A report on the public map, read as plain columns (no ORM objects: a city box holds hundreds)."""

    id: str
    code: str
    category_code: str
    category_name: str
    category_name_en: str | None
    status: str
    description: str
    lat: float
    lon: float
    address: str | None
    agency_code: str
    agency_name: str
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    resolution_note: str | None
    photos: list[tuple[str, str, str]]  # (id, kind, content_type)
    followers: int


def public_map(session: Session, box: Box, *, category_code: str | None = None,
               limit: int = MAP_LIMIT) -> list[Pin]:
    """Open reports and those resolved in the last RECENT_DAYS days inside the box, newest first."""
    since = clock.now() - timedelta(days=RECENT_DAYS)
    stmt = (select(Report.id, Report.code, ReportCategory.code, ReportCategory.name, ReportCategory.name_en,
                   Report.status, Report.description, Report.lat, Report.lon, Report.address, Agency.code,
                   Agency.name, Report.created_at, Report.status_changed_at, Report.resolved_at,
                   Report.resolution_note)
            .join(ReportCategory, ReportCategory.id == Report.category_id).join(Agency, Agency.id == Report.agency_id)
            .where(_in_cells(geo.cell_ranges(box.south, box.west, box.north, box.east)),
                   Report.lat.between(box.south, box.north), Report.lon.between(box.west, box.east),
                   or_(Report.status.in_(OPEN), and_(Report.status == ReportStatus.resolved,
                                                     Report.resolved_at >= since))))
    if category_code:
        stmt = stmt.where(Report.category_id == _category_id(session, category_code))
    rows = session.execute(stmt.order_by(Report.created_at.desc(), Report.id).limit(limit)).all()
    ids = [row[0] for row in rows]
    photos: dict[str, list[tuple[str, str, str]]] = {}
    if ids:
        for report_id, photo_id, kind, content_type in session.execute(
                select(ReportPhoto.report_id, ReportPhoto.id, ReportPhoto.kind, ReportPhoto.content_type)
                .where(ReportPhoto.report_id.in_(ids)).order_by(ReportPhoto.created_at)):
            photos.setdefault(report_id, []).append((photo_id, str(kind), content_type))
    counts = follower_counts(session, ids)
    names = [f.name for f in fields(Pin)][:-2]  # the selected columns, in order
    return [Pin(**dict(zip(names, row, strict=True)), photos=photos.get(row[0], []), followers=counts.get(row[0], 0))
            for row in rows]


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
