"""What the live streams read (GET /api/v1/me/events, /api/v1/admin/events): whose events a caller
may see, the replay after a disconnect, the shared poll of the log, and the SSE wire format.

Every stream server polls the log on its own (one query per poll for all its connections), so any
number of them work behind a balancer with no other coordination, on PostgreSQL and on SQLite.

Ids come from a sequence, and on PostgreSQL a transaction that took id 10 may commit after one that
took 11: a poll that only asked for ids above the highest seen would lose 10. The `Poller` keeps
such holes and asks for them again for `GAP_SECONDS` (a transaction that holds its id longer, or
rolled back, leaves a hole that is then forgotten).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from services.errors import NotFound
from services.events.log import payload
from services.models import Agency, Event, User
from services.people.identity import Principal

GAP_SECONDS = 30.0
POLL_LIMIT = 1000
REPLAY_PAGE = 500  # the replay is read and written in pages of this many, however long it is
ME, ADMIN = "me", "admin"


@dataclass(frozen=True)
class Audience:
    """Whose events a stream shows: one citizen's (`user_id`), an agency's queue (`agency_id`: the
    dossiers it decides or received), or every agency's (an admin)."""

    user_id: str | None = None
    agency_id: str | None = None
    everything: bool = False

    def sees(self, event: Event) -> bool:
        if self.user_id is not None:
            return event.user_id == self.user_id
        if self.everything:
            return event.agency_id is not None
        return self.agency_id is not None and self.agency_id in (event.agency_id, event.centre_id)

    def where(self) -> Any:
        if self.user_id is not None:
            return Event.user_id == self.user_id
        if self.everything:
            return Event.agency_id.is_not(None)
        return or_(Event.agency_id == self.agency_id, Event.centre_id == self.agency_id)


def audience_of(session: Session, principal: Principal, stream: str) -> Audience:
    """The citizen's own stream, or the official's agency (an admin: every agency)."""
    if stream == ME:
        return Audience(user_id=principal.user_id)
    if principal.has("admin"):
        return Audience(everything=True)
    agency_id = session.scalar(select(Agency.id).where(Agency.code == principal.agency_code)) \
        if principal.agency_code else None
    if agency_id is None:
        raise NotFound("no agency for this official")
    return Audience(agency_id=agency_id)


def replay(session: Session, audience: Audience, after: int, *, now: datetime, hours: float,
           limit: int | None = None) -> list[Event]:
    """One page of what the caller missed since event `after`, within the replay window, oldest first.
    A full page means there may be more: ask again after its last id (`replay_pages`)."""
    return list(session.scalars(select(Event).where(audience.where(), Event.id > after,
                                                    Event.occurred_at >= now - timedelta(hours=hours))
                                .order_by(Event.id).limit(limit or REPLAY_PAGE)))


def replay_pages(session: Session, audience: Audience, after: int, *, now: datetime, hours: float) -> Any:
    """Every page of the replay in turn (nothing is cut: a client away for a busy day gets all of it)."""
    while True:
        page = replay(session, audience, after, now=now, hours=hours)
        if page:
            yield page
        if len(page) < REPLAY_PAGE:
            return
        after = page[-1].id


def unread_counts(session: Session, user_ids: set[str]) -> dict[str, int]:
    if not user_ids:
        return {}
    counts = dict(session.execute(select(User.id, User.unread_count).where(User.id.in_(user_ids))).all())
    return {u: int(counts.get(u, 0)) for u in user_ids}


def unread_counts_of(user_ids: set[str]) -> Any:
    """unread_counts for these users, as a function of the session (to run in a thread)."""
    return lambda session: unread_counts(session, set(user_ids))


def last_event_id(value: str | None) -> int | None:
    """The Last-Event-ID header (or `last_event_id` query) as an id; anything else as none given."""
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 19 else None


@dataclass
class Poller:
    """New events since the last poll, including late commits into earlier holes (see the module)."""

    high: int = 0
    gaps: dict[int, float] = field(default_factory=dict)  # id → when first missed (monotonic)

    def start(self, session: Session) -> None:
        self.high = session.scalar(select(func.max(Event.id))) or 0

    def poll(self, session: Session) -> list[Event]:
        now = time.monotonic()
        self.gaps = {i: t for i, t in self.gaps.items() if now - t < GAP_SECONDS}
        condition = Event.id > self.high
        if self.gaps:
            condition = or_(condition, Event.id.in_(list(self.gaps)))
        events = list(session.scalars(select(Event).where(condition).order_by(Event.id).limit(POLL_LIMIT)))
        for event in events:
            self.gaps.pop(event.id, None)
            if event.id > self.high:
                self.gaps.update({i: now for i in range(max(self.high + 1, event.id - 1000), event.id)})
                self.high = event.id
        return events


def sse(event: Event) -> bytes:
    """One message: `id`, `event` (the type) and `data` (the same JSON a webhook gets)."""
    body = json.dumps(payload(event), ensure_ascii=False, separators=(",", ":"))
    return f"id: {event.id}\nevent: {event.type}\ndata: {body}\n\n".encode()


def sse_unread(count: int) -> bytes:
    return f"event: unread_count\ndata: {json.dumps({'unread_count': count})}\n\n".encode()


HEARTBEAT = b": heartbeat\n\n"
RETRY = b"retry: 3000\n\n"


def follow(sessions: Any, audience: Audience, after: int | None, *, unread_of: str | None, now: datetime,
           replay_hours: float, poll_seconds: float, heartbeat_seconds: float, seconds: float) -> Any:
    """A whole stream as a blocking generator of SSE bytes, for `make run` and tests (one thread per
    stream: production serves the streams from the asyncio server, api/stream.py). It ends after
    `seconds`; the client reconnects with Last-Event-ID, as after any disconnect."""
    session: Session = sessions()
    try:
        poller = Poller()
        poller.start(session)
        yield RETRY
        replayed: set[int] = set()
        if after is not None:
            for page in replay_pages(session, audience, after, now=now, hours=replay_hours):
                for event in page:
                    replayed.add(event.id)
                    yield sse(event)
        if unread_of is not None:
            yield sse_unread(unread_counts(session, {unread_of})[unread_of])
        session.rollback()
        ends, beat = time.monotonic() + seconds, time.monotonic()
        while time.monotonic() < ends:
            mine = [e for e in poller.poll(session) if audience.sees(e) and e.id not in replayed]
            session.expunge_all()
            session.rollback()
            for event in mine:
                yield sse(event)
            if mine and unread_of is not None:
                yield sse_unread(unread_counts(session, {unread_of})[unread_of])
                session.rollback()
            if time.monotonic() - beat >= heartbeat_seconds:
                beat = time.monotonic()
                yield HEARTBEAT
            time.sleep(poll_seconds)
    finally:
        session.close()
