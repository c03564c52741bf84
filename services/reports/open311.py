"""Open311 GeoReport v2 on the report service: partner api_keys, and reports as the specification
names them (services are categories, a request is a report, `service_request_id` its code)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services import audit
from services.actors import Actor
from services.clock import clock
from services.db import transaction
from services.errors import Forbidden, NotFound
from services.models import Open311Key, Report
from services.reports.categories import find_category
from services.reports.table import CLOSED, OPEN

# The jurisdiction this endpoint serves; a request naming another is 404, as the specification says.
JURISDICTION_ID = "danang.gov.vn"
DEFAULT_DAYS = 90  # without dates, the last 90 days (the specification's suggestion)
MAX_REQUESTS = 1000


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(session: Session, actor: Actor, *, name: str) -> tuple[Open311Key, str]:
    """A new api_key for a partner system; the key itself is returned this once, only its hash is kept."""
    key = "o311_" + secrets.token_urlsafe(32)
    with transaction(session):
        row = Open311Key(key_hash=_hash(key), name=name, created_by=actor.user_id or None, created_at=clock.now())
        session.add(row)
        session.flush()
        audit.record(session, actor, "open311.key_issued", "open311_key", row.id, {"name": name})
        return row, key


def revoke_key(session: Session, actor: Actor, key_id: str) -> None:
    with transaction(session):
        row = session.get(Open311Key, key_id)
        if row is None:
            raise NotFound("no such api_key")
        if row.revoked_at is None:
            row.revoked_at = clock.now()
            audit.record(session, actor, "open311.key_revoked", "open311_key", row.id, {"name": row.name})


def check_key(session: Session, key: str | None) -> Open311Key:
    row = session.scalar(select(Open311Key).where(Open311Key.key_hash == _hash(key))) if key else None
    if row is None or row.revoked_at is not None:
        raise Forbidden("api_key is missing, unknown or revoked")
    return row


def check_jurisdiction(jurisdiction_id: str | None) -> None:
    if jurisdiction_id not in (None, "", JURISDICTION_ID):
        raise NotFound(f"jurisdiction_id not found; this endpoint serves {JURISDICTION_ID}")


def find_requests(session: Session, *, codes: Sequence[str] = (), service_code: str | None = None,
                  start: datetime | None = None, end: datetime | None = None,
                  status: str | None = None) -> list[Report]:
    """Requests by code, or by service, dates and open/closed: newest first, at most 1,000."""
    stmt = select(Report)
    if codes:
        stmt = stmt.where(Report.code.in_(list(codes)))
    else:
        end = end or clock.now()
        start = start or end - timedelta(days=DEFAULT_DAYS)
        stmt = stmt.where(Report.created_at >= start, Report.created_at <= end)
    if service_code:
        category = find_category(session, service_code)
        stmt = stmt.where(Report.category_id == (category.id if category else ""))
    if status == "open":
        stmt = stmt.where(Report.status.in_(OPEN))
    elif status == "closed":
        stmt = stmt.where(Report.status.in_(CLOSED))
    return list(session.scalars(stmt.order_by(Report.created_at.desc(), Report.id).limit(MAX_REQUESTS)).unique())


def get_request(session: Session, code: str) -> Report:
    report = session.scalar(select(Report).where(Report.code == code))
    if report is None:
        raise NotFound("service_request_id not found")
    return report
