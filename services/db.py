"""Base, column types, the engine and the transaction() helper (sessions live in services.runtime)."""

from __future__ import annotations

import contextlib
import functools
import select
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import (
    Connection,
    CursorResult,
    DateTime,
    Dialect,
    Engine,
    MetaData,
    Result,
    Select,
    String,
    create_engine,
    event,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import BigInteger, TypeDecorator

RECYCLE_SECONDS = 1800  # a connection's age at which it is replaced, before servers or proxies drop it

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes on every backend: stored as UTC, read back as aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StrEnumColumn(TypeDecorator[StrEnum]):
    """A vocabulary word (vocab.py) stored as its plain string: a value outside the enum is refused
    before it reaches the database, and rows read back as the enum."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: Any, dialect: Any) -> StrEnum | None:
        return None if value is None else self.enum(value)


class epoch_seconds(FunctionElement[int]):  # noqa: N801 (an SQL function, named like one)
    """Whole seconds since 1970 of a UTCDateTime column, on PostgreSQL and on SQLite."""

    type = BigInteger()
    inherit_cache = True


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    return f"CAST(floor(extract(epoch from {compiler.process(element.clauses, **kw)})) AS BIGINT)"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    # SQLite keeps the UTC value as text; strftime('%s') reads it as UTC and drops the fraction.
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE touched (session.execute types its result as a plain Result)."""
    return cast(CursorResult[Any], result).rowcount or 0


def dialect_insert(session: Session) -> Any:
    """The session's dialect's INSERT construct: the one with ON CONFLICT (PostgreSQL and SQLite alike)."""
    return postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def insert_new(session: Session, model: Any, values: dict[str, Any], *, key: list[str]) -> Any:
    """INSERT … ON CONFLICT (key) DO NOTHING RETURNING the key's first column: its value when this call
    inserted the row, None when the row was there (or another transaction was inserting it), on
    PostgreSQL and SQLite alike. A race on a unique key is then an answer, not an IntegrityError."""
    stmt = dialect_insert(session)(model).values(**values).on_conflict_do_nothing(index_elements=key)
    return session.execute(stmt.returning(getattr(model, key[0]))).scalar()


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


class IdMixin:
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _make_sqlite_transactional(engine)
        return engine
    # Connections are recycled before servers or proxies drop them, and one the server closed meanwhile
    # is replaced at checkout (below) without a round trip; pool_pre_ping would cost one per request.
    kwargs.setdefault("pool_recycle", RECYCLE_SECONDS)
    kwargs.setdefault("pool_size", 10)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "checkout", _replace_if_closed_by_server)
    return engine


def _replace_if_closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """DisconnectionError makes the pool discard a connection the server closed and check out or open
    another."""
    if closed_by_server(dbapi_connection):
        raise DisconnectionError("the server closed the connection")


def closed_by_server(dbapi_connection: Any) -> bool:
    """A connection that PostgreSQL closed (pg_terminate_backend, a restart, a switchover) has the
    server's FATAL message and end of stream waiting on its socket, while a live idle one has nothing to
    read: one poll() with no wait tells them apart, with no round trip. A stray ParameterStatus or NOTICE
    on an idle connection only costs a reconnect."""
    if getattr(dbapi_connection, "closed", False):
        return True
    pgconn = getattr(dbapi_connection, "pgconn", None)  # psycopg 3; other drivers are not checked
    if pgconn is None:
        return False
    try:
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN)
    except Exception:  # noqa: BLE001 (libpq has no socket: the connection is bad)
        return True
    return bool(poller.poll(0))


