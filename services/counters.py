"""Gap-free numbers allocated in the database (dossier codes, receipts), never by a process lock.

The counter row is locked by the UPDATE until the transaction ends, so concurrent allocations on any
number of servers queue on it, and a rolled-back transaction gives its number back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.errors import Conflict


def next_number(session: Session, counter: Any, **key: Any) -> int:
    """The next number of the counter row identified by `key` (created at 1 when missing)."""
    for _ in range(2):
        last = session.execute(
            update(counter).where(*(getattr(counter, name) == value for name, value in key.items()))
            .values(last=counter.last + 1).returning(counter.last)
        ).scalar()
        if last is not None:
            return last
        try:
            with session.begin_nested():
                session.add(counter(**key, last=1))
            return 1
        except IntegrityError:
            continue  # another transaction created the row first; take the next number from it
    raise Conflict("could not allocate a number")
