"""The one-stop lifecycle as data: one table of (action, from, to, who, requirements).

The API's `allowed_actions`, the checks in services.dossiers and the tests all read TRANSITIONS.
"""

from __future__ import annotations

from dataclasses import dataclass

STATUSES = ("draft", "submitted", "received", "in_progress", "supplement_requested", "approved", "rejected",
            "completed", "withdrawn")
FINAL = frozenset({"rejected", "completed", "withdrawn"})
# Statuses in which the statutory clock runs (supplement_requested stops it; drafts have none).
CLOCK_RUNNING = frozenset({"received", "in_progress", "approved"})

LABELS: dict[str, tuple[str, str]] = {
    "draft": ("Hồ sơ nháp", "Draft"),
    "submitted": ("Chờ tiếp nhận", "Awaiting receipt"),
    "received": ("Đã tiếp nhận", "Received"),
    "in_progress": ("Đang xử lý", "In progress"),
    "supplement_requested": ("Yêu cầu bổ sung", "Supplement requested"),
    "approved": ("Đã có kết quả", "Result ready"),
    "rejected": ("Từ chối", "Rejected"),
    "completed": ("Đã trả kết quả", "Result returned"),
    "withdrawn": ("Đã rút hồ sơ", "Withdrawn"),
}

# The national portal's status numbers (DOMAIN.md), so a later sync is a translation.
NATIONAL_STATUS = {"submitted": 1, "received": 2, "in_progress": 4, "supplement_requested": 5, "withdrawn": 7,
                   "rejected": 3, "approved": 9, "completed": 10}

CITIZEN, OFFICIAL, SYSTEM = "citizen", "official", "system"
STAY = "="  # the action records something without changing the status
RESUME = "<"  # back to the status the dossier had before the supplement request


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    actor: str  # CITIZEN: the applicant; OFFICIAL: an official of the dossier's agency, or an admin
    # Inputs the caller must give (note, reason, new_due_at) and states that must hold (the rest).
    requires: tuple[str, ...] = ()


def _t(action: str, sources: set[str] | frozenset[str], target: str, actor: str, *requires: str) -> Transition:
    return Transition(action, frozenset(sources), target, actor, requires)


TRANSITIONS: tuple[Transition, ...] = (
    _t("update", {"draft", "supplement_requested"}, STAY, CITIZEN),
    _t("attach", {"draft", "supplement_requested"}, STAY, CITIZEN),
    _t("delete", {"draft"}, STAY, CITIZEN),
    _t("submit", {"draft"}, "submitted", CITIZEN, "form_valid", "documents_complete", "eid_level"),
    _t("withdraw", {"submitted"}, "withdrawn", CITIZEN),
    _t("resubmit", {"supplement_requested"}, RESUME, CITIZEN, "form_valid", "documents_complete"),
    _t("rate", FINAL, STAY, CITIZEN, "not_rated"),
    _t("receive", {"submitted"}, "received", OFFICIAL, "predecessor_completed"),
    _t("start_processing", {"received"}, "in_progress", OFFICIAL),
    _t("request_supplement", {"submitted", "received", "in_progress"}, "supplement_requested", OFFICIAL, "note"),
    _t("approve", {"in_progress"}, "approved", OFFICIAL),
    _t("reject", {"submitted", "received", "in_progress"}, "rejected", OFFICIAL, "reason"),
    _t("return_result", {"approved"}, "completed", OFFICIAL, "fee_paid"),
    _t("apologize", CLOCK_RUNNING, STAY, OFFICIAL, "overdue", "reason", "new_due_at"),
    _t("upload_result", {"in_progress", "approved"}, STAY, OFFICIAL),
    # The gateway confirmed the fee (an IPN); recorded even on a closed dossier: the money moved.
    _t("record_payment", set(STATUSES) - {"draft"}, STAY, SYSTEM),
)
BY_ACTION = {t.action: t for t in TRANSITIONS}
OFFICIAL_ACTIONS = tuple(t.action for t in TRANSITIONS if t.actor == OFFICIAL and t.action != "upload_result")
# Inputs, checked when the action is called; the others are states, checked for allowed_actions too.
INPUTS = frozenset({"note", "reason", "new_due_at"})


def label(status: str, lang: str) -> str:
    vi, en = LABELS[status]
    return en if lang == "en" else vi


def target_of(transition: Transition, status: str, resume_status: str | None) -> str:
    if transition.target == STAY:
        return status
    if transition.target == RESUME:
        return resume_status or "submitted"
    return transition.target
