"""A request whose database connection died under it (failover, restart, pg_terminate_backend), or whose
transaction the server rolled back as a deadlock's victim (services.db.transient), is run once more on a
fresh connection when that cannot do its work twice.

The server rolls back a transaction whose connection is gone, so running the request again is safe
when nothing of it had been committed: a read, or a write that failed before its COMMIT. A write that
lost its connection during or after a COMMIT may have happened; it is run again only when it carries an
Idempotency-Key (the stored answer then replays, or the claim is gone with the transaction). Otherwise,
and when the second run fails the same way, the answer is 503 with Retry-After: nothing is a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, g, request

from api.context import runtime
from services.db import transient

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _may_run_again() -> bool:
    if g.get("smartqn_replayed"):
        return False
    if request.method in SAFE_METHODS or request.headers.get("Idempotency-Key"):
        return True
    info = runtime().session().info
    return not (info.get("committing") or info.get("committed"))


def _rewind_uploads() -> None:
    for upload in request.files.values():
        upload.stream.seek(0)


def replaying(step: Callable[[], Any]) -> Any:
    try:
        return step()
    except Exception as exc:
        if not transient(exc) or not _may_run_again():
            raise
        g.smartqn_replayed = True
        runtime().end_session()  # its connection is invalidated; the next checkout is a fresh one
        _rewind_uploads()
        return step()


class ReplayingFlask(Flask):
    """Flask whose before-request hooks (the guards read the database) and views are replayed once
    after a lost connection, as the module says."""

    def preprocess_request(self) -> Any:
        return replaying(super().preprocess_request)

    def dispatch_request(self) -> Any:
        return replaying(super().dispatch_request)
