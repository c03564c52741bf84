"""The audit trail: every staff action, who did it, when, to what, and from where. Append-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from services.db import Base, IdMixin, utcnow


class AuditEntry(IdMixin, Base):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_at", "at", "id"), Index("ix_audit_action_at", "action", "at", "id"),
                      Index("ix_audit_actor_at", "actor_id", "at", "id"), Index("ix_audit_target", "target_id"))

    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[str | None] = mapped_column(String(36))
    actor_role: Mapped[str] = mapped_column(String(16))
    # e.g. dossier.receive, staff.grant
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str] = mapped_column(String(30))
    target_id: Mapped[str] = mapped_column(String(60))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Where it came from: the client address and request id, or "cli".
    origin: Mapped[str] = mapped_column(String(200), default="")
