"""Figures an operator watches, read live from the database: the push outbox and deadline alerts owed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from services.clock import clock
from services.db import transaction
from services.dossiers.table import CLOCK_RUNNING
from services.models import DeadlineAlert, Dossier, Event, PushJob, WebhookDelivery, WebhookSubscription
from vocab import DeliveryStatus, PushJobStatus


@dataclass(frozen=True)
class Backlog:
    push_pending: int
    push_oldest_seconds: float
    push_failed: int
    overdue_untold: int  # dossiers past due whose officials the workers have not told yet
    webhook_pending: int = 0  # deliveries to active subscriptions not made yet (due, backing off or in flight)
    webhook_oldest_seconds: float = 0.0
    events_unfanned: int = 0  # events the workers have not fanned out to subscriptions yet


def backlog(session: Session) -> Backlog:
    with transaction(session):
        now = clock.now()
        pending, oldest = session.execute(select(func.count(), func.min(PushJob.created_at))
                                          .where(PushJob.status == PushJobStatus.pending)).one()
        failed = session.scalar(select(func.count()).where(PushJob.status == PushJobStatus.failed)) or 0
        told = exists().where(DeadlineAlert.dossier_id == Dossier.id, DeadlineAlert.event == "overdue",
                              DeadlineAlert.due_at == Dossier.due_at)
        untold = session.scalar(select(func.count()).select_from(Dossier).where(
            and_(Dossier.status.in_(CLOCK_RUNNING), Dossier.queue_at <= now, Dossier.due_at <= now), ~told)) or 0
        age = (now - oldest).total_seconds() if isinstance(oldest, datetime) else 0.0
        hooks, hooks_oldest = session.execute(
            select(func.count(), func.min(WebhookDelivery.created_at)).join(WebhookSubscription)
            .where(WebhookDelivery.status == DeliveryStatus.pending, WebhookSubscription.active.is_(True))).one()
        hooks_age = (now - hooks_oldest).total_seconds() if isinstance(hooks_oldest, datetime) else 0.0
        unfanned = session.scalar(select(func.count()).select_from(Event).where(Event.fanned_out_at.is_(None))) or 0
        return Backlog(int(pending or 0), max(0.0, age), int(failed), int(untold), int(hooks or 0),
                       max(0.0, hooks_age), int(unfanned))
