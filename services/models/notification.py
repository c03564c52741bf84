"""Telling people: devices, the inbox, the push outbox, announcements and deadline alerts sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.db import Base, IdMixin, StrEnumColumn, utcnow
from vocab import Language, Platform, PushJobStatus

# Set in a session's `info` when it wrote push jobs, so an in-process worker wakes when it commits.
PUSH_WRITTEN = "smartqn.push_written"


def pushes_written(session: Any) -> None:
    """Every writer of push jobs says so: an inline worker then sends as soon as the session commits."""
    session.info[PUSH_WRITTEN] = True


class Device(IdMixin, Base):
    """A phone (or browser) that receives pushes; a token belongs to whoever registered it last."""

    __tablename__ = "devices"
    __table_args__ = (Index("ix_devices_user", "user_id", "created_at"), Index("ix_devices_last_seen", "last_seen_at"))

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(4096), unique=True)
    platform: Mapped[Platform] = mapped_column(StrEnumColumn(Platform, 8))
    locale: Mapped[Language] = mapped_column(StrEnumColumn(Language, 8), default=Language.vi)  # of its pushes
    app_version: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The FCM topics the token is (or is queued to be) subscribed to, comma-separated.
    topics: Mapped[str] = mapped_column(String(200), default="", server_default="")


class Notification(IdMixin, Base):
    """One inbox entry; its title and body are rendered from the kind's template in the reader's language."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_created", "user_id", "created_at", "id"),
                      Index("ix_notifications_user_unread", "user_id", "read_at"))

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dossier_id: Mapped[str | None] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class Announcement(IdMixin, Base):
    """A broadcast to an FCM topic: `all`, or an agency code (its officials' devices)."""

    __tablename__ = "announcements"
    __table_args__ = (Index("ix_announcements_created", "created_at", "id"),)

    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PushJob(IdMixin, Base):
    """The outbox: one row per thing to tell FCM, written in the transaction of the event itself.

    `kind` is `message` (a notification to one device), `topic` (an announcement), `subscribe` or
    `unsubscribe` (a token to or from a topic). Workers claim due rows under a lease.
    """

    __tablename__ = "push_jobs"
    __table_args__ = (Index("ix_push_jobs_due", "status", "next_attempt_at"),
                      Index("ix_push_jobs_device", "device_id"),
                      Index("ix_push_jobs_notification", "notification_id"))

    kind: Mapped[str] = mapped_column(String(12), default="message")
    notification_id: Mapped[str | None] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    announcement_id: Mapped[str | None] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"))
    token: Mapped[str | None] = mapped_column(String(4096))  # subscribe/unsubscribe only
    topic: Mapped[str | None] = mapped_column(String(60))
    badge: Mapped[int | None] = mapped_column(Integer)  # the user's unread count when written
    # pending → sent | failed (gave up, or a permanent error); kept for the admins to see.
    status: Mapped[PushJobStatus] = mapped_column(StrEnumColumn(PushJobStatus, 8), default=PushJobStatus.pending)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When a worker may take the job: now, after a backoff, or when a claiming worker's lease ends
    # (a worker that died mid-batch leaves its jobs to be claimed again then).
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(String(500))

    notification: Mapped[Notification | None] = relationship(lazy="raise_on_sql")
    device: Mapped[Device | None] = relationship(lazy="raise_on_sql")
    announcement: Mapped[Announcement | None] = relationship(lazy="raise_on_sql")


class DeadlineAlert(Base):
    """A deadline alert told to the agency's officials: once per dossier, event and due date."""

    __tablename__ = "deadline_alerts"
    __table_args__ = (UniqueConstraint("dossier_id", "event", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(12))  # due_soon | overdue
    due_at: Mapped[datetime]
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
