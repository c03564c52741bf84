"""The live-stream server: GET /api/v1/me/events and /api/v1/admin/events as Server-Sent Events.

Why a process of its own on asyncio (`flask --app wsgi events stream`, no extra dependency): a stream
is a connection held open for minutes that carries a few messages. A sync gunicorn worker per stream
would need 1,000 processes or threads for 1,000 phones; here a stream is one coroutine and a queue
(a few kilobytes), and the database sees ONE query per poll (every `stream_poll_seconds`) whatever the
number of streams: a single poller reads the event log and hands each new event only to the streams
that may see it (indexed by user, by agency). The API's gunicorn workers never hold a stream. Several
stream processes may run behind the balancer: each polls the log for itself.

- Authentication is the API's own: the bearer access token (services.people.identity) and the session
  and role revocation check, made again before each heartbeat (the guards' cache: the database at most
  once per SMARTQN_REVOCATION_CHECK_SECONDS), so a signed-out session's stream ends within about a
  heartbeat of the check seeing it; the stream ends at the token's own `exp` (the client reconnects
  with a fresh token and `Last-Event-ID`; nothing is lost).
- `Last-Event-ID` (header, or `?last_event_id=`) replays what the caller missed, up to 24 hours back,
  page by page (nothing is cut); live events the replay already sent are not sent again.
- A comment line every `stream_heartbeat_seconds` keeps proxies from closing an idle stream.
- Each stream has a bounded queue: a client that does not read fills it and is dropped; nobody else waits.
- `GET /healthz` answers 200 `{status, streams}` (compose's health check).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from services.clock import clock
from services.errors import DomainError, Forbidden, Unauthorized
from services.events import stream
from services.events.stream import Audience, Poller
from services.people.identity import Principal, verify_access_token
from services.runtime import Runtime

log = logging.getLogger("smartqn.stream")
PATHS = {"/api/v1/me/events": stream.ME, "/api/v1/admin/events": stream.ADMIN}
MAX_HEADER_BYTES = 16 * 1024
WRITE_BUFFER = 32 * 1024
STATUS_TEXT = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
               405: "Method Not Allowed", 503: "Service Unavailable"}


@dataclass(eq=False)
class Connection:
    audience: Audience
    queue: asyncio.Queue[bytes | None]
    writer: asyncio.StreamWriter | None = None
    dropped: bool = False
    replaying: bool = True
    held: list[tuple[int, bytes]] = field(default_factory=list)
    # What the replay sent: the poller may hand the same events over again (it had not reached them
    # when the replay read them, or it retries a hole), so those ids are not sent twice. After
    # GAP_SECONDS the poller hands over nothing at or below `floor` that the replay could have seen,
    # and the ids are forgotten (everything at or below the floor is skipped from then on).
    floor: int = 0
    # The client's Last-Event-ID: it has every event up to it, so a lagging poller's late hand-over of one
    # of those is never sent (the replay starts after it and cannot list it as sent).
    after: int = 0
    replayed: set[int] | None = None
    replayed_until: float = 0.0
    held_limit: int = 4096

    def offer(self, event_id: int | None, data: bytes) -> None:
        if self.dropped:
            return
        if self.replaying and event_id is not None:
            self.held.append((event_id, data))
            if len(self.held) > self.held_limit:  # the replay takes too long: the client comes back later
                self.drop()
            return
        if event_id is not None and (event_id <= self.after or (event_id <= self.floor and self._seen(event_id))):
            return
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            self.drop()

    def _seen(self, event_id: int) -> bool:
        if self.replayed is not None and time.monotonic() > self.replayed_until:
            self.replayed = None
        return self.replayed is None or event_id in self.replayed

    def replayed_up_to(self, ids: set[int]) -> None:
        """The replay is written: from now on live events it already sent are skipped."""
        self.floor = max(ids, default=0)
        self.replayed = ids
        self.replayed_until = time.monotonic() + stream.GAP_SECONDS + 5.0
        self.replaying = False
        held, self.held = self.held, []
        for event_id, message in held:
            self.offer(event_id, message)

    def drop(self) -> None:
        """A client that does not read: end its stream (it reconnects with Last-Event-ID)."""
        self.dropped = True
        if self.writer is not None:
            self.writer.transport.abort()  # its pending drain() fails now, not after a timeout
        with contextlib.suppress(asyncio.QueueEmpty):
            self.queue.get_nowait()
        self.queue.put_nowait(None)


class StreamServer:
    def __init__(self, runtime: Runtime, *, lock: Any = None) -> None:
        self.runtime, self.settings = runtime, runtime.settings
        # Tests share one database connection between threads: they pass a lock held around their own use.
        self.lock = lock or contextlib.nullcontext()
        self.by_user: dict[str, set[Connection]] = defaultdict(set)
        self.by_agency: dict[str, set[Connection]] = defaultdict(set)
        self.everything: set[Connection] = set()
        self.poller = Poller()
        self.server: asyncio.Server | None = None
        self.dropped = 0
        self.polls = 0

    @property
    def connections(self) -> int:
        return sum(len(c) for c in self.by_user.values()) + sum(len(c) for c in self.by_agency.values()) \
            + len(self.everything)

    # -- the database, in threads -------------------------------------------------------------------

    def _db(self, work: Any) -> Any:
        with self.lock:
            session = self.runtime.sessions()
            try:
                return work(session)
            finally:
                session.expunge_all()  # what was read stays readable after the session ends
                session.rollback()
                session.close()

    # -- the shared poller --------------------------------------------------------------------------

    def _targets(self, event: Any) -> Iterable[Connection]:
        yield from self.by_user.get(event.user_id, ()) if event.user_id else ()
        for agency in {event.agency_id, event.centre_id} - {None}:
            yield from self.by_agency.get(agency, ())
        if event.agency_id is not None:
            yield from self.everything

    async def poll_forever(self) -> None:
        await asyncio.to_thread(self._db, self.poller.start)
        while True:
            try:
                events = await asyncio.to_thread(self._db, self.poller.poll)
                self.polls += 1
                told: set[str] = set()
                for event in events:
                    message = stream.sse(event)
                    for conn in set(self._targets(event)):
                        if conn.audience.sees(event):
                            conn.offer(event.id, message)
                    if event.user_id in self.by_user:
                        told.add(event.user_id)
                if told:
                    counts = await asyncio.to_thread(self._db, stream.unread_counts_of(told))
                    for user_id, count in counts.items():
                        for conn in self.by_user.get(user_id, ()):
                            conn.offer(None, stream.sse_unread(count))
            except Exception:
                log.exception("stream poll failed")
                await asyncio.sleep(1.0)
            await asyncio.sleep(self.settings.stream_poll_seconds)

    # -- one connection -----------------------------------------------------------------------------

    def _register(self, conn: Connection) -> None:
        a = conn.audience
        if a.user_id is not None:
            self.by_user[a.user_id].add(conn)
        elif a.everything:
            self.everything.add(conn)
        elif a.agency_id is not None:
            self.by_agency[a.agency_id].add(conn)

    def _unregister(self, conn: Connection) -> None:
        a = conn.audience
        for index, key in ((self.by_user, a.user_id), (self.by_agency, a.agency_id)):
            if key is not None and key in index:
                index[key].discard(conn)
                if not index[key]:
                    del index[key]
        self.everything.discard(conn)

    def _authorize(self, token: str | None, kind: str) -> tuple[Principal, Audience, dict[str, int]]:
        if not token:
            raise Unauthorized("missing bearer token")
        principal = verify_access_token(token, settings=self.settings)

        def work(session: Any) -> tuple[Audience, dict[str, int]]:
            self.runtime.revocations.check(session, principal)
            if kind == stream.ADMIN and not (principal.has("official") or principal.has("admin")):
                raise Forbidden("needs the official role")
            audience = stream.audience_of(session, principal, kind)
            unread = stream.unread_counts(session, {principal.user_id}) if kind == stream.ME else {}
            return audience, unread

        audience, unread = self._db(work)
        return principal, audience, unread

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._handle(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        if len(head) > MAX_HEADER_BYTES:
            return await self._problem(writer, 400, "bad_request", "headers too large")
        lines = head.decode("latin-1").split("\r\n")
        method, target, *_ = (lines[0].split(" ") + ["", ""])[:3]
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        url = urlsplit(target)
        if url.path == "/healthz" and method in ("GET", "HEAD"):  # the container's health probe
            body = json.dumps({"status": "ok", "streams": self.connections}).encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                         + (body if method == "GET" else b""))
            return await writer.drain()
        kind = PATHS.get(url.path)
        if kind is None:
            return await self._problem(writer, 404, "not_found", "no such stream")
        if method != "GET":
            return await self._problem(writer, 405, "method_not_allowed", "GET only")
        scheme, _, token = headers.get("authorization", "").partition(" ")
        try:
            principal, audience, unread = await asyncio.to_thread(
                self._authorize, token.strip() if scheme.lower() == "bearer" else None, kind)
        except DomainError as exc:
            status = {"unauthorized": 401, "forbidden": 403, "not_found": 404}.get(exc.code, 400)
            return await self._problem(writer, status, exc.code, str(exc))
        query = parse_qs(url.query)
        after = stream.last_event_id(headers.get("last-event-id") or (query.get("last_event_id") or [""])[0])
        conn = Connection(audience, asyncio.Queue(self.settings.stream_queue_size), writer, after=after or 0)
        # Little is buffered per stream (1,000 of them): a client that stops reading is noticed soon.
        writer.transport.set_write_buffer_limits(high=WRITE_BUFFER)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, WRITE_BUFFER)
        self._register(conn)  # live events wait in `held` while the replay is read
        try:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
                         b"Cache-Control: no-store\r\nX-Accel-Buffering: no\r\nConnection: close\r\n\r\n"
                         + stream.RETRY)
            sent: set[int] = set()
            cursor, now = after, clock.now()
            while cursor is not None:  # page by page, each written out before the next is read
                page = await asyncio.to_thread(self._db, lambda s, a=cursor: stream.replay(
                    s, audience, a, now=now, hours=self.settings.stream_replay_hours))
                for event in page:
                    writer.write(stream.sse(event))
                    sent.add(event.id)
                await asyncio.wait_for(writer.drain(), timeout=self.settings.stream_heartbeat_seconds * 2)
                cursor = page[-1].id if len(page) >= stream.REPLAY_PAGE else None
            for count in unread.values():
                writer.write(stream.sse_unread(count))
            conn.replayed_up_to(sent)
            await asyncio.wait_for(writer.drain(), timeout=self.settings.stream_heartbeat_seconds)
            await self._pump(conn, writer, principal)
        finally:
            self._unregister(conn)
            if conn.dropped:
                self.dropped += 1

    def _lifetime(self, principal: Principal) -> float:
        """Seconds until the access token expires (its own `exp`, not a fresh TTL from connecting)."""
        if principal.expires_at is None:
            return float(self.settings.access_token_ttl)
        return principal.expires_at - clock.now().timestamp()

    def _still_signed_in(self, principal: Principal) -> bool:
        """The guards' revocation check (a session ended by logout or reuse, a role taken away): read
        from the shared cache, from the database at most once per SMARTQN_REVOCATION_CHECK_SECONDS."""
        try:
            self._db(lambda session: self.runtime.revocations.check(session, principal))
        except Unauthorized:
            return False
        return True

    async def _pump(self, conn: Connection, writer: asyncio.StreamWriter, principal: Principal) -> None:
        beat = self.settings.stream_heartbeat_seconds
        ends = time.monotonic() + self._lifetime(principal)
        check_at = time.monotonic() + beat
        while (left := ends - time.monotonic()) > 0:
            try:
                message = await asyncio.wait_for(conn.queue.get(), timeout=min(beat, left))
            except TimeoutError:
                if time.monotonic() >= ends:
                    return  # the token expired: the client reconnects with a fresh one and Last-Event-ID
                message = stream.HEARTBEAT
            if message is None:  # dropped: too slow
                return
            if time.monotonic() >= check_at:  # once per heartbeat interval, busy stream or idle
                if not await asyncio.to_thread(self._still_signed_in, principal):
                    return  # signed out, or the role withdrawn, since the stream began
                check_at = time.monotonic() + beat
            writer.write(message)
            # A client that stopped reading fills the socket; its queue then fills and the poller drops it.
            await asyncio.wait_for(writer.drain(), timeout=self.settings.stream_heartbeat_seconds * 2)

    async def _problem(self, writer: asyncio.StreamWriter, status: int, code: str, detail: str) -> None:
        body = json.dumps({"type": "about:blank", "title": STATUS_TEXT.get(status, "Error"), "status": status,
                           "detail": detail, "code": code, "request_id": ""}).encode()
        extra = "WWW-Authenticate: Bearer\r\n" if status == 401 else ""
        writer.write(f"HTTP/1.1 {status} {STATUS_TEXT.get(status, 'Error')}\r\n"
                     f"Content-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n{extra}"
                     "Connection: close\r\n\r\n".encode() + body)
        await writer.drain()

    # -- serving --------------------------------------------------------------------------------------

    async def start(self, host: str, port: int) -> asyncio.Server:
        self.server = await asyncio.start_server(self.handle, host, port, limit=MAX_HEADER_BYTES, backlog=2048)
        self._poll_task = asyncio.create_task(self.poll_forever())
        return self.server

    async def serve(self, host: str, port: int) -> None:
        server = await self.start(host, port)
        log.info("stream server listening", extra={"host": host, "port": port})
        async with server:
            await server.serve_forever()


def serve(runtime: Runtime, host: str, port: int) -> None:
    asyncio.run(StreamServer(runtime).serve(host, port))

