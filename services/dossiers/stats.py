"""The province's figures (DOMAIN.md "Service-quality indicators"), computed by grouped SQL.

Every figure counts dossiers by the time of the event that defines it, and every event is recorded
by the action that performs it (received_at, completed_at, closed_at, rated_at, due_at, paid_at,
processing_days), so the figures are exact by construction. Dates are local (Asia/Ho_Chi_Minh).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from services.actors import Actor
from services.calendar import TZ, WorkingCalendar
from services.clock import clock
from services.db import epoch_seconds
from services.dossiers.table import FINAL
from services.errors import ValidationFailed
from services.models import Agency, Attachment, Dossier, Payment, Shipment, User
from services.pagination import Page, keyset_page
from services.postal.shipments import stuck_conditions
from services.province.catalog import agency_scope
from vocab import Channel, PaidVia

MAX_SPAN = timedelta(days=366 * 3)


@dataclass
class Figures:
    agency_code: str
    agency_name: str
    received: int = 0
    completed: int = 0
    completed_on_time: int = 0
    completed_late: int = 0
    overdue_open: int = 0
    rejected: int = 0
    withdrawn: int = 0
    refunds_due: int = 0  # fees paid twice online in the range, the second payment owed back
    submitted: int = 0  # dossiers whose submitted_at falls in the range
    submitted_reusing: int = 0  # of those, the ones with at least one paper taken from the wallet
    # Decision 766: received by channel, digitised papers, fees paid at the desk, results returned by post.
    received_online: int = 0
    received_desk: int = 0
    received_postal: int = 0
    digitised: int = 0  # received in the range with every mandatory paper held as a file
    desk_payment: int = 0  # completed in the range with a fee paid at the desk
    returned_by_post: int = 0  # completed in the range with the result sent by post
    # The sums behind the rates and averages, so totals are computed from them, not from averages.
    fee_completed: int = 0
    paid_online: int = 0
    processing_sum: int = 0
    processing_n: int = 0
    rating_sum: int = 0
    rating_n: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return round(self.completed_on_time / self.completed, 4) if self.completed else None

    @property
    def online_payment_rate(self) -> float | None:
        """Of completed dossiers with a fee, the share paid through the gateway (desk payments count below)."""
        return round(self.paid_online / self.fee_completed, 4) if self.fee_completed else None

    @property
    def reuse_rate(self) -> float | None:
        return round(self.submitted_reusing / self.submitted, 4) if self.submitted else None

    @property
    def desk_payment_rate(self) -> float | None:
        return round(self.desk_payment / self.fee_completed, 4) if self.fee_completed else None

    @property
    def online_rate(self) -> float | None:
        return round(self.received_online / self.received, 4) if self.received else None

    @property
    def digitised_rate(self) -> float | None:
        return round(self.digitised / self.received, 4) if self.received else None

    @property
    def avg_processing_days(self) -> float | None:
        return round(self.processing_sum / self.processing_n, 2) if self.processing_n else None

    @property
    def satisfaction_avg(self) -> float | None:
        return round(self.rating_sum / self.rating_n, 2) if self.rating_n else None

    def add(self, other: Figures) -> None:
        for f in fields(self):
            if f.type == "int":  # every count and sum; the rates and averages derive from them
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass(frozen=True)
class Report:
    start: date
    end: date
    items: list[Figures]
    total: Figures


def local_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[midnight of `start`, midnight after `end`) in Asia/Ho_Chi_Minh, as instants."""
    if start > end:
        raise ValidationFailed("from is after to", errors={"from": ["Must not be after to."]})
    if end - start > MAX_SPAN:
        raise ValidationFailed("range too long", errors={"to": ["The range may span at most 3 years."]})
    return datetime.combine(start, time(0), TZ), datetime.combine(end + timedelta(days=1), time(0), TZ)


def scope(session: Session, actor: Actor, agency_code: str | None) -> list[Agency]:
    """The agencies the caller may see figures of: an official their own (another is 404), an admin any."""
    if (agency := agency_scope(session, actor, agency_code)) is not None:
        return [agency]
    return list(session.scalars(select(Agency).where(Agency.active.is_(True)).order_by(Agency.code)))


