"""The webhook dispatcher: delivering the event log to subscriptions, fan out, claim under a lease, send, record.

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
   rebinding), unless SMARTQN_WEBHOOK_ALLOW_PRIVATE (development, tests): services.events.sending;
4. **record**: every attempt is stored; 2xx delivers; a timeout, a connection failure, 5xx or 429
   is retried with jittered exponential backoff until `retry_until` (72 h by default); any other
   answer ends the delivery at once. A subscription failing for 24 h without a success is
   deactivated and the admins are told (inbox and audit): services.events.outcomes.

Delivery is at least once: a worker killed between the POST and its record, or a receiver that
answers after our timeout, gets the event again; receivers de-duplicate by the event `id`.
"""

from __future__ import annotations

import functools
import json
import logging
import queue
import random
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, insert, literal_column, select, text, update
from sqlalchemy.orm import Session, aliased

from services.events import outcomes, webhooks
from services.events.log import payload
from services.events.outcomes import Job, Stats
from services.events.sending import Answer, Poster, post
from services.models import Event, WebhookDelivery, WebhookSubscription
from services.settings import Settings

log = logging.getLogger("smartqn.webhooks")
FAN_OUT_LOCK = 0x5E_57_0F_A0  # pg_advisory_xact_lock key: one fan-out at a time
FAN_OUT_BATCH = 500
USER_AGENT = "smartqn-webhooks/1"
# 'pending' written into the SQL, not bound: a prepared statement's generic plan can then still use
# the partial indexes (WHERE status = 'pending'); with a parameter PostgreSQL scans every delivery.
PENDING: ColumnElement[str] = literal_column("'pending'")


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
                                         .where(WebhookDelivery.event_id.in_([e.id for e in events]))))
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

    def record(self, results: list[tuple[Job, Answer]]) -> None:
        """Every answer in one transaction (services.events.outcomes)."""
        if not results:
            return
        with self.sessions() as session, session.begin():
            outcomes.record(session, results, now=self.now(), settings=self.settings, rng=self.rng, stats=self.stats)

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
