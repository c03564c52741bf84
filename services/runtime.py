"""The process's runtime: settings, engine, sessions, calendar, storage and key caches, built once.

The HTTP app keeps one under one extension key (api/context.py); a push worker process builds its own
from the settings alone, without an HTTP app. Nothing here is module-level state: two runtimes (two
apps in one test run) never share a session factory.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from services.calendar import WorkingCalendar
from services.db import HeldReads, make_engine
from services.people.eid import JwksCache
from services.people.identity import RevocationCache, VerifiedTokens
from services.settings import Settings
from services.storage import LocalStorage, Storage


def make_storage(settings: Settings) -> Storage:
    if settings.storage_backend == "s3":
        from services.storage_s3 import S3Storage  # boto3 is loaded only when it is used

        return S3Storage(settings.s3_bucket, prefix=settings.s3_prefix, endpoint_url=settings.s3_endpoint_url,
                         region=settings.s3_region)
    return LocalStorage(settings.storage_dir)


@dataclass(eq=False)
class Runtime:
    settings: Settings
    engine: Engine
    # Sessions of units of work (workers, CLI) and the request-scoped one (one per thread).
    sessions: sessionmaker[Session]
    scoped: scoped_session[Session]
    calendar: WorkingCalendar
    storage: Storage
    jwks: JwksCache
    revocations: RevocationCache
    access_tokens: VerifiedTokens
    held_reads: HeldReads

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        engine = make_engine(settings.database_url)
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        return cls(settings=settings, engine=engine, sessions=sessions, scoped=scoped_session(sessions),
                   calendar=settings.working_calendar(), storage=make_storage(settings),
                   jwks=JwksCache(settings.eid_jwks_url, ttl=settings.eid_jwks_cache_seconds,
                                  min_refetch=settings.eid_jwks_min_refetch_seconds),
                   revocations=RevocationCache(settings.revocation_check_seconds), access_tokens=VerifiedTokens(),
                   held_reads=HeldReads(engine))

    def session(self) -> Session:
        """The current thread's session (a request's)."""
        return self.scoped()

    def bind(self, target: Engine | Any, **options: Any) -> None:
        """Point this runtime's sessions at an engine or, in tests, at one connection."""
        self.scoped.remove()
        self.sessions.configure(bind=target, **options)

    @contextmanager
    def reads(self) -> Iterator[Connection]:
        """A connection for reads outside any transaction and outside any session: the WSGI edge's
        (api/edge_reads.py), for which a session's own bookkeeping would cost more than its one SELECT.
        The thread's held connection (services.db.HeldReads); in the tests, where sessions are bound to
        one connection, that connection."""
        bind = self.sessions.kw["bind"]
        if bind is self.engine:
            with self.held_reads.connection() as connection:
                yield connection
        else:
            yield bind

    def end_session(self) -> None:
        """End the thread's session. A read-only transaction ends with COMMIT, not ROLLBACK: psycopg
        forgets its prepared statements on every ROLLBACK, so PostgreSQL would plan each query anew."""
        if self.scoped.registry.has():
            session = self.scoped()
            if session.in_transaction() and not (session.new or session.dirty or session.deleted
                                                 or session.info.pop("stray_flush", False)):
                try:
                    session.commit()
                except Exception:  # noqa: BLE001 (a failed read-only commit must not fail the response)
                    session.rollback()
        self.scoped.remove()
