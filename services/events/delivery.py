"""Delivering the event log to webhook subscriptions: fan out, claim under a lease, POST, record.

The worker processes (worker.py, `flask notifications worker`) run a `Dispatcher` beside the push
worker. Its loop, all database work in one thread:

1. **fan out**: events not yet fanned out become one delivery row per active subscription that takes
   their type (one fan-out at a time, under an advisory lock on PostgreSQL, so the rows of one
   resource appear in its order);
2. **claim**: due deliveries, at most `webhook_per_endpoint` in flight per subscription in this
   worker, `FOR UPDATE SKIP LOCKED` on PostgreSQL so any number of workers claim side by side; a
   delivery waits while an earlier event of the same resource is pending for that subscription
   (per-resource order); claiming sets `next_attempt_at` to the end of a lease, so a delivery whose
   worker died is due again then;
3. **send**: a thread pool POSTs, each call with its own deadline (the whole call, not each read),
   so a receiver that hangs holds its own few threads and nobody else's; the host is resolved and
   checked again before each POST and the connection goes to the checked address (SSRF, DNS
   rebinding), unless SMARTQN_WEBHOOK_ALLOW_PRIVATE (development, tests);
4. **record**: every attempt is stored; 2xx delivers; a timeout, a connection failure, 5xx or 429
   is retried with jittered exponential backoff until `retry_until` (72 h by default); any other
   answer ends the delivery at once. A subscription failing for 24 h without a success is
   deactivated and the admins are told (inbox and audit).

Delivery is at least once: a worker killed between the POST and its record, or a receiver that
answers after our timeout, gets the event again; receivers de-duplicate by the event `id`.
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import http.client
import json
import logging
import queue
import random
import socket
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, Table, and_, bindparam, insert, literal_column, select, text, update
from sqlalchemy.orm import Session, aliased

from services import audit
from services.db import new_id
from services.events import webhooks
from services.events.log import payload
from services.models import Event, StaffRole, User, WebhookAttempt, WebhookDelivery, WebhookSubscription
from services.notices.inbox import notify
from services.settings import Settings
from vocab import DeliveryStatus, Role

log = logging.getLogger("smartqn.webhooks")
FAN_OUT_LOCK = 0x5E_57_0F_A0  # pg_advisory_xact_lock key: one fan-out at a time
FAN_OUT_BATCH = 500
USER_AGENT = "smartqn-webhooks/1"


@dataclass(frozen=True)
class Answer:
    status_code: int | None = None
    error: str | None = None
    retry_after: float | None = None
    duration_ms: int = 0
    final: bool = False  # no status, yet not worth retrying: the address is one we refuse to call

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        """A timeout or a broken connection (no status), a 5xx or a 429; any other answer is final."""
        if self.final:
            return False
        return self.status_code is None or self.status_code >= 500 or self.status_code == 429


class Watchdog:
    """One thread that calls each armed function at its deadline unless disarmed first: the deadline of
    every POST in the process, without a timer thread per call."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._armed: set[int] = set()
        self._wake = threading.Condition()
        self._seq = 0
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float, fire: Callable[[], None]) -> int:
        with self._wake:
            self._seq += 1
            heapq.heappush(self._heap, (time.monotonic() + seconds, self._seq, fire))
            self._armed.add(self._seq)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="webhook-watchdog", daemon=True)
                self._thread.start()
            if self._heap[0][1] == self._seq:  # the earliest now: the watchdog sleeps too long otherwise
                self._wake.notify()
            return self._seq

    def disarm(self, handle: int) -> None:
        with self._wake:
            self._armed.discard(handle)  # its heap entry is dropped when it comes up

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._heap and self._heap[0][1] not in self._armed:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._wake.wait()
                    continue
                at, handle, fire = self._heap[0]
                if (wait := at - time.monotonic()) > 0:
                    self._wake.wait(wait)
                    continue
                heapq.heappop(self._heap)
                self._armed.discard(handle)
            try:
                fire()
            except Exception:  # a watchdog that dies would leave every later call unbounded
                log.exception("webhook watchdog")


WATCHDOG = Watchdog()


