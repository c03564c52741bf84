"""Dependency checks for the readiness probe."""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


def database_ok(session: Session, *, attempts: int = 2) -> bool:
    """The database answers. A failure is tried once more on a fresh connection: a connection that died
    in the pool (a restart, a failover) is released by the rollback, and the next query checks out or
    opens another, so only a database that fails twice in a row makes the instance unready."""
    for attempt in range(1, attempts + 1):
        try:
            session.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            log.warning("readiness: database check failed (attempt %d of %d)", attempt, attempts, exc_info=True)
            session.rollback()
    return False