def report(session: Session, actor: Actor, *, start: date, end: date, agency_code: str | None = None,
           group_by: str = "agency") -> Report:
    """Figures per competent agency (`group_by="agency"`) or per receiving agency (`"centre"`: the centre
    that received it at the desk, else the agency itself); both groupings sum to the same total."""
    lo, hi = local_bounds(start, end)
    agencies = scope(session, actor, agency_code)
    cut = min(hi, clock.now())  # overdue "at the end of the range (or now)"

    def within(column: Any) -> Any:
        return and_(column >= lo, column < hi)

    def count(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    done = and_(Dossier.status == "completed", within(Dossier.completed_at))
    paid_fee = and_(done, Dossier.fee_vnd > 0)
    figures = (
        count(within(Dossier.received_at)).label("received"),
        count(done).label("completed"),
        count(and_(done, Dossier.completed_at <= Dossier.due_at)).label("completed_on_time"),
        count(and_(Dossier.due_at < cut, Dossier.received_at < cut,
                   or_(Dossier.closed_at.is_(None), Dossier.closed_at >= cut))).label("overdue_open"),
        count(and_(Dossier.status == "rejected", within(Dossier.closed_at))).label("rejected"),
        count(and_(Dossier.status == "withdrawn", within(Dossier.closed_at))).label("withdrawn"),
        count(within(Dossier.submitted_at)).label("submitted"),
        count(paid_fee).label("fee_completed"),
        # Fees paid before desk payments existed carry no paid_via: they went through the gateway.
        count(and_(paid_fee, Dossier.paid_at.is_not(None), or_(Dossier.paid_via.is_(None),
                                                               Dossier.paid_via != PaidVia.desk))).label("paid_online"),
        count(and_(paid_fee, Dossier.paid_via == PaidVia.desk)).label("desk_payment"),
        *(count(and_(within(Dossier.received_at), Dossier.channel == channel)).label(f"received_{channel}")
          for channel in Channel),
        count(and_(within(Dossier.received_at), Dossier.digitised_at.is_not(None))).label("digitised"),
        count(and_(done, Dossier.return_method == Channel.postal)).label("returned_by_post"),
        func.sum(case((done, Dossier.processing_days), else_=None)).label("processing_sum"),
        func.count(case((done, Dossier.processing_days), else_=None)).label("processing_n"),
        func.sum(case((within(Dossier.rated_at), Dossier.rating_score), else_=None)).label("rating_sum"),
        func.count(case((within(Dossier.rated_at), Dossier.rating_score), else_=None)).label("rating_n"),
    )
    # Only rows with an event in the range (or open and late): each branch has an index per agency.
    touched = or_(within(Dossier.received_at), within(Dossier.closed_at), within(Dossier.rated_at),
                  within(Dossier.submitted_at),
                  and_(Dossier.due_at < cut, Dossier.closed_at.is_(None)),
                  and_(Dossier.due_at < cut, Dossier.closed_at >= cut))
    ids = [a.id for a in agencies]
    key: Any
    if group_by == "centre":
        key = func.coalesce(Dossier.receiving_centre_id, Dossier.agency_id)
        mine = or_(Dossier.receiving_centre_id.in_(ids), and_(Dossier.receiving_centre_id.is_(None),
                                                            Dossier.agency_id.in_(ids)))
    else:
        key, mine = Dossier.agency_id, Dossier.agency_id.in_(ids)
    rows = session.execute(select(key.label("agency_id"), *figures).where(mine, touched).group_by(key)).mappings()
    by_agency = {row["agency_id"]: row for row in rows}
    refunds: dict[str, int] = dict(session.execute(
        select(key, func.count()).join(Payment, Payment.dossier_id == Dossier.id)
        .where(mine, Payment.refund_due.is_(True), within(Payment.paid_at)).group_by(key)).all())
    # Papers from a wallet are few: the dossiers reusing one come from their partial index (a correlated
    # EXISTS in the query above cost one index probe per dossier of the year: 4 of 6 s at a million).
    from_wallet = select(Attachment.dossier_id).where(Attachment.wallet_item_id.is_not(None)).distinct().subquery()
    reusing: dict[str, int] = dict(session.execute(
        select(key, func.count()).join(from_wallet, from_wallet.c.dossier_id == Dossier.id)
        .where(mine, within(Dossier.submitted_at)).group_by(key)).all())
    items = []
    for agency in agencies:
        item = Figures(agency.code, agency.name)
        row = by_agency.get(agency.id)
        if row is not None:
            for name, value in row.items():
                if name != "agency_id":
                    setattr(item, name, int(value or 0))
            item.completed_late = item.completed - item.completed_on_time
        item.refunds_due = refunds.get(agency.id, 0)
        item.submitted_reusing = reusing.get(agency.id, 0)
        items.append(item)
    total = Figures("", "Toàn tỉnh")
    for item in items:
        total.add(item)
    return Report(start, end, items, total)


@dataclass(frozen=True)
class Week:
    start: date  # a Monday, local time
    received: int
    completed: int


def weekly(session: Session, actor: Actor, *, start: date, end: date, agency_code: str | None = None) -> list[Week]:
    """Dossiers received and completed per local week (Monday to Sunday) of the range, with the same
    definitions and scope as `report`; the first and last weeks count only their days in the range."""
    lo, hi = local_bounds(start, end)
    ids = [a.id for a in scope(session, actor, agency_code)]
    monday = start - timedelta(days=start.weekday())
    origin = int(datetime.combine(monday, time(0), TZ).timestamp())  # no DST in Vietnam: weeks are 604,800 s

    def per_week(column: Any, *where: Any) -> dict[int, int]:
        week = ((epoch_seconds(column) - origin) // 604_800).label("week")
        rows = select(week).where(Dossier.agency_id.in_(ids), column >= lo, column < hi, *where).subquery()
        return dict(session.execute(select(rows.c.week, func.count()).group_by(rows.c.week)).all())

    received = per_week(Dossier.received_at)
    completed = per_week(Dossier.closed_at, Dossier.status == "completed")
    weeks = (end - monday).days // 7 + 1
    return [Week(monday + timedelta(weeks=i), received.get(i, 0), completed.get(i, 0)) for i in range(weeks)]


def overdue(session: Session, actor: Actor, *, calendar: WorkingCalendar, agency_code: str | None = None,
            after: Sequence[Any] | None = None, limit: int = 20,
            ) -> Page[tuple[Dossier, int, User | None, Shipment | None]]:
    """Open dossiers past due, and dossiers whose shipment has been stuck in one status for over two
    working days (a returned result's too), by due date; each with the working days it is late by (0
    when only its shipment is late) and that shipment."""
    now = clock.now()
    stuck_since = stuck_conditions(calendar, now)
    stuck = select(Shipment.dossier_id).where(*stuck_since)
    stmt = select(Dossier).where(or_(and_(Dossier.due_at < now, Dossier.status.not_in(FINAL)),
                                     and_(Dossier.id.in_(stuck), Dossier.due_at.is_not(None))))
    if (agency := agency_scope(session, actor, agency_code)) is not None:
        stmt = stmt.where(or_(Dossier.agency_id == agency.id, and_(Dossier.receiving_centre_id == agency.id,
                                                                   Dossier.id.in_(stuck))))
    page = keyset_page(session, stmt, [Dossier.due_at, Dossier.id], lambda d: (d.due_at.isoformat(), d.id),
                       after=after, limit=limit)
    wanted = {d.applicant_id for d in page.items}
    applicants = {u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted)))}
    shipments = {s.dossier_id: s for s in session.scalars(select(Shipment).where(
        Shipment.dossier_id.in_([d.id for d in page.items]), *stuck_since))}
    items = [(d, max(1, calendar.working_days_spent(d.due_at, now)) if d.due_at < now and d.status not in FINAL
              else 0, applicants.get(d.applicant_id), shipments.get(d.id)) for d in page.items]
    return Page(items=items, next_key=page.next_key)
