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
from functools import cache
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import Table, bindparam, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from services.clock import clock
from services.db import insert_new, new_id
from services.errors import Conflict, IdempotencyKeyReused, ValidationFailed
from services.models import IdempotencyKey

KEEP = timedelta(hours=24)
RUNNING_WAIT = "1500ms"
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock_timeout
KEY = ["user_id", "key"]


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


def _claim(session: Session, request: IdempotentRequest, resource_id: str | None) -> str | None:
    claim_id = new_id()
    values = {"id": claim_id, "user_id": request.user_id, "key": request.key, "fingerprint": request.fingerprint,
              "status_code": 0, "response": {"id": resource_id} if resource_id else {}, "created_at": clock.now(),
              "expires_at": clock.now() + KEEP}
    if session.get_bind().dialect.name == "postgresql":
        return claim_id if _claim_waiting_briefly(session, values) else None
    return claim_id if insert_new(session, IdempotencyKey, values, key=KEY) is not None else None


def _claim_waiting_briefly(session: Session, values: dict[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING that waits on a running request's claim of the key at most
    RUNNING_WAIT, in one statement: its CTE sets lock_timeout before the row is made (PostgreSQL does not
    inline a CTE that calls a volatile function, and the row is selected from it), and the inserted row's
    RETURNING sets it back to none, so the rest of the unit of work waits for locks as long as they take.
    A key that was taken returns no row and leaves the timeout set: `_begin` resets it then."""
    return session.execute(_claim_statement(tuple(values)), values).first() is not None


@cache
def _claim_statement(names: tuple[str, ...]) -> Any:
    """`_claim_waiting_briefly`'s statement, built once (building it cost more than running it)."""
    columns = IdempotencyKey.__table__.c
    wait = select(func.set_config("lock_timeout", RUNNING_WAIT, True)).cte("wait")
    row = select(*(bindparam(name, type_=columns[name].type) for name in names)).select_from(wait)
    return (postgresql_insert(cast(Table, IdempotencyKey.__table__)).from_select(list(names), row)
            .on_conflict_do_nothing(index_elements=KEY)
            .returning(func.set_config("lock_timeout", "0", True)))


def begin(session: Session, request: IdempotentRequest) -> Replay | IdempotencyKey:
    """Inside the caller's transaction: the stored answer, or a new key row to complete.

    One INSERT … ON CONFLICT DO NOTHING claims the key; only when it was taken is the row read.
    """
    claim = _begin(session, request, None)
    return session.get_one(IdempotencyKey, claim) if isinstance(claim, str) else claim


def _begin(session: Session, request: IdempotentRequest, resource_id: str | None) -> Replay | str:
    """begin(), the claimed row's id instead of the row (run() completes it with one UPDATE, no read)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    try:
        claimed = _claim(session, request, resource_id)
    except OperationalError as exc:
        # On PostgreSQL only lock_timeout means the first request is still running: a connection that
        # dropped at this, the unit of work's first statement, is an error, not a 409 to the client.
        if postgres and getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        raise Conflict("a request with this Idempotency-Key is still being processed") from exc
    if claimed is not None:
        return claimed
    if postgres:
        session.execute(text("SET LOCAL lock_timeout = 0"))
    row = _existing(session, request)
    if row is None:  # it had expired: claim it afresh
        return _begin(session, request, resource_id)
    return _replay(row, request)


class Identified(Protocol):
    id: str


R = TypeVar("R", bound=Identified)


def run(session: Session, request: IdempotentRequest | None, work: Callable[[], R],
        load: Callable[[str], R], *, resource_id: str | None = None) -> R:
    """Do `work` (inside the caller's transaction) once per key; a retry gets the same resource, read
    afresh with `load`. The key remembers the resource's id, not a rendered body: rendering (and the
    status code) is the API's, after the unit of work. `resource_id`, when the work's resource is known
    before it is done (a submit answers with its dossier), is written with the claim: no UPDATE after."""
    claim = _begin(session, request, resource_id) if request else None
    if isinstance(claim, Replay):
        return load(claim.resource_id)
    result = work()
    if claim is not None and resource_id is None:
        session.execute(update(IdempotencyKey).where(IdempotencyKey.id == claim).values(response={"id": result.id}),
                        execution_options={"synchronize_session": False})
    return result