def _pin(conn: http.client.HTTPConnection, address: str) -> None:
    """Connect to the address that was checked, not to what the name resolves to a moment later (a
    DNS answer with a zero TTL could otherwise pass the check and then point at 127.0.0.1); TLS still
    verifies the certificate against the host name."""
    def create(target: tuple[str, int], timeout: float | None = None, source: Any = None) -> socket.socket:
        return socket.create_connection((address, target[1]), timeout, source)

    setattr(conn, "_create_connection", create)  # noqa: B010 (http.client's hook, not in its stubs)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float, *, allow_private: bool = False) -> Answer:
    """One POST, no redirects followed (a 3xx is a final answer), the whole call bounded by `timeout`.

    The host is resolved and checked first (webhooks.public_addresses) unless `allow_private`: an
    address we refuse to call ends the delivery (`final`). `timeout` bounds each socket read AND the
    whole call (resolving, connecting, sending, reading): the watchdog shuts the socket at the
    deadline, so a receiver that drips a byte now and then cannot hold a thread for longer (it counts
    as a timeout, retried)."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    def timed_out() -> Answer:
        return Answer(None, f"timeout: the whole call took over {timeout:g} s", None, took())

    parts = urlsplit(url)
    address = None
    if not allow_private:
        try:
            address = webhooks.public_addresses(*webhooks.host_and_port(url))[0]
        except webhooks.ForbiddenAddress as exc:
            return Answer(None, f"refused: {exc}"[:500], None, took(), final=True)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn = cls(parts.hostname or "", parts.port, timeout=timeout)
    if address is not None:
        _pin(conn, address)
    expired = threading.Event()

    def cut() -> None:
        expired.set()
        sock = conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked recv or send at once

    watch = WATCHDOG.arm(max(timeout - (time.monotonic() - started), 0.0), cut)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read(64 * 1024)  # the answer's body is not kept
        if expired.is_set():  # what was read was cut short by the deadline: not an answer
            return timed_out()
        retry_after = response.getheader("Retry-After")
        return Answer(response.status, None if response.status < 300 else f"HTTP {response.status}",
                      float(retry_after) if retry_after and retry_after.isdigit() else None, took())
    except TimeoutError:
        return Answer(None, "timeout", None, took())
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set():
            return timed_out()
        return Answer(None, f"{type(exc).__name__}: {exc}"[:500], None, took())
    finally:
        WATCHDOG.disarm(watch)
        conn.close()


@dataclass
class Job:
    delivery_id: str
    subscription_id: str
    event_id: int
    attempt: int
    retry_until: datetime
    url: str
    secret: str
    body: bytes
    lease: str


@dataclass
class Stats:
    fanned_out: int = 0
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    deactivated: list[str] = field(default_factory=list)


Poster = Callable[[str, bytes, dict[str, str], float], Answer]
_deliveries = cast(Table, WebhookDelivery.__table__)
# 'pending' written into the SQL, not bound: a prepared statement's generic plan can then still use
# the partial indexes (WHERE status = 'pending'); with a parameter PostgreSQL scans every delivery.
PENDING: ColumnElement[str] = literal_column("'pending'")
RECORD = (update(_deliveries)
          .where(_deliveries.c.id == bindparam("job"), _deliveries.c.lease_id == bindparam("lease"))
          .values(status=bindparam("state", type_=_deliveries.c.status.type),
                  delivered_at=bindparam("done_at", type_=_deliveries.c.delivered_at.type),
                  next_attempt_at=bindparam("next_at", type_=_deliveries.c.next_attempt_at.type), lease_id=None))


class Dispatcher:
    def __init__(self, sessions: Callable[[], Session], settings: Settings, *, now: Callable[[], datetime],
                 poster: Poster | None = None, rng: random.Random | None = None) -> None:
        self.sessions, self.settings, self.now = sessions, settings, now
        self.poster: Poster = poster or functools.partial(post, allow_private=bool(settings.webhook_allow_private))
        self.rng = rng or random.Random()
        with sessions() as session:
            self.postgresql = session.get_bind().dialect.name == "postgresql"
        self.pool = ThreadPoolExecutor(settings.webhook_threads, thread_name_prefix="webhook")
        self.inflight: dict[str, int] = defaultdict(int)
        self.finished: queue.Queue[tuple[Job, Answer]] = queue.Queue()
        self.wakeup = threading.Event()
        self.stop = threading.Event()
        self.stats = Stats()

    # -- 1. fan out -------------------------------------------------------------------------------

    def fan_out(self) -> int:
        """Events not fanned out yet → one delivery per active subscription that takes the type."""
        with self.sessions() as session, session.begin():
            if self.postgresql:
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FAN_OUT_LOCK})
            events = list(session.scalars(select(Event).where(Event.fanned_out_at.is_(None))
                                          .order_by(Event.id).limit(FAN_OUT_BATCH)))
            if not events:
                return 0
            now = self.now()
            until = now + timedelta(hours=self.settings.webhook_retry_hours)
            subs = list(session.execute(select(WebhookSubscription.id, WebhookSubscription.events)
                                        .where(WebhookSubscription.active.is_(True))))
            # A replay or a redelivery may have queued an event before its fan-out: not twice (unique).
            queued = set(session.execute(select(WebhookDelivery.subscription_id, WebhookDelivery.event_id)
                                         .where(WebhookDelivery.event_id.in_([e.id for e in events]))).tuples())
            rows = [webhooks.delivery_row(sub_id, e, now, until)
                    for e in events for sub_id, types in subs if e.type in types and (sub_id, e.id) not in queued]
            if rows:
                session.execute(insert(WebhookDelivery), rows)
            session.execute(update(Event).where(Event.id.in_([e.id for e in events])).values(fanned_out_at=now),
                            execution_options={"synchronize_session": False})
        self.stats.fanned_out += len(rows)
        return len(events)

    # -- 2. claim ---------------------------------------------------------------------------------

    def _due(self, session: Session, now: datetime) -> list[str]:
        return list(session.scalars(
            select(WebhookDelivery.subscription_id).join(WebhookSubscription).distinct()
            .where(WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= now,
                   WebhookSubscription.active.is_(True))))

    def claim(self) -> list[Job]:
        """Due deliveries under a new lease, within each subscription's free slots, committed before
        anything is sent."""
        free_total = self.settings.webhook_threads - sum(self.inflight.values())
        if free_total <= 0:
            return []
        lease = str(uuid.uuid4())
        jobs: list[Job] = []
        earlier = aliased(WebhookDelivery)
        with self.sessions() as session, session.begin():
            now = self.now()
            for sub_id in self._due(session, now):
                free = min(self.settings.webhook_per_endpoint - self.inflight[sub_id], free_total - len(jobs))
                if free <= 0:
                    continue
                # The first pending event of the delivery's resource, read from ix_webhook_deliveries_order
                # (ORDER BY sequence LIMIT 1 makes the planner use it even before the table has statistics;
                # a NOT EXISTS was planned as a scan of every pending delivery per candidate).
                head = (select(earlier.sequence).where(
                    earlier.subscription_id == WebhookDelivery.subscription_id,
                    earlier.resource_key == WebhookDelivery.resource_key, earlier.status == PENDING)
                    .order_by(earlier.sequence).limit(1).scalar_subquery())
                stmt = (select(WebhookDelivery).where(
                    WebhookDelivery.subscription_id == sub_id, WebhookDelivery.status == PENDING,
                    WebhookDelivery.next_attempt_at <= now, WebhookDelivery.sequence <= head)
                    .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.event_id).limit(free))
                if self.postgresql:
                    stmt = stmt.with_for_update(skip_locked=True, of=WebhookDelivery)
                claimed = list(session.scalars(stmt))
                if not claimed:
                    continue
                session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_([d.id for d in claimed]))
                                .values(lease_id=lease, attempts=WebhookDelivery.attempts + 1,
                                        next_attempt_at=now + timedelta(seconds=self.settings.webhook_lease_seconds)),
                                execution_options={"synchronize_session": False})
                sub = session.get(WebhookSubscription, sub_id)
                assert sub is not None
                secret = webhooks.unseal(sub.secret_sealed, self.settings.secret_key)
                events = {e.id: e for e in session.scalars(select(Event).where(
                    Event.id.in_([d.event_id for d in claimed])))}
                for d in claimed:
                    body = json.dumps(payload(events[d.event_id]), ensure_ascii=False,
                                      separators=(",", ":")).encode()
                    jobs.append(Job(d.id, sub_id, d.event_id, d.attempts + 1, d.retry_until, sub.url, secret, body,
                                    lease))
            session.expunge_all()
        self.stats.claimed += len(jobs)
        return jobs

    # -- 3. send ----------------------------------------------------------------------------------

    def _send(self, job: Job) -> None:
        try:
            headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                       webhooks.SIGNATURE_HEADER: webhooks.signature(job.secret, job.body, int(time.time())),
                       "X-Smartqn-Event-Id": str(job.event_id)}
            answer = self.poster(job.url, job.body, headers, self.settings.webhook_timeout_seconds)
        except Exception as exc:  # a bug in a poster: retried like a broken connection
            log.exception("webhook POST failed")
            answer = Answer(None, f"{type(exc).__name__}: {exc}"[:500])
        self.finished.put((job, answer))
        self.wakeup.set()

    def submit(self, jobs: list[Job]) -> None:
        for job in jobs:
            self.inflight[job.subscription_id] += 1
            self.pool.submit(self._send, job)

    # -- 4. record --------------------------------------------------------------------------------

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        ceiling = min(self.settings.webhook_backoff_max_seconds,
                      self.settings.webhook_backoff_seconds * 2 ** max(0, attempt - 1))
        return max(ceiling / 2 + self.rng.uniform(0, ceiling / 2), retry_after or 0.0)

    def record(self, results: list[tuple[Job, Answer]]) -> None:
        """Every answer in one transaction; a delivery re-leased since (our lease ran out) is left alone."""
        if not results:
            return
        with self.sessions() as session, session.begin():
            now = self.now()
            held = set(session.scalars(select(WebhookDelivery.id).where(
                WebhookDelivery.id.in_([j.delivery_id for j, _ in results]),
                and_(WebhookDelivery.lease_id.in_({j.lease for j, _ in results}))).with_for_update()))
            succeeded: set[str] = set()
            failing: set[str] = set()
            attempts, outcomes = [], []
            for job, answer in results:
                attempts.append({"id": new_id(), "subscription_id": job.subscription_id, "event_id": job.event_id,
                                 "attempt": job.attempt, "status_code": answer.status_code, "error": answer.error,
                                 "duration_ms": answer.duration_ms, "at": now})
                if job.delivery_id not in held:
                    continue
                row = {"job": job.delivery_id, "lease": job.lease, "state": DeliveryStatus.pending, "done_at": None,
                       "next_at": now}
                if answer.ok:
                    row.update(state=DeliveryStatus.delivered, done_at=now)
                    succeeded.add(job.subscription_id)
                    self.stats.delivered += 1
                elif answer.retryable and now < job.retry_until:
                    row["next_at"] = now + timedelta(seconds=self._backoff(job.attempt, answer.retry_after))
                    failing.add(job.subscription_id)
                    self.stats.retried += 1
                else:
                    row["state"] = DeliveryStatus.failed
                    failing.add(job.subscription_id)
                    self.stats.failed += 1
                outcomes.append(row)
            session.execute(insert(WebhookAttempt), attempts)
            if outcomes:
                session.execute(RECORD, outcomes)  # one executemany for the batch
            if succeeded:
                session.execute(update(WebhookSubscription).where(WebhookSubscription.id.in_(succeeded))
                                .values(last_success_at=now, failing_since=None),
                                execution_options={"synchronize_session": False})
            for sub in session.scalars(select(WebhookSubscription).where(
                    WebhookSubscription.id.in_(failing - succeeded))):
                self._failed(session, sub, now)

    def _failed(self, session: Session, sub: WebhookSubscription, now: datetime) -> None:
        if sub.failing_since is None:
            sub.failing_since = now
        if sub.active and now - sub.failing_since >= timedelta(hours=self.settings.webhook_deactivate_hours):
            sub.active, sub.deactivated_at = False, now
            since = sub.failing_since.isoformat(timespec="minutes")
            audit.record(session, None, "webhook.deactivated", "webhook", sub.id,
                         {"url": sub.url, "failing_since": since}, origin="worker")
            admins = session.scalars(select(User.id).join(StaffRole, StaffRole.cccd == User.cccd)
                                     .where(StaffRole.role == Role.admin))
            notify(session, list(admins), "webhook.deactivated", {"url": sub.url, "since": since})
            self.stats.deactivated.append(sub.id)
            log.warning("webhook deactivated", extra={"subscription": sub.id, "failing_since": since})

    # -- the loop ---------------------------------------------------------------------------------

    def collect(self) -> int:
        results: list[tuple[Job, Answer]] = []
        while True:
            try:
                results.append(self.finished.get_nowait())
            except queue.Empty:
                break
        try:
            self.record(results)
        finally:
            for job, _ in results:
                self.inflight[job.subscription_id] -= 1
        return len(results)

    def step(self) -> int:
        """One round: record what came back, fan out, claim and send. Returns how much happened."""
        done = self.collect()
        fanned = self.fan_out()
        jobs = self.claim()
        self.submit(jobs)
        return done + fanned + len(jobs)

    def busy(self) -> bool:
        return sum(self.inflight.values()) > 0

    def drain(self, timeout: float = 60.0) -> Stats:
        """Until nothing is due and nothing is in flight (`--once`, tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.step() and not self.busy():
                break
            if self.busy():
                self.wakeup.wait(0.05)
                self.wakeup.clear()
        return self.stats

    def run_forever(self) -> None:
        log.info("webhook dispatcher started")
        while not self.stop.is_set():
            try:
                busy = self.step()
            except Exception:  # the database is away: wait, then try again
                log.exception("webhook dispatcher could not work")
                busy = 0
            if not busy:
                self.wakeup.wait(self.settings.webhook_poll_seconds)
                self.wakeup.clear()
        self.pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self.stop.set()
        self.wakeup.set()
        self.pool.shutdown(wait=False, cancel_futures=True)
