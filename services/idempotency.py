"""Idempotency-Key: the first response of a request is stored per user and replayed for retries.

The key's row is written in the same transaction as the work it guards, so either both exist or
neither does. A retry that arrives while the first request is still running waits for the key's
row lock briefly (PostgreSQL), then answers 409; SQLite serializes writers, so the retry simply
waits and replays.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from services.clock import clock
from services.db import insert_new, new_id
from services.errors import Conflict, IdempotencyKeyReused, ValidationFailed
from services.models import IdempotencyKey

KEEP = timedelta(hours=24)
RUNNING_WAIT = "1500ms"
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock_timeout


@dataclass(frozen=True)
class IdempotentRequest:
    user_id: str
    key: str
    fingerprint: str

    @classmethod
    def of(cls, user_id: str, key: str | None, *parts: Any) -> IdempotentRequest | None:
        if key is None:
            return None
        if not 1 <= len(key) <= 255:
            raise ValidationFailed("bad Idempotency-Key", errors={"Idempotency-Key": ["1–255 characters."]})
        fingerprint = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
        return cls(user_id, key, fingerprint)


@dataclass(frozen=True)
class Replay:
    """A stored answer: the id of the resource the first request answered with."""

    resource_id: str


def _existing(session: Session, request: IdempotentRequest) -> IdempotencyKey | None:
    row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.user_id == request.user_id,
                                                      IdempotencyKey.key == request.key))
    if row is not None and row.expires_at <= clock.now():
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row.id))
        session.expunge(row)
        return None
    return row


def _replay(row: IdempotencyKey, request: IdempotentRequest) -> Replay:
    if row.fingerprint != request.fingerprint:
        raise IdempotencyKeyReused("this Idempotency-Key was used for another request")
    return Replay(row.response["id"])


def _claim(session: Session, request: IdempotentRequest) -> str | None:
    claim_id = new_id()
    values = {"id": claim_id, "user_id": request.user_id, "key": request.key, "fingerprint": request.fingerprint,
              "status_code": 0, "response": {}, "created_at": clock.now(), "expires_at": clock.now() + KEEP}
    claimed = insert_new(session, IdempotencyKey, values, key=["user_id", "key"])
    return claim_id if claimed is not None else None


def begin(session: Session, request: IdempotentRequest) -> Replay | IdempotencyKey:
    """Inside the caller's transaction: the stored answer, or a new key row to complete.

    One INSERT … ON CONFLICT DO NOTHING claims the key; only when it was taken is the row read.
    """
    claim = _begin(session, request)
    return session.get_one(IdempotencyKey, claim) if isinstance(claim, str) else claim


def _begin(session: Session, request: IdempotentRequest) -> Replay | str:
    """begin(), the claimed row's id instead of the row (run() completes it with one UPDATE, no read)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    try:
        if postgres:
            session.execute(text(f"SET LOCAL lock_timeout = '{RUNNING_WAIT}'"))
        claimed = _claim(session, request)
    except OperationalError as exc:
        # On PostgreSQL only lock_timeout means the first request is still running: a connection that
        # dropped at this, the unit of work's first statement, is an error, not a 409 to the client.
        if postgres and getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        raise Conflict("a request with this Idempotency-Key is still being processed") from exc
    if postgres:
        session.execute(text("SET LOCAL lock_timeout = 0"))
    if claimed is not None:
        return claimed
    row = _existing(session, request)
    if row is None:  # it had expired: claim it afresh
        return _begin(session, request)
    return _replay(row, request)


class Identified(Protocol):
    id: str


R = TypeVar("R", bound=Identified)


def run(session: Session, request: IdempotentRequest | None, work: Callable[[], R],
        load: Callable[[str], R]) -> R:
    """Do `work` (inside the caller's transaction) once per key; a retry gets the same resource, read
    afresh with `load`. The key remembers the resource's id, not a rendered body: rendering (and the
    status code) is the API's, after the unit of work."""
    claim = _begin(session, request) if request else None
    if isinstance(claim, Replay):
        return load(claim.resource_id)
    result = work()
    if claim is not None:
        session.execute(update(IdempotencyKey).where(IdempotencyKey.id == claim).values(response={"id": result.id}),
                        execution_options={"synchronize_session": False})
    return result