class HeldReads:
    """One connection per thread, held in autocommit between requests, for the WSGI edge's one-statement
    reads (services.runtime.Runtime.reads): checking a connection out of the pool and back in, and
    switching its isolation level both ways, cost a third of such a read. A held connection the server
    closed is replaced before use (the same poll as the pool's checkout), one that failed under a read is
    dropped, one older than the pool's recycle age is replaced, and the engine's dispose() closes them all."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._local = threading.local()
        self._all: set[Connection] = set()
        self._lock = threading.Lock()
        event.listen(engine, "engine_disposed", lambda _engine: self.close())

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        held: tuple[Connection, float] | None = getattr(self._local, "held", None)
        if held is not None and (time.monotonic() - held[1] > RECYCLE_SECONDS or held[0].closed
                                 or closed_by_server(held[0].connection.dbapi_connection)):
            self._drop(held[0])
            held = None
        if held is None:
            connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            if connection.dialect.name == "postgresql":  # timestamps come back in UTC, as as_utc wants them
                connection.exec_driver_sql("SET TimeZone TO 'UTC'")
            held = self._local.held = (connection, time.monotonic())
            with self._lock:
                self._all.add(connection)
        try:
            yield held[0]
        except BaseException:
            self._drop(held[0])
            raise

    def _drop(self, connection: Connection) -> None:
        self._local.held = None
        with self._lock:
            self._all.discard(connection)
        _invalidate(connection)

    def close(self) -> None:
        with self._lock:
            held, self._all = self._all, set()
        for connection in held:
            _invalidate(connection)


def _invalidate(connection: Connection) -> None:
    with contextlib.suppress(Exception):  # a broken connection may fail even to close; it is gone either way
        connection.invalidate()


def _make_sqlite_transactional(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN itself.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front: two transactions that read and then write would
        # otherwise deadlock ("database is locked") instead of one waiting for the other. SQLite
        # is the single-machine default; PostgreSQL runs transactions concurrently with row locks.
        # Reads outside a transaction (autocommit_reads) take no lock at all.
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            conn.exec_driver_sql("BEGIN IMMEDIATE")


@event.listens_for(Session, "after_flush")
def _note_stray_flush(session: Session, _context: Any) -> None:
    # A flush outside transaction() is a write nobody meant to commit: end that request by rollback.
    if not session.info.get("tx_depth"):
        session.info["stray_flush"] = True


def as_utc(moment: datetime | None) -> datetime | None:
    """As UTCDateTime reads a value back, whichever way its row was read (`fetch_rows`)."""
    return None if moment is None else utc(moment)


def utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


def fetch_rows(session: Session | Connection, stmt: Select[Any], params: dict[str, Any]) -> Sequence[Any]:
    """The rows of a SELECT built once: through SQLAlchemy on a session; on a bare connection (the WSGI
    edge's) on PostgreSQL, straight on psycopg, for the hottest reads, where SQLAlchemy's per-execution
    work (result metadata, the driver's column descriptions, a processor per value) cost as much as the
    statement. Its values must need no conversion by SQLAlchemy (strings, numbers, aware datetimes,
    vocabulary words), and the driver's rows come back as psycopg makes them (timestamps in the session's
    time zone, words as plain strings): the caller normalises what it shows or compares
    (services.dossiers.glimpse.glimpses, services.notices.inbox.page). Other databases go through
    SQLAlchemy."""
    if isinstance(session, Session) or session.dialect.name != "postgresql":
        return session.execute(stmt, params).all()
    connection = session
    sql, defaults = _driver_sql(stmt, connection.dialect)
    try:
        return cast(Any, connection.connection.driver_connection).execute(
            sql, {**defaults, **params}, prepare=True).fetchall()
    except Exception:
        connection.invalidate()  # as SQLAlchemy does with a connection that failed under it
        raise


@functools.lru_cache(maxsize=64)
def _driver_sql(stmt: Select[Any], dialect: Dialect) -> tuple[str, dict[str, Any]]:
    compiled = stmt.compile(dialect=dialect)
    # The values written in the statement (a status to match); the caller's go on top at each run.
    return str(compiled), {compiled.bind_names[bind]: bind.effective_value
                           for bind in compiled.binds.values() if not bind.required}


def lost_connection(exc: BaseException) -> bool:
    """The database connection went away under a statement (failover, restart, termination)."""
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


ROLLED_BACK = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure


def transient(exc: BaseException) -> bool:
    """A statement failed for a reason of the moment, and its transaction was rolled back: the connection was
    lost, or the server chose this transaction as a deadlock's victim. Running the work again is then safe
    (nothing of it was kept) and likely to succeed. Our writers lock in one order (counters, then people,
    services.notices.inbox), so a deadlock is a bug; this keeps one from being a 500."""
    return lost_connection(exc) or (isinstance(exc, DBAPIError)
                                    and getattr(exc.orig, "sqlstate", None) in ROLLED_BACK)


READS_ONLY = "smartqn.reads_only"


def autocommit_reads(session: Session) -> None:
    """Run this session's statements outside any transaction until it ends: a read of one statement is one
    round trip, with no BEGIN and no COMMIT (under READ COMMITTED each statement sees its own snapshot
    either way). For requests that only read: `transaction` refuses to start a unit of work on such a
    session. A session already in a transaction, or bound to one connection (the tests' rolled-back
    transaction), keeps its transaction."""
    session.info[READS_ONLY] = True
    if not session.in_transaction() and isinstance(session.get_bind(), Engine):
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """One unit of work: commit at the end of the outermost block, roll back on any error.

    Re-entrant, so a service may call another service and still commit once.
    """
    if session.info.get(READS_ONLY):
        raise RuntimeError("a unit of work on a session that autocommits its reads (services.db.autocommit_reads)")
    depth = session.info.get("tx_depth", 0)
    session.info["tx_depth"] = depth + 1
    try:
        yield session
        if depth == 0:
            # Whether a lost connection could have taken a COMMIT with it (api/replay.py asks).
            session.info["committing"] = True
            session.commit()
            session.info["committing"] = False
            session.info["committed"] = True
    except BaseException:
        if depth == 0:
            session.rollback()
        raise
    finally:
        session.info["tx_depth"] = depth
