"""Stored files' rows: the bytes go to storage (services.storage) first, then their `stored_files` row
joins the caller's transaction. A file this call created is removed again when that transaction fails,
unless another transaction has meanwhile recorded the same bytes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy.orm import Session

from services.clock import clock
from services.db import transaction
from services.models import StoredFile
from services.rows import Row, statement
from services.storage import Blob, Storage

T = TypeVar("T")


def record(session: Session, blob: Blob, *, at: datetime | None = None) -> None:
    """The blob's row, an upsert: twenty phones sending the same file at once all find the one row."""
    session.execute(statement(session, row(blob, at=at)))


def row(blob: Blob, *, at: datetime | None = None) -> Row:
    """`record`'s row (INSERT … ON CONFLICT DO NOTHING), for a caller that writes it with other rows (a desk
    document's file, with its move's notices: services.notices.inbox.notify_all)."""
    return Row(StoredFile, {"sha256": blob.sha256, "size": blob.size, "content_type": blob.content_type,
                            "created_at": at or clock.now()}, conflict=("sha256",))


def store_then(session: Session, storage: Storage, blobs: Sequence[Blob], write: Callable[[], T]) -> T:
    """The blobs' rows and `write`'s in one transaction; the bytes this call put are deleted if it fails."""
    try:
        with transaction(session):
            for blob in blobs:
                record(session, blob)
            return write()
    except BaseException:
        for blob in blobs:
            if blob.created and session.get(StoredFile, blob.sha256) is None:
                storage.delete(blob.sha256)
        raise
