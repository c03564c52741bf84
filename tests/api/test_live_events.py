"""Live updates over Server-Sent Events (issue 15): the asyncio stream server (api/stream.py) and the
Flask endpoints of `make run`: own events only, the agency's queue, Last-Event-ID replay, heartbeats,
and a client that never reads dropped without holding anyone else up."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from api.context import state_of
from api.stream import StreamServer
from services.clock import clock
from services.events import log as events
from services.models import Event, User
from tests.dossier_helpers import FEE, act, official_of, submitted
from tests.event_helpers import SseClient
from tests.helpers import CITIZEN, OFFICIAL, OTHER, bearer, sign_in

ME, AGENCY = "/api/v1/me/events", "/api/v1/admin/events"
ELSEWHERE = {**OFFICIAL, "cccd": "048078009999", "full_name": "Lê Văn Khác"}


@dataclass
class Live:
    server: StreamServer
    port: int
    lock: threading.Lock

    def open(self, tokens: dict | None, path: str = ME, **kwargs) -> SseClient:
        return SseClient(self.port, path, tokens["access_token"] if tokens else None, **kwargs)


@pytest.fixture
def live(app, session) -> Iterator[Live]:
    """The stream server in a thread of its own, on the test's connection: the test holds `lock`
    around its own database work so that the two never use the connection at once."""
    lock = threading.Lock()
    runtime = state_of(app).runtime
    server = StreamServer(runtime, lock=lock)
    server.settings = dataclasses.replace(runtime.settings, stream_heartbeat_seconds=1.0, stream_queue_size=8,
                                          stream_poll_seconds=0.05)
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start("127.0.0.1", 0))
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(5)
    assert server.server is not None
    yield Live(server, server.server.sockets[0].getsockname()[1], lock)

    async def stop() -> None:
        server._poll_task.cancel()
        assert server.server is not None
        server.server.close()
        tasks = asyncio.all_tasks() - {asyncio.current_task()}
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run_coroutine_threadsafe(stop(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    with lock:  # a poll still running in the executor finishes before the test's rollback
        pass


def dossier_events(client: SseClient, timeout: float = 3.0) -> list:
    found = []
    while (m := client.next(timeout)) is not None:
        if m.event != "unread_count":
            found.append(m)
        timeout = 0.5
    return found


def test_a_citizen_sees_their_own_dossiers_and_nothing_of_another_person(client, session, live):
    with live.lock:
        me, other = sign_in(client), sign_in(client, OTHER)
    mine, theirs = live.open(me), live.open(other)
    try:
        assert mine.status == 200 and mine.headers["content-type"].startswith("text/event-stream")
        assert mine.next(2).data == {"unread_count": 0}
        started = time.monotonic()
        with live.lock:
            dossier = submitted(client, me)
        message = mine.until(lambda m: m.event == "dossier.submitted", 3)
        assert message is not None and time.monotonic() - started < 2
        assert message.data["data"]["dossier_id"] == dossier["id"] and message.id == message.data["id"]
        assert mine.until(lambda m: m.event == "unread_count", 2).data["unread_count"] == 1
        assert theirs.next(2).data == {"unread_count": 0}
        assert dossier_events(theirs, 1.5) == []  # heartbeats only
    finally:
        mine.close()
        theirs.close()


def test_an_official_sees_their_agency_queue_only(client, session, live):
    with live.lock:
        citizen = sign_in(client)
        official = official_of(client, session)  # SIMPLE's agency
        elsewhere = official_of(client, session, FEE["agency"], ELSEWHERE)
    queue, other_queue = live.open(official, AGENCY), live.open(elsewhere, AGENCY)
    try:
        with live.lock:
            dossier = submitted(client, citizen)
            act(client, official, dossier["id"], "receive")
        got = [m.event for m in dossier_events(queue)]
        assert got == ["dossier.submitted", "dossier.status_changed"]
        assert dossier_events(other_queue, 1.0) == []
    finally:
        queue.close()
        other_queue.close()


def test_last_event_id_replays_what_was_missed(client, session, live):
    with live.lock:
        me = sign_in(client)
        official = official_of(client, session)
        dossier = submitted(client, me)
        first = session.scalar(select(Event.id).where(Event.resource_id == dossier["id"]))
        for action in ("receive", "start_processing"):
            act(client, official, dossier["id"], action)
    stream = live.open(me, last_event_id=str(first))
    try:
        replayed = dossier_events(stream)
        assert [m.data["data"]["status"] for m in replayed] == ["received", "in_progress"]
        assert [int(m.id) for m in replayed] == sorted(int(m.id) for m in replayed) and int(replayed[0].id) > first
    finally:
        stream.close()


def record_mine(session, user_id: str, count: int, prefix: str = "replay") -> list[int]:
    found = [events.record(session, "dossier.status_changed", "dossier", f"{prefix}-{i}", {"i": i}, sequence=1,
                           user_id=user_id) for i in range(count)]
    session.commit()
    return [e.id for e in found]


def missed(client, session, live, count: int) -> tuple[list[int], SseClient]:
    """`count` events of the citizen's recorded, and a stream opened with the Last-Event-ID before them."""
    with live.lock:
        me = sign_in(client)
        user_id = session.scalar(select(User.id).where(User.cccd == CITIZEN["cccd"]))
        ids = record_mine(session, user_id, count)
    return ids, live.open(me, last_event_id=str(ids[0] - 1))


