"""Idempotency-Key: the first response of a request is stored per user and replayed for retries.

The key's row is written in the same transaction as the work it guards, so either both exist or
neither does. A retry that arrives while the first request is still running waits for the key's
row lock briefly (PostgreSQL), then answers 409; SQLite serializes writers, so the retry simply
waits and replays.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from services.clock import clock
from services.errors import Conflict, IdempotencyKeyReused, ValidationFailed
from services.models import IdempotencyKey

KEEP = timedelta(hours=24)
RUNNING_WAIT = "1500ms"


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
    status: int
    body: dict[str, Any]


def _existing(session: Session, request: IdempotentRequest) -> IdempotencyKey | None:
    row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.user_id == request.user_id,
                                                      IdempotencyKey.key == request.key))
    if row is not None and row.expires_at <= clock.now():
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row.id))
        return None
    return row


def _replay(row: IdempotencyKey, request: IdempotentRequest) -> Replay:
    if row.fingerprint != request.fingerprint:
        raise IdempotencyKeyReused("this Idempotency-Key was used for another request")
    return Replay(row.status_code, row.response)


def begin(session: Session, request: IdempotentRequest) -> Replay | IdempotencyKey:
    """Inside the caller's transaction: the stored answer, or a new key row to complete."""
    row = _existing(session, request)
    if row is not None:
        return _replay(row, request)
    claim = IdempotencyKey(user_id=request.user_id, key=request.key, fingerprint=request.fingerprint,
                           status_code=0, response={}, expires_at=clock.now() + KEEP)
    postgres = session.get_bind().dialect.name == "postgresql"
    try:
        with session.begin_nested():
            if postgres:
                session.execute(text(f"SET LOCAL lock_timeout = '{RUNNING_WAIT}'"))
            session.add(claim)
            session.flush()
    except IntegrityError:
        # The first request committed meanwhile: answer what it answered.
        row = _existing(session, request)
        if row is None:
            raise
        return _replay(row, request)
    except OperationalError as exc:  # lock_timeout: the first request is still running
        raise Conflict("a request with this Idempotency-Key is still being processed") from exc
    finally:
        if postgres:
            session.execute(text("SET LOCAL lock_timeout = 0"))
    return claim


def complete(claim: IdempotencyKey, status: int, body: dict[str, Any]) -> None:
    claim.status_code, claim.response = status, body
