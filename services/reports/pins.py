"""The public map's data: what a grid cell shows, and the cell revisions that say when that changed.

A map request asks for a box; the box is a set of grid cells (services.reports.geo). Every change that
shows on a pin (filing, any move, a photo, a follower, a category's name) gives its cell, or every
cell, a new random revision in the same transaction (`touch`, `touch_all`). A reader then checks the box's
cells in one indexed read (`revisions`) and loads again only the cells that moved (`shown_in`): app
servers keep each cell's rendered pins between requests and still never show a stale one.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from services.clock import clock
from services.db import dialect_insert
from services.errors import ValidationFailed
from services.models import Agency, Report, ReportCategory, ReportCell, ReportFollower, ReportPhoto
from services.reports import geo
from services.reports.table import OPEN, RECENT_DAYS
from vocab import ReportStatus

MAX_BOX_DEGREES = 0.5  # about 55 km: a map wider than a city is refused, not scanned


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

    def cell_ranges(self) -> list[tuple[int, int]]:
        return geo.cell_ranges(self.south, self.west, self.north, self.east)


@dataclass(frozen=True)
class Pin:
    """A report on the public map, read as plain columns (no ORM objects: a city box holds hundreds)."""

    id: str
    code: str
    cell: int
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


def shown_since() -> datetime:
    """Resolved reports stay on the map until RECENT_DAYS after their resolution."""
    return clock.now() - timedelta(days=RECENT_DAYS)


def shown_until(pin: Pin) -> datetime | None:
    """When a pin leaves the map by itself: RECENT_DAYS after its resolution (None: it stays while open)."""
    if pin.status == ReportStatus.resolved and pin.resolved_at is not None:
        return pin.resolved_at + timedelta(days=RECENT_DAYS)
    return None


# --- writes: raise a cell's revision in the transaction of the change -----------------------------------


def new_revision() -> int:
    return secrets.randbits(62)


def touch(session: Session, cells: Iterable[int]) -> None:
    """New revisions for these cells (an upsert: a cell's first report creates its row)."""
    revision = new_revision()
    rows = [{"cell": c, "revision": revision} for c in sorted(set(cells))]  # sorted: writers lock in one order
    if not rows:
        return
    stmt = dialect_insert(session)(ReportCell).values(rows)
    session.execute(stmt.on_conflict_do_update(index_elements=["cell"], set_={"revision": revision}))


def touch_all(session: Session) -> None:
    """Every cell moves: a category's name or agency shows on every pin of it."""
    session.execute(update(ReportCell).values(revision=new_revision()))


# --- reads --------------------------------------------------------------------------------------------------


def follower_counts(session: Session, ids: Iterable[str]) -> dict[str, int]:
    wanted = list(ids)
    if not wanted:
        return {}
    return dict(session.execute(select(ReportFollower.report_id, func.count()).where(
        ReportFollower.report_id.in_(wanted)).group_by(ReportFollower.report_id)).all())


def revisions(session: Session, box: Box) -> dict[int, int]:
    """The box's cells that have ever held a report, with their revisions: one read of the primary key."""
    ranges = box.cell_ranges()
    stmt = select(ReportCell.cell, ReportCell.revision).where(
        or_(*(ReportCell.cell.between(low, high) for low, high in ranges)))
    return {cell: revision for cell, revision in session.execute(stmt)}


def shown_in(session: Session, cells: Iterable[int]) -> dict[int, list[Pin]]:
    """Everything the map shows in these cells (open, or resolved in the last RECENT_DAYS days)."""
    wanted = sorted(set(cells))
    found: dict[int, list[Pin]] = {cell: [] for cell in wanted}
    if not wanted:
        return found
    stmt = (select(Report.id, Report.code, Report.cell, ReportCategory.code, ReportCategory.name,
                   ReportCategory.name_en, Report.status, Report.description, Report.lat, Report.lon,
                   Report.address, Agency.code, Agency.name, Report.created_at, Report.status_changed_at,
                   Report.resolved_at, Report.resolution_note)
            .join(ReportCategory, ReportCategory.id == Report.category_id).join(Agency, Agency.id == Report.agency_id)
            .where(Report.cell.in_(wanted),
                   or_(Report.status.in_(OPEN),
                       and_(Report.status == ReportStatus.resolved, Report.resolved_at >= shown_since()))))
    rows = session.execute(stmt).all()
    ids = [row[0] for row in rows]
    photos: dict[str, list[tuple[str, str, str]]] = {}
    counts: dict[str, int] = {}
    if ids:
        for report_id, photo_id, kind, content_type in session.execute(
                select(ReportPhoto.report_id, ReportPhoto.id, ReportPhoto.kind, ReportPhoto.content_type)
                .where(ReportPhoto.report_id.in_(ids)).order_by(ReportPhoto.created_at, ReportPhoto.id)):
            photos.setdefault(report_id, []).append((photo_id, str(kind), content_type))
        counts = follower_counts(session, ids)
    names = [f.name for f in fields(Pin)][:-2]  # the selected columns, in order
    for row in rows:
        pin = Pin(**dict(zip(names, row, strict=True)), photos=photos.get(row[0], []), followers=counts.get(row[0], 0))
        found[pin.cell].append(pin)
    return found