def test_a_long_replay_is_sent_page_by_page_not_cut(client, session, live, monkeypatch):
    from services.events import stream as streams

    monkeypatch.setattr(streams, "REPLAY_PAGE", 3, raising=False)
    monkeypatch.setattr(streams, "REPLAY_LIMIT", 3, raising=False)  # the name the replay was once cut at
    ids, stream = missed(client, session, live, 10)
    try:
        assert [int(m.id) for m in dossier_events(stream)] == ids
    finally:
        stream.close()


def test_live_events_the_replay_already_sent_are_not_sent_again(client, session, live):
    """The poller had not reached the missed events when the replay read them: it hands them over
    afterwards, and the stream skips them (ids at or below the last replayed one)."""
    ids, stream = missed(client, session, live, 4)
    try:
        assert stream.until(lambda m: m.event == "unread_count", 3) is not None  # after the replay
        with live.lock:
            live.server.poller.high = ids[0] - 1  # as if it had not polled them yet: they come again
            live.server.poller.gaps.clear()
            user_id = session.scalar(select(User.id).where(User.cccd == CITIZEN["cccd"]))
            newer = record_mine(session, user_id, 1, "newer")
        assert [int(m.id) for m in dossier_events(stream)] == newer
    finally:
        stream.close()


def ended(stream: SseClient, within: float) -> float | None:
    """Seconds until the server closed the stream (heartbeats read and skipped), or None if it stayed open."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        try:
            if not stream._fill(within - (time.monotonic() - started)):
                return None
        except EOFError:
            return time.monotonic() - started
        stream.buffer = b""
    return None


def test_a_stream_ends_at_its_tokens_own_expiry(client, session, live):
    """Not access_token_ttl from connecting: a token with 2 s left gives a stream of 2 s."""
    ttl = state_of(client.application).runtime.settings.access_token_ttl
    with live.lock:
        clock.freeze(datetime.now(UTC) - timedelta(seconds=ttl - 2))  # issued ttl-2 s ago: 2 s left
        me = sign_in(client)
        clock.reset()
    stream = live.open(me)
    try:
        assert stream.status == 200
        took = ended(stream, 6.0)
        assert took is not None and took < 3.5, took
    finally:
        stream.close()


def test_a_signed_out_session_loses_its_stream_at_the_next_heartbeat(client, session, live, monkeypatch):
    monkeypatch.setattr(live.server.runtime.revocations, "ttl", 0.0)  # no cache: each check reads
    with live.lock:
        me = sign_in(client)
    stream = live.open(me)
    try:
        assert stream.next(2).data == {"unread_count": 0}
        assert ended(stream, 1.5) is None  # heartbeats, still open
        with live.lock:
            assert client.post("/api/v1/auth/logout", json={"refresh_token": me["refresh_token"]},
                               headers=bearer(me)).status_code == 204
        took = ended(stream, 4.0)
        assert took is not None and took < 2.5, took  # the heartbeat is 1 s here
    finally:
        stream.close()


def test_streams_refuse_the_unsigned_and_the_unknown(client, session, live):
    with live.lock:
        citizen = sign_in(client)
    assert live.open(None).status == 401
    bad = live.open({"access_token": "not-a-token"})
    assert bad.status == 401 and bad.headers["www-authenticate"] == "Bearer"
    assert live.open(citizen, AGENCY).status == 403
    assert live.open(citizen, "/api/v1/elsewhere").status == 404


def test_a_client_that_never_reads_is_dropped_without_holding_up_the_others(client, session, live):
    with live.lock:
        slow_tokens, me = sign_in(client, OTHER), sign_in(client)
        slow_user = session.scalar(select(User.id).where(User.cccd == OTHER["cccd"]))
    slow = live.open(slow_tokens, rcvbuf=4096)  # never read from again
    healthy = live.open(me)
    try:
        with live.lock:
            for i in range(600):  # ~2 MB for the slow one: far more than its buffers and queue hold
                events.record(session, "dossier.status_changed", "dossier", f"bulk-{i}", {"pad": "x" * 3000},
                              sequence=1, user_id=slow_user)
            session.commit()
        deadline = time.monotonic() + 5
        while live.server.dropped < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert live.server.dropped == 1
        started = time.monotonic()
        with live.lock:
            submitted(client, me)
        assert healthy.until(lambda m: m.event == "dossier.submitted", 3) is not None
        assert time.monotonic() - started < 2
    finally:
        slow.close()
        healthy.close()


def test_the_flask_endpoint_streams_and_replays_for_make_run(client, session):
    me = sign_in(client)
    official = official_of(client, session)
    dossier = submitted(client, me)
    first = session.scalar(select(Event.id).where(Event.resource_id == dossier["id"]))
    act(client, official, dossier["id"], "receive")
    response = client.get(ME, headers={**bearer(me), "Last-Event-ID": str(first)}, buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    chunks = iter(response.response)
    text = b"".join(next(chunks) for _ in range(3)).decode()
    response.close()
    assert text.startswith("retry: 3000") and "event: dossier.status_changed" in text and '"unread_count"' in text
    assert client.get(AGENCY, headers=bearer(me)).status_code == 403


def test_in_production_the_api_servers_send_streams_to_the_stream_server(client, session, make_app):
    """A stream in a sync gunicorn worker would hold it for minutes: production answers 503 at once."""
    me, official = sign_in(client), official_of(client, session)
    production = make_app(env="production").test_client()
    for path, tokens in ((ME, me), (AGENCY, official)):
        response = production.get(path, headers={**bearer(tokens), "Accept-Language": "en"})
        assert response.status_code == 503 and response.headers["Retry-After"] == "30", response.data
        assert response.json["code"] == "service_unavailable" and "events stream" in response.json["detail"]


def test_the_stream_server_answers_its_health_probe(live):
    probe = live.open(None, "/healthz")
    assert probe.status == 200 and json.loads(probe.body)["status"] == "ok"


def test_an_idle_stream_gets_a_heartbeat_comment(client, session, live):
    """stream_heartbeat_seconds is 1 s here: a comment line comes within it on a stream with no events."""
    with live.lock:
        me = sign_in(client)
    stream = live.open(me)
    try:
        assert stream.next(2).data == {"unread_count": 0}
        started = time.monotonic()
        while b": heartbeat\n\n" not in stream.buffer and time.monotonic() - started < 3:
            stream._fill(0.2)
        assert b": heartbeat\n\n" in stream.buffer and time.monotonic() - started < 2.0
    finally:
        stream.close()


def test_a_late_hand_over_of_what_the_client_already_had_is_not_sent():
    """The race CI met once: the client reconnects with Last-Event-ID 5 while the poller still lags behind
    event 5; the replay sends 7 and 8; then the poller hands over 5 (the client had it), 6 (a hole the replay
    did not see: sent) and 9 (new: sent), and 7 again (replayed: not sent twice)."""
    from api.stream import Connection
    from services.events.stream import Audience

    conn = Connection(Audience(user_id="u"), asyncio.Queue(10), after=5)
    conn.replayed_up_to({7, 8})
    for event_id in (5, 6, 7, 9, 4):
        conn.offer(event_id, str(event_id).encode())
    assert [conn.queue.get_nowait() for _ in range(conn.queue.qsize())] == [b"6", b"9"]
