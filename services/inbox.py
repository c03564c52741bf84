"""The inbox: writing a notification with its push jobs (in the caller's transaction), reading it back."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from notifications.templates import kinds
from services.clock import clock
from services.db import transaction
from services.errors import NotFound
from services.models import Device, Dossier, Notification, PushJob
from services.models.notification import PUSH_WRITTEN
from services.pagination import Page, keyset_page


def notify(session: Session, user_ids: Iterable[str], kind: str, params: dict[str, Any], *,
           dossier: Dossier | None = None) -> list[Notification]:
    """One inbox entry per person and one push job per (entry, device), flushed, not committed."""
    if kind not in kinds():
        raise ValueError(f"no template for notification kind {kind!r}")
    users = list(dict.fromkeys(user_ids))
    if not users:
        return []
    now = clock.now()
    notes = [Notification(user_id=u, kind=kind, params=params, dossier_id=dossier.id if dossier else None,
                          created_at=now) for u in users]
    session.add_all(notes)
    session.flush()
    devices: dict[str, list[str]] = defaultdict(list)
    for user_id, device_id in session.execute(select(Device.user_id, Device.id).where(Device.user_id.in_(users))):
        devices[user_id].append(device_id)
    if not devices:
        return notes
    unread = dict(session.execute(
        select(Notification.user_id, func.count()).where(Notification.user_id.in_(list(devices)),
                                                         Notification.read_at.is_(None))
        .group_by(Notification.user_id)).tuples().all())
    session.add_all(PushJob(kind="message", notification_id=n.id, device_id=device_id, badge=unread.get(n.user_id),
                            next_attempt_at=now, created_at=now)
                    for n in notes for device_id in devices.get(n.user_id, ()))
    session.info[PUSH_WRITTEN] = True
    return notes


def page(session: Session, user_id: str, *, unread: bool | None = None, after: Sequence[Any] | None = None,
         limit: int = 20) -> Page[Notification]:
    """Newest first."""
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread is True:
        stmt = stmt.where(Notification.read_at.is_(None))
    elif unread is False:
        stmt = stmt.where(Notification.read_at.is_not(None))
    return keyset_page(session, stmt, [Notification.created_at, Notification.id],
                       lambda n: (n.created_at.isoformat(), n.id), after=after, limit=limit, descending=True)


def unread_count(session: Session, user_id: str) -> int:
    return session.scalar(select(func.count()).select_from(Notification)
                          .where(Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def mark_read(session: Session, user_id: str, notification_id: str) -> None:
    """Idempotent; someone else's notification is 404."""
    with transaction(session):
        note = session.scalar(select(Notification).where(Notification.id == notification_id,
                                                         Notification.user_id == user_id))
        if note is None:
            raise NotFound("no such notification")
        if note.read_at is None:
            note.read_at = clock.now()


def mark_all_read(session: Session, user_id: str) -> int:
    with transaction(session):
        result = session.execute(update(Notification)
                                 .where(Notification.user_id == user_id, Notification.read_at.is_(None))
                                 .values(read_at=clock.now()))
        return result.rowcount or 0


def push_jobs(session: Session, *, status: str, after: Sequence[Any] | None = None,
              limit: int = 20) -> Page[PushJob]:
    """The outbox for admins, by status, latest first (a failed job's next_attempt_at is when it gave up)."""
    stmt = select(PushJob).where(PushJob.status == status)
    return keyset_page(session, stmt, [PushJob.next_attempt_at, PushJob.id],
                       lambda j: (j.next_attempt_at.isoformat(), j.id), after=after, limit=limit, descending=True)
