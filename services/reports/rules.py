"""The named rules the report table refers to: requirements, inputs and effects."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from services.calendar import TZ
from services.counters import next_number
from services.errors import Conflict, DomainError
from services.lifecycle import Effect, InputCheck, Move, Requirement
from services.models import Report, ReportCategory, ReportCodeCounter
from services.province.catalog import find_agency
from services.reports.table import REOPEN_DAYS

ReportMove = Move[Report]


def sla_days(category: ReportCategory, urgent: bool) -> int:
    return 1 if urgent else category.sla_days


def next_code(session: Any, now: Any) -> str:
    """PA-{yyMMdd}-{NNNNN}: gap-free per local day (services.counters)."""
    day: date = now.astimezone(TZ).date()
    return f"PA-{day:%y%m%d}-{next_number(session, ReportCodeCounter, day=day):05d}"


def _reopen_window(move: ReportMove) -> DomainError | None:
    resolved = move.subject.resolved_at
    if resolved is None or move.now - resolved > timedelta(days=REOPEN_DAYS):
        return Conflict(f"a report can be reopened within {REOPEN_DAYS} days of being resolved")
    return None


def _not_rated(move: ReportMove) -> DomainError | None:
    return Conflict("this report is already rated") if move.subject.rated_at is not None else None


REQUIREMENTS: dict[str, Requirement[Report]] = {
    "reopen_window": Requirement(_reopen_window),
    "not_rated": Requirement(_not_rated),
}


def _required(move: Move[Any], value: Any) -> list[str]:
    return [] if isinstance(value, str) and value.strip() else [f"Required for {move.action}."]


def _transfer_to(move: ReportMove, value: str | None) -> list[str]:
    if not value:
        return [f"Required for {move.action}."]
    if value == move.subject.agency.code:
        return ["The report is already at this agency."]
    agency = find_agency(move.session, value)
    if agency is None or not agency.active:
        return ["No such agency."]
    move.extra["agency"] = agency
    return []


INPUTS: dict[str, InputCheck] = {"note": _required, "reason": _required, "agency_code": _transfer_to}


def _transfer(move: ReportMove) -> None:
    r, agency = move.subject, move.extra["agency"]
    r.agency_id, r.agency = agency.id, agency


def _resolve(move: ReportMove) -> None:
    r = move.subject
    r.resolved_at = r.closed_at = move.now
    r.resolution_note = move.inputs["note"]


def _reject(move: ReportMove) -> None:
    r = move.subject
    r.closed_at = move.now
    r.resolution_note = move.inputs["note"]


def _reopen(move: ReportMove) -> None:
    r = move.subject
    r.reopen_count += 1
    r.resolved_at = r.closed_at = None
    r.due_at = move.cal.due_at(move.now, sla_days(r.category, r.urgent))


def _rate(move: ReportMove) -> None:
    r = move.subject
    r.rating_score, r.rating_comment, r.rated_at = move.inputs["score"], move.inputs.get("comment"), move.now


EFFECTS: dict[str, Effect] = {"transfer": _transfer, "resolve": _resolve, "reject": _reject, "reopen": _reopen,
                              "rate": _rate}
