"""The one-stop lifecycle of a dossier as data: one table of moves, with what each checks, does and tells.

Read by the engine (services.lifecycle), by `allowed_actions`, by every other place that asks
"may this dossier …" (payments, bundles, staff actions) and by the tests.
"""

from __future__ import annotations

from services.lifecycle import RESUME, STAY, transition
from vocab import ActorKind
from vocab import DossierStatus as S

FINAL = frozenset({S.rejected, S.completed, S.withdrawn})
# Statuses in which the statutory clock runs (supplement_requested stops it; drafts have none).
CLOCK_RUNNING = frozenset({S.received, S.in_progress, S.approved})
EDITABLE = frozenset({S.draft, S.supplement_requested})
# A fee can be paid online from submission until the result is returned.
PAYABLE = frozenset({S.submitted, S.received, S.in_progress, S.supplement_requested, S.approved})

LABELS: dict[str, tuple[str, str]] = {
    S.draft: ("Hồ sơ nháp", "Draft"),
    S.submitted: ("Chờ tiếp nhận", "Awaiting receipt"),
    S.received: ("Đã tiếp nhận", "Received"),
    S.in_progress: ("Đang xử lý", "In progress"),
    S.supplement_requested: ("Yêu cầu bổ sung", "Supplement requested"),
    S.approved: ("Đã có kết quả", "Result ready"),
    S.rejected: ("Từ chối", "Rejected"),
    S.completed: ("Đã trả kết quả", "Result returned"),
    S.withdrawn: ("Đã rút hồ sơ", "Withdrawn"),
}

# The national portal's status numbers (DOMAIN.md), so a later sync is a translation.
NATIONAL_STATUS = {S.submitted: 1, S.received: 2, S.in_progress: 4, S.supplement_requested: 5, S.withdrawn: 7,
                   S.rejected: 3, S.approved: 9, S.completed: 10}

# Moves the receiving centre's officials make too, also after forwarding the dossier: the counter takes
# the fee and scans the papers brought in (Decree 118/2025).
AT_CENTRE = frozenset({"record_desk_payment", "scan"})

CITIZEN, OFFICIAL, SYSTEM = ActorKind.citizen, ActorKind.official, ActorKind.system
# Audiences (services.dossiers.lifecycle resolves them): the applicant, the agency's officials.
APPLICANT, OFFICIALS = "applicant", "officials"


def _tell_status(status: S) -> tuple[tuple[str, str], ...]:
    return ((APPLICANT, f"dossier.{status}"),)


TABLE = (
    transition("update", EDITABLE, STAY, CITIZEN),
    transition("attach", EDITABLE, STAY, CITIZEN),
    transition("delete", {S.draft}, STAY, CITIZEN),
    transition("submit", {S.draft}, S.submitted, CITIZEN, effect="submit",
               requires=("procedure_active", "eid_level", "form_valid", "documents_complete"),
               tells=(*_tell_status(S.submitted), (OFFICIALS, "staff.submitted"))),
    transition("withdraw", {S.submitted}, S.withdrawn, CITIZEN, effect="close", tells=_tell_status(S.withdrawn)),
    transition("resubmit", {S.supplement_requested}, RESUME, CITIZEN, effect="resubmit",
               requires=("form_valid", "documents_complete"),
               tells=((APPLICANT, "dossier.resubmitted"), (OFFICIALS, "staff.resubmitted"))),
    transition("rate", FINAL, STAY, CITIZEN, requires=("not_rated",)),
    # Starting an online payment (services.money.payments), offered while a fee is due; the money
    # itself is recorded by record_payment.
    transition("pay", PAYABLE, STAY, CITIZEN, requires=("fee_due",)),
    # A walk-in or postal dossier, filed and received at once by a centre's official (services.dossiers.desk).
    transition("receive_at_desk", {S.draft}, S.received, OFFICIAL, effect="receive_at_desk",
               inputs=("variant", "papers"),
               requires=("procedure_active", "form_valid"), tells=_tell_status(S.received), listed=False),
    # The desk's scan of a paper (services.dossiers.attachments), while the dossier is at the desk's hands.
    transition("scan", {S.received, S.in_progress, S.supplement_requested}, STAY, OFFICIAL, listed=False),
    transition("record_desk_payment", PAYABLE, STAY, OFFICIAL, inputs=("amount_vnd", "method", "receipt_no"),
               requires=("fee_due",), effect="record_desk_payment", tells=((APPLICANT, "payment.desk"),)),
    transition("receive", {S.submitted}, S.received, OFFICIAL, effect="receive", inputs=("variant",),
               requires=("predecessor_completed",), tells=_tell_status(S.received)),
    # A centre that is not competent forwards what it received (Decree 118/2025); the clock runs on.
    transition("transfer", {S.received}, STAY, OFFICIAL, inputs=("agency_code",), effect="transfer",
               tells=((APPLICANT, "dossier.transferred"), (OFFICIALS, "staff.transferred"))),
    transition("start_processing", {S.received}, S.in_progress, OFFICIAL, tells=_tell_status(S.in_progress)),
    transition("request_supplement", {S.submitted, S.received, S.in_progress}, S.supplement_requested, OFFICIAL,
               inputs=("note",), effect="pause", tells=_tell_status(S.supplement_requested)),
    transition("approve", {S.in_progress}, S.approved, OFFICIAL, tells=_tell_status(S.approved)),
    transition("reject", {S.submitted, S.received, S.in_progress}, S.rejected, OFFICIAL, inputs=("reason",),
               effect="reject", tells=_tell_status(S.rejected)),
    transition("return_result", {S.approved}, S.completed, OFFICIAL, requires=("fee_paid",),
               effect="return_result", tells=_tell_status(S.completed)),
    transition("apologize", CLOCK_RUNNING, STAY, OFFICIAL, requires=("overdue",), inputs=("reason", "new_due_at"),
               effect="apologize", tells=((APPLICANT, "dossier.apology"),)),
    transition("upload_result", {S.in_progress, S.approved}, STAY, OFFICIAL),
    # The gateway confirmed the fee (an IPN); recorded even on a closed dossier: the money moved.
    transition("record_payment", set(S) - {S.draft}, STAY, SYSTEM, effect="record_payment", listed=False),
)


def label(status: str, lang: str) -> str:
    vi, en = LABELS[status]
    return en if lang == "en" else vi
