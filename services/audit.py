"""Recording staff actions (in the transaction of the action itself) and reading them back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.actors import Actor
from services.clock import clock
from services.db import new_id
from services.models.audit import AuditEntry
from services.pagination import Page, keyset_page


def record(session: Session, actor: Actor | None, action: str, target_type: str, target_id: str,
           details: dict[str, Any] | None = None, *, origin: str | None = None) -> None:
    session.add(AuditEntry(**entry(actor, action, target_type, target_id, details, origin=origin)))


def entry(actor: Actor | None, action: str, target_type: str, target_id: str,
          details: dict[str, Any] | None = None, *, origin: str | None = None) -> dict[str, Any]:
    """An audit row's columns (its id made here), for a caller that writes it with other rows (a dossier's
    staff move writes it with its notices: services.notices.inbox.notify_all)."""
    return {"id": new_id(), "at": clock.now(), "actor_id": actor.user_id if actor and actor.user_id else None,
            "actor_role": actor.role if actor else "cli", "action": action, "target_type": target_type,
            "target_id": target_id, "details": details or {},
            "origin": origin if origin is not None else (actor.origin if actor else "cli")}


def search(session: Session, *, action: str | None = None, actor_id: str | None = None,
           target_id: str | None = None, since: datetime | None = None, until: datetime | None = None,
           after: Sequence[Any] | None = None, limit: int = 20) -> Page[AuditEntry]:
    """Newest first, filtered."""
    stmt = select(AuditEntry)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if actor_id:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    if target_id:
        stmt = stmt.where(AuditEntry.target_id == target_id)
    if since:
        stmt = stmt.where(AuditEntry.at >= since)
    if until:
        stmt = stmt.where(AuditEntry.at < until)
    return keyset_page(session, stmt, [AuditEntry.at, AuditEntry.id], lambda e: (e.at.isoformat(), e.id),
                       after=after, limit=limit, descending=True)
