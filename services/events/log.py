"""The event log: one row per thing that happened, written in the transaction of the change itself.

Nothing is sent from inside a request: the webhook workers (services.events.delivery) fan the log
out to subscriptions, the live streams (services.events.stream) read it. Each event has a global id
that grows (SSE's Last-Event-ID, the receivers' de-duplication key) and a `sequence` that grows per
resource (a dossier's is the position of its timeline entry), so a receiver can drop a stale event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.clock import clock
from services.dossiers.table import NATIONAL_STATUS
from services.models import Dossier, Event
from vocab import EventType

DOSSIER = "dossier"
REPORT = "report"


def record(session: Session, type: EventType | str, resource_kind: str, resource_id: str, data: dict[str, Any], *,
           sequence: int | None = None, user_id: str | None = None, agency_id: str | None = None,
           centre_id: str | None = None, at: datetime | None = None) -> Event:
    """Add one event in the caller's transaction (one INSERT at the next flush).

    `sequence`: the resource's own counter when it has one (a dossier's timeline position); without
    it the next number is read from the log, and the unique (resource, sequence) constraint turns a
    concurrent writer into a failed transaction, never two events with one number. The audience
    (`user_id`, `agency_id`, `centre_id`) says whose live stream shows it.
    """
    if sequence is None:
        sequence = (session.scalar(select(func.max(Event.sequence)).where(
            Event.resource_kind == resource_kind, Event.resource_id == resource_id)) or 0) + 1
    event = Event(**row(type, resource_kind, resource_id, data, sequence=sequence, user_id=user_id,
                        agency_id=agency_id, centre_id=centre_id, at=at))
    session.add(event)
    return event


def row(type: EventType | str, resource_kind: str, resource_id: str, data: dict[str, Any], *, sequence: int,
        user_id: str | None = None, agency_id: str | None = None, centre_id: str | None = None,
        at: datetime | None = None) -> dict[str, Any]:
    """An event's columns, for a caller that writes it with other rows (a dossier's move writes it with its
    notices: services.notices.inbox.notify_all); its id is the log's next, given by the database."""
    return {"type": EventType(type), "resource_kind": resource_kind, "resource_id": resource_id,
            "sequence": sequence, "occurred_at": at or clock.now(), "data": data, "user_id": user_id,
            "agency_id": agency_id, "centre_id": centre_id}


def dossier_data(dossier: Dossier, **extra: Any) -> dict[str, Any]:
    """What a partner learns of a dossier: identifiers and status, no personal data."""
    return {"dossier_id": dossier.id, "code": dossier.code, "procedure_code": dossier.procedure.code,
            "agency_code": dossier.agency.code, "status": str(dossier.status),
            "national_status": NATIONAL_STATUS.get(dossier.status), **extra}


def payload(event: Event) -> dict[str, Any]:
    """The body of a webhook delivery and of a live-stream message (API.md)."""
    return {"id": str(event.id), "type": str(event.type), "occurred_at": event.occurred_at.isoformat(),
            "sequence": event.sequence, "data": event.data}
