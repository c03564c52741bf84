"""The province's dossiers for the benchmarks on PostgreSQL, filled by COPY: synthetic applicants (CCCD
099…, one per ten dossiers) and dossiers of the commune-level procedures spread over every commune of the
seed, received over the last year, statuses by age, ~5 % received at another commune's desk and
transferred; then fresh planner statistics. Used by bench/dossiers.py and bench/mixed.py.
"""

from __future__ import annotations

import random
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from common import ROOT, copy

sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from services.models import Agency, Procedure  # noqa: E402

DOSSIERS_PER_PERSON = 10
TRANSFERRED = 0.05

# Who files: synthetic people (CCCD 099…, never a real prefix), Vietnamese names.
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
          "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Ngọc", "Quốc", "Thanh", "Đức", "Xuân", "Thu"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Hà", "Hải", "Hạnh", "Hùng", "Lan", "Linh", "Long", "Mai", "Nam", "Ngân", "Phúc",
         "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vy"]
# Status by age: a dossier received today is open, one from months ago is closed (a few stuck, overdue).
STATUSES = ("submitted", "received", "in_progress", "supplement_requested", "approved", "completed", "rejected",
            "withdrawn")
BY_AGE = ((2, (20, 25, 30, 5, 10, 10, 0, 0)),  # (younger than N days, weights of STATUSES)
          (20, (0, 3, 10, 4, 5, 70, 5, 3)),
          (366, (0, .3, .7, .5, .5, 90, 5, 3)))
USER_COLUMNS = ("id", "cccd", "full_name", "date_of_birth", "gender", "eid_level", "eid_subject", "created_at",
                "last_sign_in_at")
DOSSIER_COLUMNS = ("id", "code", "procedure_id", "agency_id", "receiving_centre_id", "channel", "applicant_id",
                   "status", "form", "fee_vnd", "paid_at", "created_at", "status_changed_at", "submitted_at",
                   "received_at", "due_at", "completed_at", "closed_at", "resume_status", "remaining_days",
                   "supplement_count", "processing_days", "queue_at", "rating_score", "rated_at", "version")


def people(r: random.Random, count: int, now: datetime) -> list[tuple]:
    return [(str(uuid.uuid4()), f"099{i:09d}", f"{r.choice(FAMILY)} {r.choice(MIDDLE)} {r.choice(GIVEN)}",
             date(1950 + r.randrange(55), 1 + r.randrange(12), 1 + r.randrange(28)), r.choice(("male", "female")),
             2, f"bench-{i}", now, now) for i in range(count)]


def dossier(r: random.Random, n: int, now: datetime, procedure: Any, agency: str, codes: dict[str, str],
            applicant: str) -> tuple:
    """One dossier as the lifecycle would have left it, received at a random time of the last year."""
    submitted = now - timedelta(days=365 * r.random())
    age = (now - submitted).days
    status = r.choices(STATUSES, next(w for days, w in BY_AGE if age < days))[0]
    received = None if status == "submitted" else min(now, submitted + timedelta(minutes=r.randrange(1, 24 * 60)))
    due = received and received + timedelta(days=procedure.processing_days * 1.4 + 0.3)
    changed = min(now, received + timedelta(hours=r.randrange(1, 48))) if received else submitted
    completed = closed = processing = score = rated = resume = remaining = None
    if status in ("completed", "rejected", "withdrawn"):
        closed = changed = min(now, received + (due - received) * r.uniform(0.2, 1.15))
        if status == "completed":
            completed, processing = closed, (closed - received).days * 5 // 7
            if r.random() < 1 / 3:
                score, rated = r.choice((3, 4, 4, 5, 5, 5)), min(now, closed + timedelta(days=1))
    elif status == "supplement_requested":  # the clock stops
        due, resume, remaining = None, "in_progress", 1
    centre = channel = None
    if r.random() < TRANSFERRED:  # received at another commune's desk, transferred to the competent one
        centre, channel = r.choice([c for c in codes.values() if c != codes[agency]]), "desk"
    channel = channel or r.choice(("online", "online", "desk"))
    day = (received or submitted).astimezone(UTC)
    return (str(uuid.uuid4()), f"{agency}-{day:%y%m%d}-{n:07d}", procedure.id, codes[agency], centre, channel,
            applicant, status, "{}", procedure.fee_vnd, received if procedure.fee_vnd and channel == "online" else None,
            submitted, changed, submitted, received, due, completed, closed, resume, remaining,
            int(status == "supplement_requested"), processing, due or changed, score, rated, 1)


def fill(engine: Engine, rows: int) -> None:
    """`rows` dossiers over every commune, `rows / 10` applicants; replaces what a previous fill left."""
    r, now = random.Random(rows), datetime.now(UTC)
    with Session(engine) as session, session.begin():
        session.execute(text("TRUNCATE dossiers CASCADE"))
        session.execute(text("DELETE FROM users WHERE cccd LIKE '099%'"))
        communes = {a.code: a.id for a in session.scalars(select(Agency).where(Agency.level == "commune"))}
        procedures = session.execute(select(Procedure.id, Procedure.fee_vnd, Procedure.processing_days)
                                     .where(Procedure.level == "commune", Procedure.by_level)).all()
    applicants = people(r, max(1, rows // DOSSIERS_PER_PERSON), now)
    copy(engine, "users", USER_COLUMNS, applicants)
    codes = sorted(communes)
    copy(engine, "dossiers", DOSSIER_COLUMNS,
         (dossier(r, n, now, r.choice(procedures), r.choice(codes), communes, r.choice(applicants)[0])
          for n in range(rows)))
    print(f"filled {rows:,} dossiers over {len(codes)} communes, {len(applicants):,} applicants", file=sys.stderr)


def analyze(engine: Engine) -> None:
    """Fresh planner statistics after bulk writes (autovacuum may be off, or not yet round)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
