"""The lifecycle of a field report as data: one table of moves, with what each checks, does and tells.

A second table on the engine of services.lifecycle (the dossiers' is services.dossiers.table).
"""

from __future__ import annotations

from services.lifecycle import STAY, transition
from vocab import ActorKind
from vocab import ReportStatus as S

OPEN = frozenset({S.new, S.accepted, S.in_progress, S.reopened})
CLOSED = frozenset({S.resolved, S.rejected})
REOPEN_DAYS = 14  # calendar days after `resolved` during which the reporter may reopen
RECENT_DAYS = 30  # resolved reports stay on the public map this long

LABELS: dict[str, tuple[str, str]] = {
    S.new: ("Mới tiếp nhận", "New"),
    S.accepted: ("Đã tiếp nhận xử lý", "Accepted"),
    S.in_progress: ("Đang xử lý", "In progress"),
    S.resolved: ("Đã xử lý xong", "Resolved"),
    S.rejected: ("Không xử lý", "Rejected"),
    S.reopened: ("Mở lại", "Reopened"),
}

CITIZEN, OFFICIAL = ActorKind.citizen, ActorKind.official
# Audiences (services.reports.lifecycle resolves them): the reporter and followers; the agency's officials.
PEOPLE, OFFICIALS = "people", "officials"


def _tell(kind: str) -> tuple[tuple[str, str], ...]:
    return ((PEOPLE, f"report.{kind}"),)


TABLE = (
    transition("accept", {S.new, S.reopened}, S.accepted, OFFICIAL, tells=_tell("accepted")),
    # To the agency that should handle it; the deadline stays.
    transition("transfer", OPEN - {S.in_progress}, STAY, OFFICIAL, inputs=("agency_code",), effect="transfer",
               tells=(*_tell("transferred"), (OFFICIALS, "staff.report_transferred"))),
    transition("start", {S.accepted, S.reopened}, S.in_progress, OFFICIAL, tells=_tell("in_progress")),
    transition("resolve", {S.accepted, S.in_progress, S.reopened}, S.resolved, OFFICIAL, inputs=("note",),
               effect="resolve", tells=_tell("resolved")),
    transition("reject", OPEN, S.rejected, OFFICIAL, inputs=("note",), effect="reject", tells=_tell("rejected")),
    # The reporter says it is not fixed: back into the queue with the reason and a new deadline.
    transition("reopen", {S.resolved}, S.reopened, CITIZEN, inputs=("reason",), requires=("reopen_window",),
               effect="reopen", tells=(*_tell("reopened"), (OFFICIALS, "staff.report_reopened"))),
    transition("rate", {S.resolved}, STAY, CITIZEN, requires=("not_rated",), effect="rate", listed=False),
)

# What the officials' actions endpoint takes.
OFFICIAL_ACTIONS = tuple(t.action for t in TABLE if t.actor == OFFICIAL)


def label(status: str, lang: str) -> str:
    vi, en = LABELS[status]
    return en if lang == "en" else vi
