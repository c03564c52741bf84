"""The collector of stored bytes that nothing refers to any more.

A stored file (services.storage, by content hash) may be referred to by dossier attachments, wallet
items, and whatever else has a foreign key to `stored_files.sha256`: the references are read from the
models' metadata, so a table added later is counted without changing this module. A file is collected
when no row refers to it and it is older than a grace period; its row is deleted first (the statement
checks again that nothing refers to it) and its bytes after the commit, on the local disk or in S3
alike (only `Storage.delete` is used), so a rollback never loses bytes a row points to.

One window is left: an upload of exactly the bytes being collected, whose storage write finds them
present a moment before the collector deletes them and whose row commits a moment after, would point
at bytes that are gone. Run the collector at a quiet hour (it is a nightly job, not a request path);
the grace period keeps every file first stored recently. `Chore` is that nightly job as one of the
notifications worker's periodic chores (api.push): each worker runs it at most once per period, within
a window of local hours; several workers at once are safe (PostgreSQL hands each its own rows with
SKIP LOCKED, the DELETE checks again that nothing refers to a file, and only the worker whose DELETE
removed a row deletes its bytes).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Column, and_, delete, exists, func, select
from sqlalchemy.orm import Session

from services.calendar import TZ, in_window
from services.clock import clock
from services.db import Base, transaction
from services.models import StoredFile
from services.storage import Storage

GRACE = timedelta(hours=1)
log = logging.getLogger(__name__)


def reference_columns() -> list[Column[Any]]:
    """Every column with a foreign key to stored_files.sha256."""
    found = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == StoredFile.__tablename__ and fk.column.name == "sha256":
                found.append(fk.parent)
    return found


def unreferenced() -> Any:
    """The condition "no row refers to this stored file"."""
    return and_(*[~exists().where(column == StoredFile.sha256) for column in reference_columns()])


def still_referenced(session: Session, sha256: str) -> bool:
    return session.scalar(select(StoredFile.sha256).where(StoredFile.sha256 == sha256, unreferenced())) is None


@dataclass(frozen=True)
class Collected:
    files: int
    bytes: int


def collect(session: Session, storage: Storage, *, grace: timedelta = GRACE, batch: int = 500) -> Collected:
    """Delete every stored file with no reference, in batches; returns what was freed."""
    files = size = 0
    while True:
        with transaction(session):
            cutoff = clock.now() - grace
            candidates = select(StoredFile.sha256).where(StoredFile.created_at < cutoff, unreferenced()).limit(batch)
            if session.get_bind().dialect.name == "postgresql":
                candidates = candidates.with_for_update(skip_locked=True)
            shas = list(session.scalars(candidates))
            if not shas:
                break
            gone = session.execute(delete(StoredFile).where(StoredFile.sha256.in_(shas), unreferenced())
                                   .returning(StoredFile.sha256, StoredFile.size)).all()
        # After the commit; bytes stored again meanwhile (a row is back for them) are left alone.
        with transaction(session):
            back = set(session.scalars(select(StoredFile.sha256)
                                       .where(StoredFile.sha256.in_([g[0] for g in gone]))))
        for sha256, blob_size in gone:
            if sha256 in back:
                continue
            storage.delete(sha256)
            files, size = files + 1, size + blob_size
        if len(shas) < batch:
            break
    return Collected(files, size)


def stored_total(session: Session) -> Collected:
    """How many stored files there are and their bytes (each content once)."""
    n, total = session.execute(select(func.count(), func.coalesce(func.sum(StoredFile.size), 0))).one()
    return Collected(int(n), int(total))


class Chore:
    """`collect` as a worker's periodic chore: at most once per `every` (by the service clock) and only
    while the local time is within `window`; returns the files freed (0 when not due)."""

    __name__ = "collect_stored_files"

    def __init__(self, storage: Storage, *, every: timedelta, window: tuple[time, time] | None,
                 grace: timedelta = GRACE) -> None:
        self.storage, self.every, self.window, self.grace = storage, every, window, grace
        self.last: datetime | None = None

    def due(self, now: datetime) -> bool:
        return ((self.last is None or now - self.last >= self.every)
                and in_window(self.window, now.astimezone(TZ).time()))

    def __call__(self, session: Session) -> int:
        now = clock.now()
        if not self.due(now):
            return 0
        freed = collect(session, self.storage, grace=self.grace)
        self.last = now  # after a success: a failed run is tried again at the next period
        log.info("stored files collected", extra={"files": freed.files, "bytes": freed.bytes})
        return freed.files
