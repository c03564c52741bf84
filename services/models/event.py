"""The event log (what happened, written in the transaction of the change) and the webhooks fed from it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from services.db import Base, IdMixin, StrEnumColumn, utcnow
from vocab import DeliveryStatus, EventType

# A global id that grows: SSE's Last-Event-ID and the receivers' de-duplication key.
EVENT_ID = BigInteger().with_variant(Integer, "sqlite")
NOT_FANNED_OUT = text("fanned_out_at IS NULL")
PENDING = text("status = 'pending'")


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        # `sequence` grows per resource (a dossier's is its timeline position): a receiver drops stale ones.
        UniqueConstraint("resource_kind", "resource_id", "sequence", name="uq_events_resource_sequence"),
        Index("ix_events_occurred", "occurred_at"),
        # The live streams: a citizen's own events, an agency's queue (current agency or the centre).
        Index("ix_events_user", "user_id", "id"),
        Index("ix_events_agency", "agency_id", "id"),
        Index("ix_events_centre", "centre_id", "id"),
        # What the workers have not fanned out to the webhook subscriptions yet.
        Index("ix_events_unfanned", "id", postgresql_where=NOT_FANNED_OUT, sqlite_where=NOT_FANNED_OUT),
    )

    id: Mapped[int] = mapped_column(EVENT_ID, primary_key=True, autoincrement=True)
    type: Mapped[EventType] = mapped_column(StrEnumColumn(EventType, 40))
    resource_kind: Mapped[str] = mapped_column(String(20))
    resource_id: Mapped[str] = mapped_column(String(36))
    sequence: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Who may see it on a live stream: the citizen concerned, the agency whose queue it changes, and
    # the receiving centre (or, on a transfer, the agency it left).
    user_id: Mapped[str | None] = mapped_column(String(36))
    agency_id: Mapped[str | None] = mapped_column(String(36))
    centre_id: Mapped[str | None] = mapped_column(String(36))
    fanned_out_at: Mapped[datetime | None]


class WebhookSubscription(IdMixin, Base):
    __tablename__ = "webhook_subscriptions"
    __table_args__ = (Index("ix_webhook_subscriptions_created", "created_at", "id"),)

    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(String(500))
    # The signing secret, encrypted with a key derived from SMARTQN_SECRET_KEY (it must be readable to sign).
    secret_sealed: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(36))
    last_success_at: Mapped[datetime | None]
    # The first failure since the last success: 24 h of it deactivates the subscription.
    failing_since: Mapped[datetime | None]
    deactivated_at: Mapped[datetime | None]


class WebhookDelivery(IdMixin, Base):
    """One event to one subscription; workers claim due rows under a lease (as push jobs)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", name="uq_webhook_deliveries_subscription_event"),
        Index("ix_webhook_deliveries_due", "subscription_id", "next_attempt_at", postgresql_where=PENDING,
              sqlite_where=PENDING),
        # Per-resource order: an event waits while an earlier one of its resource is pending.
        Index("ix_webhook_deliveries_order", "subscription_id", "resource_key", "sequence",
              postgresql_where=PENDING, sqlite_where=PENDING),
        Index("ix_webhook_deliveries_event", "event_id"),
    )

    subscription_id: Mapped[str] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(EVENT_ID, ForeignKey("events.id"))
    resource_key: Mapped[str] = mapped_column(String(60))
    sequence: Mapped[int] = mapped_column(Integer)
    status: Mapped[DeliveryStatus] = mapped_column(StrEnumColumn(DeliveryStatus, 12), default=DeliveryStatus.pending)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    retry_until: Mapped[datetime]
    lease_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class WebhookAttempt(IdMixin, Base):
    """Every POST made, with its answer: what GET /admin/webhooks/{id}/deliveries lists."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_subscription", "subscription_id", "at", "id"),)

    subscription_id: Mapped[str] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(EVENT_ID)
    attempt: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(default=utcnow)
