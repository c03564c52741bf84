"""The province's figures for officials (their agency) and admins (every agency), and the overdue list."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from flask import Response

from api import presenters
from api.blueprint import Blueprint
from api.context import calendar, get_session
from api.guards import current_actor
from api.i18n import current_language
from api.openapi import documented
from schemas.common import encode_cursor
from schemas.stats import (
    COLUMNS,
    FiguresSchema,
    OverdueArgs,
    OverduePageSchema,
    StatsArgs,
    StatsSchema,
    WeeklySchema,
)
from services.calendar import TZ
from services.clock import clock
from services.dossiers import stats

blp = Blueprint("admin_stats", __name__, url_prefix="/api/v1/admin", description="Statistics and late dossiers")
_figures = FiguresSchema()


def date_range(args: dict[str, Any]) -> tuple[date, date]:
    """The range asked for; by default the 1st of this month to today (local)."""
    today = clock.now().astimezone(TZ).date()
    return args.get("from_") or today.replace(day=1), args.get("to") or today


def _report(args: dict[str, Any]) -> stats.Report:
    start, end = date_range(args)
    return stats.report(get_session(), current_actor(), start=start, end=end, agency_code=args.get("agency_code"),
                        group_by=args.get("group_by", "agency"))


def csv_table(columns: Sequence[str], rows: Iterable[dict[str, Any]], name: str) -> Response:
    """A table as a CSV download (UTF-8 with a BOM: Excel reads Vietnamese names only with one)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row[c] is None else row[c] for c in columns])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def csv_response(result: stats.Report) -> Response:
    """The statistics table as CSV, named after its range."""
    return csv_table(COLUMNS, (_figures.dump(f) for f in [*result.items, result.total]),
                     f"thong-ke-{result.start:%Y%m%d}-{result.end:%Y%m%d}.csv")


@blp.get("/stats")
@blp.arguments(StatsArgs, location="query")
@blp.response(200, StatsSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_stats(args: dict[str, Any]) -> stats.Report:
    """Received, completed (on time, late), overdue, rejected, withdrawn and the rates, per agency."""
    return _report(args)


@blp.get("/stats.csv")
@blp.arguments(StatsArgs, location="query")
@blp.response(200, description="the same table as CSV (UTF-8 with BOM, for Excel)", content_type="text/csv")
@documented(200, content={"text/csv": {"schema": {"type": "string"}}})
@blp.alt_response(404, response="NOT_FOUND")
def get_stats_csv(args: dict[str, Any]) -> Response:
    """The statistics table as a spreadsheet."""
    return csv_response(_report(args))


@blp.get("/stats/weekly")
@blp.arguments(StatsArgs, location="query")
@blp.response(200, WeeklySchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_weekly(args: dict[str, Any]) -> dict[str, Any]:
    """Dossiers received and completed per week (Monday to Sunday, local), same scope as the figures."""
    start, end = date_range(args)
    items = stats.weekly(get_session(), current_actor(), start=start, end=end, agency_code=args.get("agency_code"))
    return {"start": start, "end": end, "items": items}


@blp.get("/overdue")
@blp.arguments(OverdueArgs, location="query", as_kwargs=True)
@blp.response(200, OverduePageSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_overdue(limit: int, cursor: list[Any] | None = None, agency_code: str | None = None) -> dict[str, Any]:
    """Open dossiers past their due date, the latest first."""
    page = stats.overdue(get_session(), current_actor(), calendar=calendar(), agency_code=agency_code,
                         after=cursor, limit=limit)
    lang = current_language()
    return {"items": [{"id": d.id, "code": d.code, "procedure_name": presenters.procedure_name(d, lang),
                       "agency_code": d.agency.code,
                       "status": d.status, "applicant_name": u.full_name if u else None, "due_at": d.due_at,
                       "days_late": days, "stuck_shipment": shipment} for d, days, u, shipment in page.items],
            "next_cursor": encode_cursor(page.next_key)}
