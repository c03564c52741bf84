"""The dispatcher's record step: each webhook POST's answer stored as an attempt, and what it does to its
delivery and its subscription.

2xx delivers; a timeout, a connection failure, 5xx or 429 is retried after a jittered exponential
backoff (at least the receiver's Retry-After) until the delivery's `retry_until`; any other answer, or
an address we refuse to call, ends the delivery at once. A delivery re-leased since it was claimed (the
lease ran out) is left to its new holder; its attempt is still stored. A subscription failing for
`webhook_deactivate_hours` without a success is deactivated and the admins are told (inbox and audit).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, and_, bindparam, insert, select, update
from sqlalchemy.orm import Session

from services import audit
from services.db import new_id
from services.events.sending import Answer
from services.models import StaffRole, User, WebhookAttempt, WebhookDelivery, WebhookSubscription
from services.notices.inbox import notify
from services.settings import Settings
from vocab import DeliveryStatus, Role

log = logging.getLogger("smartqn.webhooks")


@dataclass
class Job:
    """A claimed delivery, ready to send: what the POST needs and the lease it was claimed under."""

    delivery_id: str
    subscription_id: str
    event_id: int
    attempt: int
    retry_until: datetime
    url: str
    secret: str
    body: bytes
    lease: str


@dataclass
class Stats:
    """What a dispatcher has done since it started (`drain` returns it)."""

    fanned_out: int = 0
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    deactivated: list[str] = field(default_factory=list)


_deliveries = cast(Table, WebhookDelivery.__table__)
RECORD = (update(_deliveries)
          .where(_deliveries.c.id == bindparam("job"), _deliveries.c.lease_id == bindparam("lease"))
          .values(status=bindparam("state", type_=_deliveries.c.status.type),
                  delivered_at=bindparam("done_at", type_=_deliveries.c.delivered_at.type),
                  next_attempt_at=bindparam("next_at", type_=_deliveries.c.next_attempt_at.type), lease_id=None))


def backoff(settings: Settings, rng: random.Random, attempt: int, retry_after: float | None) -> float:
    """Seconds before the next attempt: half to all of the attempt's exponential ceiling, at least Retry-After."""
    ceiling = min(settings.webhook_backoff_max_seconds,
                  settings.webhook_backoff_seconds * 2 ** max(0, attempt - 1))
    return max(ceiling / 2 + rng.uniform(0, ceiling / 2), retry_after or 0.0)


def record(session: Session, results: list[tuple[Job, Answer]], *, now: datetime, settings: Settings,
           rng: random.Random, stats: Stats) -> None:
    """Every answer, in the caller's transaction; a delivery re-leased since (our lease ran out) is left alone."""
    held = set(session.scalars(select(WebhookDelivery.id).where(
        WebhookDelivery.id.in_([j.delivery_id for j, _ in results]),
        and_(WebhookDelivery.lease_id.in_({j.lease for j, _ in results}))).with_for_update()))
    succeeded: set[str] = set()
    failing: set[str] = set()
    attempts, outcomes = [], []
    for job, answer in results:
        attempts.append({"id": new_id(), "subscription_id": job.subscription_id, "event_id": job.event_id,
                         "attempt": job.attempt, "status_code": answer.status_code, "error": answer.error,
                         "duration_ms": answer.duration_ms, "at": now})
        if job.delivery_id not in held:
            continue
        row = {"job": job.delivery_id, "lease": job.lease, "state": DeliveryStatus.pending, "done_at": None,
               "next_at": now}
        if answer.ok:
            row.update(state=DeliveryStatus.delivered, done_at=now)
            succeeded.add(job.subscription_id)
            stats.delivered += 1
        elif answer.retryable and now < job.retry_until:
            row["next_at"] = now + timedelta(seconds=backoff(settings, rng, job.attempt, answer.retry_after))
            failing.add(job.subscription_id)
            stats.retried += 1
        else:
            row["state"] = DeliveryStatus.failed
            failing.add(job.subscription_id)
            stats.failed += 1
        outcomes.append(row)
    session.execute(insert(WebhookAttempt), attempts)
    if outcomes:
        session.execute(RECORD, outcomes)  # one executemany for the batch
    if succeeded:
        session.execute(update(WebhookSubscription).where(WebhookSubscription.id.in_(succeeded))
                        .values(last_success_at=now, failing_since=None),
                        execution_options={"synchronize_session": False})
    for sub in session.scalars(select(WebhookSubscription).where(
            WebhookSubscription.id.in_(failing - succeeded))):
        _failed(session, sub, now=now, settings=settings, stats=stats)


def _failed(session: Session, sub: WebhookSubscription, *, now: datetime, settings: Settings, stats: Stats) -> None:
    """A failure with no success beside it: the failing clock starts, or deactivates the subscription once
    it has run `webhook_deactivate_hours`."""
    if sub.failing_since is None:
        sub.failing_since = now
    if sub.active and now - sub.failing_since >= timedelta(hours=settings.webhook_deactivate_hours):
        sub.active, sub.deactivated_at = False, now
        since = sub.failing_since.isoformat(timespec="minutes")
        audit.record(session, None, "webhook.deactivated", "webhook", sub.id,
                     {"url": sub.url, "failing_since": since}, origin="worker")
        admins = session.scalars(select(User.id).join(StaffRole, StaffRole.cccd == User.cccd)
                                 .where(StaffRole.role == Role.admin))
        notify(session, list(admins), "webhook.deactivated", {"url": sub.url, "since": since})
        stats.deactivated.append(sub.id)
        log.warning("webhook deactivated", extra={"subscription": sub.id, "failing_since": since})
