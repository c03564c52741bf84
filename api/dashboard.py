"""The province's dashboard page: KPI table, on-time rate per agency, received and completed per week."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, render_template, request
from marshmallow import EXCLUDE, ValidationError

from api.context import calendar, get_session
from api.guards import current_actor
from api.portal import page_error
from api.reports_admin import figures_csv
from api.stats import csv_response, date_range
from schemas.stats import FiguresSchema, StatsArgs, WeekSchema
from services.calendar import TZ
from services.dossiers import stats
from services.dossiers.table import LABELS
from services.errors import DomainError, ValidationFailed
from services.reports import stats as report_stats

blp = Blueprint("dashboard", __name__, url_prefix="/admin")
blp.register_error_handler(DomainError, page_error)
_args = StatsArgs(unknown=EXCLUDE)  # a page's query string may carry anything; only the range counts
_figures, _weeks = FiguresSchema(), WeekSchema(many=True)
# A page with personal data (the late dossiers' applicants): never cached, never framed, own scripts only.
HEADERS = {"Cache-Control": "no-store",
           "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                                      "base-uri 'none'; form-action 'self'",
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def _query() -> tuple[date, date, str | None, dict[str, list[str]]]:
    """The range and agency asked for, or the default range with what was wrong with the request."""
    try:
        args = _args.load(request.args)
        start, end = date_range(args)
        stats.local_bounds(start, end)  # from after to, or over 3 years
        return start, end, args.get("agency_code"), {}
    except ValidationError as exc:
        errors = exc.normalized_messages()
    except ValidationFailed as exc:
        errors = exc.errors or {}
    return *date_range({}), request.args.get("agency_code") or None, errors


@blp.get("/dashboard")
def dashboard() -> Response:
    start, end, code, errors = _query()
    session, actor = get_session(), current_actor()
    report = stats.report(session, actor, start=start, end=end, agency_code=code)
    weeks = stats.weekly(session, actor, start=start, end=end, agency_code=code)
    late = stats.overdue(session, actor, calendar=calendar(), agency_code=code, limit=10)
    report_figures = report_stats.report_stats(session, actor, start=start, end=end, agency_code=code)
    chart = {"agencies": [_figures.dump(f) for f in report.items], "weeks": _weeks.dump(weeks)}
    page = render_template("admin/dashboard.html", report=report, chart=chart, late=late.items, labels=LABELS,
                           errors=errors, report_figures=report_figures, agencies=stats.scope(session, actor, None),
                           agency_code=code, actor=actor, tz=TZ, query=request.query_string.decode())
    return Response(page, status=422 if errors else 200, headers=HEADERS)


@blp.get("/dashboard.csv")
def dashboard_csv() -> Response:
    """The page's table as CSV, for the browser (the API's stats.csv takes a bearer token)."""
    start, end, code, errors = _query()
    if errors:
        raise ValidationFailed("bad range", errors=errors)
    return csv_response(stats.report(get_session(), current_actor(), start=start, end=end, agency_code=code))


@blp.get("/dashboard/reports.csv")
def reports_csv() -> Response:
    """The field-report figures of the page as CSV, for the browser."""
    start, end, code, errors = _query()
    if errors:
        raise ValidationFailed("bad range", errors=errors)
    return figures_csv(report_stats.report_stats(get_session(), current_actor(), start=start, end=end,
                                                 agency_code=code))
