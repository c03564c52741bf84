"""Figures of field reports per agency and category: received, resolved on time and late, open overdue,
reopened, rejected, and satisfaction; each counted by the time of its own event within the range."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.actors import Actor
from services.clock import clock
from services.dossiers.stats import local_bounds, scope
from services.models import Agency, Report, ReportCategory, ReportEntry
from services.province.catalog import agency_scope
from services.reports.table import OPEN
from vocab import ReportStatus

COLUMNS = ("agency_code", "agency_name", "category_code", "category_name", "received", "resolved",
           "resolved_on_time", "resolved_late", "open_overdue", "reopened", "rejected", "on_time_rate",
           "rated", "satisfaction_avg")


@dataclass
class ReportFigures:
    agency_code: str
    agency_name: str
    category_code: str
    category_name: str
    received: int = 0
    resolved_on_time: int = 0
    resolved_late: int = 0
    open_overdue: int = 0
    reopened: int = 0
    rejected: int = 0
    rated: int = 0
    score_sum: int = 0

    @property
    def resolved(self) -> int:
        return self.resolved_on_time + self.resolved_late

    @property
    def on_time_rate(self) -> float | None:
        return round(self.resolved_on_time / self.resolved, 4) if self.resolved else None

    @property
    def satisfaction_avg(self) -> float | None:
        return round(self.score_sum / self.rated, 2) if self.rated else None

    def add(self, other: ReportFigures) -> None:
        for name in ("received", "resolved_on_time", "resolved_late", "open_overdue", "reopened", "rejected",
                     "rated", "score_sum"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class ReportStats:
    start: date
    end: date
    items: list[ReportFigures] = field(default_factory=list)
    total: ReportFigures = field(default_factory=lambda: ReportFigures("", "Tổng cộng", "", ""))


def report_stats(session: Session, actor: Actor, *, start: date, end: date,
                 agency_code: str | None = None) -> ReportStats:
    """One row per (agency, category) with anything to count, in the caller's scope, and the total."""
    low, high = local_bounds(start, end)
    one = agency_scope(session, actor, agency_code)
    rows: dict[tuple[str, str], ReportFigures] = {}
    agencies = {a.id: a for a in ([one] if one else scope(session, actor, None))}
    categories = {c.id: c for c in session.scalars(select(ReportCategory))}

    def row(agency_id: str, category_id: str) -> ReportFigures:
        key = (agency_id, category_id)
        if key not in rows:
            a, c = agencies.get(agency_id) or session.get_one(Agency, agency_id), categories[category_id]
            rows[key] = ReportFigures(a.code, a.name, c.code, c.name)
        return rows[key]

    def tally(columns: tuple[Any, ...], *where: Any, into: Callable[[ReportFigures, Any], None]) -> None:
        stmt = select(Report.agency_id, Report.category_id, *columns).where(*where)
        if one is not None:
            stmt = stmt.where(Report.agency_id == one.id)
        for agency_id, category_id, *values in session.execute(stmt.group_by(Report.agency_id, Report.category_id)):
            into(row(agency_id, category_id), values)

    def put(name: str) -> Callable[[ReportFigures, Any], None]:
        return lambda f, v: setattr(f, name, int(v[0] or 0))

    count = (func.count(),)
    tally(count, Report.created_at >= low, Report.created_at < high, into=put("received"))
    resolved = (Report.status == ReportStatus.resolved, Report.resolved_at >= low, Report.resolved_at < high)
    tally(count, *resolved, Report.resolved_at <= Report.due_at, into=put("resolved_on_time"))
    tally(count, *resolved, Report.resolved_at > Report.due_at, into=put("resolved_late"))
    tally(count, Report.status.in_(OPEN), Report.due_at < clock.now(), into=put("open_overdue"))
    tally(count, Report.status == ReportStatus.rejected, Report.closed_at >= low, Report.closed_at < high,
          into=put("rejected"))

    def ratings(f: ReportFigures, values: Any) -> None:
        f.rated, f.score_sum = int(values[0] or 0), int(values[1] or 0)

    tally((func.count(), func.sum(Report.rating_score)), Report.rated_at >= low, Report.rated_at < high,
          into=ratings)
    # Reopenings counted as events (a report reopened twice counts twice), by when they happened.
    reopen_stmt = (select(Report.agency_id, Report.category_id, func.count()).join(ReportEntry,
                   ReportEntry.report_id == Report.id)
                   .where(ReportEntry.action == "reopen", ReportEntry.at >= low, ReportEntry.at < high))
    if one is not None:
        reopen_stmt = reopen_stmt.where(Report.agency_id == one.id)
    for agency_id, category_id, n in session.execute(reopen_stmt.group_by(Report.agency_id, Report.category_id)):
        row(agency_id, category_id).reopened = int(n)

    result = ReportStats(start, end)
    result.items = sorted((f for (agency_id, _), f in rows.items() if agency_id in agencies),
                          key=lambda f: (f.agency_code, f.category_code))
    for f in result.items:
        result.total.add(f)
    return result
