"""Field reports, the agency's side: the queue, actions, the "after" photo, categories and the figures."""

from __future__ import annotations

import re
from typing import Any

from flask import Response

from api.blueprint import Blueprint
from api.context import calendar, get_session, storage
from api.guards import current_actor
from api.http import IF_MATCH_HEADER, expected_version
from api.openapi import documented
from api.reports import category_view, full_view, max_upload_bytes, photo_view, reply
from api.stats import csv_table, date_range
from schemas.common import encode_cursor
from schemas.reports import (
    CategoryListSchema,
    CategorySchema,
    CategoryUpdateSchema,
    PhotoSchema,
    PhotoUploadSchema,
    QueueArgs,
    ReportActionSchema,
    ReportPageSchema,
    ReportSchema,
    ReportStatsArgs,
    ReportStatsSchema,
)
from services.errors import ValidationFailed
from services.reports import categories, pins, queries, staff
from services.reports import stats as report_stats
from services.reports.stats import COLUMNS as STATS_COLUMNS

admin_blp = Blueprint("admin_reports", __name__, url_prefix="/api/v1/admin/reports",
                      description="The agency's field reports")
stats_blp = Blueprint("admin_report_stats", __name__, url_prefix="/api/v1/admin/stats",
                      description="Figures of field reports per agency and category")
admin_categories_blp = Blueprint("admin_report_categories", __name__, url_prefix="/api/v1/admin/report-categories",
                                 description="Report categories (admin)")


# --- categories ----------------------------------------------------------------------------------------


@admin_categories_blp.get("")
@admin_categories_blp.response(200, CategoryListSchema)
def admin_list_categories() -> dict[str, Any]:
    """Every category, inactive ones included."""
    return {"items": [category_view(c) for c in categories.list_categories(get_session(), include_inactive=True)]}


@admin_categories_blp.put("/<string:code>")
@admin_categories_blp.arguments(CategoryUpdateSchema)
@admin_categories_blp.response(200, CategorySchema)
@admin_categories_blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def put_category(body: dict[str, Any], code: str) -> dict[str, Any]:
    """Change a category (its agency, working days, photo rule, active), or create one."""
    if not re.fullmatch(r"[a-z0-9_]{1,40}", code):
        raise ValidationFailed("bad category code", errors={"code": ["Lowercase letters, digits and _."]})
    return category_view(categories.update_category(get_session(), current_actor(), code, changes=body))


# --- the agency's side -----------------------------------------------------------------------------------


@admin_blp.get("")
@admin_blp.arguments(QueueArgs, location="query", as_kwargs=True)
@admin_blp.response(200, ReportPageSchema)
@admin_blp.alt_response(404, response="NOT_FOUND")
@admin_blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def queue(limit: int, cursor: list[Any] | None = None, status: str | None = None, overdue: bool | None = None,
          category_code: str | None = None, agency_code: str | None = None) -> dict[str, Any]:
    """The agency's reports (every agency's for an admin), oldest due first."""
    actor, session = current_actor(), get_session()
    page = queries.queue(session, actor, status=status, overdue=overdue, category_code=category_code,
                         agency_code=agency_code, after=cursor, limit=limit)
    counts = pins.follower_counts(session, [r.id for r in page.items])
    return {"items": [full_view(r, actor, followers=counts.get(r.id, 0)) for r in page.items],
            "next_cursor": encode_cursor(page.next_key)}


@admin_blp.get("/<string:report_id>")
@admin_blp.response(200, ReportSchema)
@documented(200, headers=("ETag",))
@admin_blp.alt_response(404, response="NOT_FOUND")
def admin_get(report_id: str) -> Response:
    """One report of the agency."""
    return reply(queries.get_handled(get_session(), current_actor(), report_id))


@admin_blp.post("/<string:report_id>/actions")
@admin_blp.doc(parameters=[{**IF_MATCH_HEADER, "description": "the ETag of the report as last read "
                                                              "(428 when missing, 412 when stale)"}])
@admin_blp.arguments(ReportActionSchema)
@admin_blp.response(200, ReportSchema)
@documented(200, headers=("ETag",))
@admin_blp.alt_response(404, response="NOT_FOUND")
@admin_blp.alt_response(409, response="CONFLICT", description="invalid_transition")
@admin_blp.alt_response(412, response="PRECONDITION_FAILED")
@admin_blp.alt_response(428, response="PRECONDITION_REQUIRED")
def act(body: dict[str, Any], report_id: str) -> Response:
    """accept, transfer (agency_code), start, resolve (note), reject (note); send If-Match."""
    report = staff.act(get_session(), current_actor(), report_id, body["action"], expected_version=expected_version(),
                       calendar=calendar(), note=body["note"], agency_code=body["agency_code"])
    return reply(report)


@admin_blp.post("/<string:report_id>/photos")
@admin_blp.arguments(PhotoUploadSchema, location="files")
@admin_blp.response(201, PhotoSchema)
@admin_blp.alt_response(404, response="NOT_FOUND")
@admin_blp.alt_response(409, response="CONFLICT")
@admin_blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@admin_blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
def after_photo(files: dict[str, Any], report_id: str) -> dict[str, Any]:
    """The agency's "after" photo, shown with the fix."""
    session = get_session()
    added = staff.add_after_photo(session, current_actor(), report_id, stream=files["file"].stream,
                                  storage=storage(), max_bytes=max_upload_bytes())
    return photo_view(queries.get_report(session, report_id), added)


# --- figures --------------------------------------------------------------------------------------------

_figures = ReportStatsSchema()


def figures(args: dict[str, Any]) -> report_stats.ReportStats:
    start, end = date_range(args)
    return report_stats.report_stats(get_session(), current_actor(), start=start, end=end,
                                     agency_code=args.get("agency_code"))


def figures_csv(result: report_stats.ReportStats) -> Response:
    dumped = _figures.dump(result)
    return csv_table(STATS_COLUMNS, [*dumped["items"], dumped["total"]],
                     f"phan-anh-{result.start:%Y%m%d}-{result.end:%Y%m%d}.csv")


@stats_blp.get("/reports")
@stats_blp.arguments(ReportStatsArgs, location="query")
@stats_blp.response(200, ReportStatsSchema)
@stats_blp.alt_response(404, response="NOT_FOUND")
@stats_blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def get_figures(args: dict[str, Any]) -> report_stats.ReportStats:
    """Per agency and category: received, resolved on time and late, open overdue, reopened, rejected,
    satisfaction (an official: their agency's)."""
    return figures(args)


@stats_blp.get("/reports.csv")
@stats_blp.arguments(ReportStatsArgs, location="query")
@stats_blp.response(200, description="the same table as CSV (UTF-8 with BOM, for Excel)", content_type="text/csv")
@documented(200, content={"text/csv": {"schema": {"type": "string"}}})
@stats_blp.alt_response(404, response="NOT_FOUND")
@stats_blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def get_figures_csv(args: dict[str, Any]) -> Response:
    """The report figures as a spreadsheet."""
    return figures_csv(figures(args))
