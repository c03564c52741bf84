"""Who hears what: the citizen on each status change and payment result, officials on new work and on
deadlines, everyone on announcements. Each runs inside the transaction of the event it tells of."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from services import audit
from services.actors import Actor
from services.calendar import TZ, WorkingCalendar
from services.clock import clock
from services.db import insert_new, transaction
from services.dossiers.table import CLOCK_RUNNING
from services.errors import NotFound
from services.models import Agency, Announcement, DeadlineAlert, Dossier, Payment, PushJob
from services.models.notification import pushes_written
from services.money.vnpay import format_vnd
from services.notices.devices import TOPIC_ALL
from services.notices.inbox import Officials, notify, officials_select


def local_time(value: datetime | None, pattern: str) -> str | None:
    return value.astimezone(TZ).strftime(pattern) if value else None


def dossier_params(dossier: Dossier, **extra: Any) -> dict[str, Any]:
    # procedure_en: the English name where the catalog has one; templates.render picks it in English.
    return {"code": dossier.code, "procedure": dossier.procedure.name, "procedure_en": dossier.procedure.name_en,
            "agency": dossier.agency.name,
            "status": dossier.status,
            "due_date": local_time(dossier.due_at, "%d/%m/%Y"),
            "due_time": local_time(dossier.due_at, "%H:%M %d/%m/%Y"), **extra}


def officials(agency_id: str) -> Officials:
    """The signed-up officials of an agency (a grant made before the first sign-in has no one to tell), as an
    audience: notify() finds them in the statement that writes their notices."""
    return Officials(agency_id)


def officials_of(session: Session, agency_id: str) -> list[str]:
    return list(session.scalars(officials_select(agency_id)))


def payment_result(session: Session, payment: Payment) -> None:
    """Called by services.money.payments when the gateway's verdict on a payment is in."""
    params = dossier_params(payment.dossier, amount=format_vnd(payment.amount_vnd), receipt_no=payment.receipt_no)
    notify(session, [payment.payer_id], f"payment.{payment.status}", params, dossier=payment.dossier)


def check_deadlines(session: Session, *, calendar: WorkingCalendar, limit: int = 1000) -> int:
    """The periodic check: officials hear once per dossier (and due date) when it has 1 working day
    left, and once when it falls overdue. Returns the alerts written."""
    now = clock.now()
    soon = calendar.due_at(now, 1)  # the end of the next working day
    written = 0
    # While the clock runs, queue_at is due_at: the status-and-queue index finds these rows.
    for event, window in (("overdue", and_(Dossier.queue_at <= now, Dossier.due_at <= now)),
                          ("due_soon", and_(Dossier.queue_at > now, Dossier.queue_at <= soon, Dossier.due_at > now,
                                            Dossier.due_at <= soon))):
        with transaction(session):
            told = exists().where(DeadlineAlert.dossier_id == Dossier.id, DeadlineAlert.event == event,
                                  DeadlineAlert.due_at == Dossier.due_at)
            # Every worker runs this check: SKIP LOCKED lets them split the dossiers, and the unique
            # (dossier, event, due_at) row makes a second alert impossible even if two raced.
            due = session.scalars(select(Dossier).where(Dossier.status.in_(CLOCK_RUNNING), window, ~told)
                                  .order_by(Dossier.due_at).limit(limit)
                                  .with_for_update(skip_locked=True, of=Dossier)).all()
            for dossier in due:
                # Another worker may have told this one a moment ago: the unique row decides, no rollback.
                if insert_new(session, DeadlineAlert, {"dossier_id": dossier.id, "event": event,
                                                       "due_at": dossier.due_at, "sent_at": now},
                              key=["dossier_id", "event", "due_at"]) is None:
                    continue
                notify(session, officials(dossier.agency_id), f"staff.{event}", dossier_params(dossier),
                       dossier=dossier)
                written += 1
    return written


def announce(session: Session, actor: Actor, *, title: str, body: str, audience: str) -> Announcement:
    """A broadcast to a topic: `all`, or an agency's code (its officials)."""
    with transaction(session):
        if audience != TOPIC_ALL and session.scalar(select(Agency.id).where(Agency.code == audience)) is None:
            raise NotFound("no such agency")
        now = clock.now()
        item = Announcement(title=title, body=body, audience=audience, created_by=actor.user_id or None,
                            created_at=now)
        session.add(item)
        session.flush()
        session.add(PushJob(kind="topic", announcement_id=item.id, topic=audience, next_attempt_at=now,
                            created_at=now))
        pushes_written(session)
        audit.record(session, actor, "announcement.create", "announcement", item.id,
                     {"audience": audience, "title": title})
        return item


def recent_announcements(session: Session, *, audiences: list[str], limit: int = 20) -> list[Announcement]:
    return list(session.scalars(select(Announcement).where(Announcement.audience.in_(audiences))
                                .order_by(Announcement.created_at.desc(), Announcement.id.desc()).limit(limit)))
