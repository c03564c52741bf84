"""Gap-free numbers allocated in the database (dossier codes, receipts), never by a process lock.

The counter row is locked by the UPDATE until the transaction ends, so concurrent allocations on any
number of servers queue on it, and a rolled-back transaction gives its number back.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from services.db import insert_new
from services.errors import Conflict


def next_number(session: Session, counter: Any, **key: Any) -> int:
    """The next number of the counter row identified by `key` (its primary key; created at 1 when missing)."""
    with session.no_autoflush:  # a number reads nothing the unit of work changed: its rows are written once, later
        for _ in range(2):
            last = session.execute(_bump(counter, tuple(key)), {f"key_{k}": v for k, v in key.items()}).scalar()
            if last is not None:
                return last
            if insert_new(session, counter, {**key, "last": 1}, key=list(key)) is not None:
                return 1
            # Another transaction created the row first (ON CONFLICT waited for it): take the next number from it.
    raise Conflict("could not allocate a number")


@cache
def _bump(counter: Any, names: tuple[str, ...]) -> Any:
    """`UPDATE … SET last = last + 1 … RETURNING last` for one counter table, built once (every submit and
    every issued form runs one)."""
    table = counter.__table__
    return (update(table).where(*(table.c[name] == bindparam(f"key_{name}") for name in names))
            .values(last=table.c.last + 1).returning(table.c.last))
