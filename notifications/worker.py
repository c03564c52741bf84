"""The push worker: claims due outbox rows under a lease, sends them, records each outcome.

Claiming sets a job's `next_attempt_at` to the end of the lease, so a job whose worker died is due
again then; on PostgreSQL `FOR UPDATE SKIP LOCKED` lets many workers claim side by side, on SQLite
the claim's write lock serializes them. An outcome is recorded only under the lease that sent it.

A claimed batch goes out in small groups (`push_send_group`), each group's outcomes recorded in its own
short transaction as soon as its answers are in. Delivery is at least once: a worker killed between
sending and recording leaves those jobs to their lease, so a kill sends at most one group twice, never
the whole batch.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, event, select, text, update
from sqlalchemy.orm import Session, joinedload

from notifications.senders import Outcome, Push, Sender
from notifications.templates import data, render
from services.models import Device, PushJob
from services.models.notification import PUSH_WRITTEN
from services.settings import Settings

log = logging.getLogger("smartqn.push")
RETRYABLE = frozenset({"UNAVAILABLE", "INTERNAL", "QUOTA_EXCEEDED", "RESOURCE_EXHAUSTED", "UNKNOWN",
                       "UNKNOWN_ERROR", "DEADLINE_EXCEEDED"})
Periodic = Callable[[Session], Any]
_jobs = cast(Table, PushJob.__table__)
RECORD = (update(_jobs).where(_jobs.c.id == bindparam("job"))
          .values(status=bindparam("state", type_=_jobs.c.status.type),
                  sent_at=bindparam("at", type_=_jobs.c.sent_at.type),
                  message_id=bindparam("fcm_id", type_=_jobs.c.message_id.type),
                  next_attempt_at=bindparam("next_at", type_=_jobs.c.next_attempt_at.type),
                  last_error=bindparam("error", type_=_jobs.c.last_error.type), lease_id=None))


# The lease check and the write of a group's outcomes in one round trip (PostgreSQL): one row per job from
# parallel arrays, each job updated only while this lease holds it, the ids updated returned. A constant
# text, so psycopg prepares it once per connection (a VALUES list would be compiled anew for every group).
RECORD_HELD = text("""
    UPDATE push_jobs SET status = o.state, sent_at = o.at, message_id = o.fcm_id, next_attempt_at = o.next_at,
                         last_error = o.error, lease_id = NULL
    FROM unnest(CAST(:jobs AS varchar[]), CAST(:states AS varchar[]), CAST(:ats AS timestamptz[]),
                CAST(:fcm_ids AS varchar[]), CAST(:next_ats AS timestamptz[]), CAST(:errors AS text[]))
         AS o(job, state, at, fcm_id, next_at, error)
    WHERE push_jobs.id = o.job AND push_jobs.lease_id = :lease
    RETURNING push_jobs.id""")


def _record_held(lease: str, rows: list[dict[str, Any]]) -> tuple[Any, dict[str, Any]]:
    return RECORD_HELD, {"lease": lease, "jobs": [r["job"] for r in rows], "states": [r["state"] for r in rows],
                         "ats": [r["at"] for r in rows], "fcm_ids": [r["fcm_id"] for r in rows],
                         "next_ats": [r["next_at"] for r in rows], "errors": [r["error"] for r in rows]}


def forgets_device(outcome: Outcome) -> bool:
    """FCM says the token is dead: UNREGISTERED, or INVALID_ARGUMENT about the token itself."""
    return outcome.error == "UNREGISTERED" or (
        outcome.error == "INVALID_ARGUMENT" and "registration token" in outcome.detail.lower())


def push_of(job: PushJob) -> Push:
    note, device = job.notification, job.device
    assert note is not None and device is not None
    title, body = render(note.kind, note.params or {}, device.locale)
    payload = data(kind=note.kind, params=note.params or {}, dossier_id=note.dossier_id, notification_id=note.id)
    return Push(token=device.token, title=title, body=body, data=payload, collapse_key=note.dossier_id,
                badge=job.badge)


@dataclass
class Stats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    devices_removed: int = 0

    def add(self, other: Stats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


class PushWorker:
    def __init__(self, sessions: Callable[[], Session], sender: Sender, settings: Settings, *,
                 now: Callable[[], datetime], periodic: Sequence[Periodic] = (), rng: random.Random | None = None
                 ) -> None:
        self.sessions, self.sender, self.settings, self.now = sessions, sender, settings, now
        self.periodic = list(periodic)
        self.rng = rng or random.Random()
        with sessions() as session:
            self.skip_locked = session.get_bind().dialect.name == "postgresql"
        self.wakeup = threading.Event()
        self.stop = threading.Event()
        self._last_periodic = float("-inf")

    # -- claiming and recording -------------------------------------------------------------------

    def claim(self, limit: int | None = None) -> tuple[str, list[PushJob]]:
        """Take up to `limit` due jobs under a new lease, committed before anything is sent."""
        lease = str(uuid.uuid4())
        with self.sessions() as session, session.begin():
            now = self.now()
            stmt = (select(PushJob).where(PushJob.status == "pending", PushJob.next_attempt_at <= now)
                    .order_by(PushJob.next_attempt_at).limit(limit or self.settings.push_batch_size)
                    .options(joinedload(PushJob.notification), joinedload(PushJob.device),
                             joinedload(PushJob.announcement)))
            if self.skip_locked:
                stmt = stmt.with_for_update(skip_locked=True, of=PushJob)
            jobs = list(session.scalars(stmt).unique())
            if jobs:
                session.execute(update(PushJob).where(PushJob.id.in_([j.id for j in jobs])).values(
                    lease_id=lease, attempts=PushJob.attempts + 1,
                    next_attempt_at=now + timedelta(seconds=self.settings.push_lease_seconds)),
                    execution_options={"synchronize_session": False})
                session.expunge_all()  # detached: what follows changes our copies, not the rows
                for job in jobs:
                    job.attempts += 1
        return lease, jobs

    def _backoff(self, attempts: int, retry_after: float | None) -> float:
        ceiling = min(self.settings.push_backoff_max_seconds,
                      self.settings.push_backoff_seconds * 2 ** max(0, attempts - 1))
        delay = ceiling / 2 + self.rng.uniform(0, ceiling / 2)  # "equal jitter": spread, never zero
        return max(delay, retry_after or 0.0)

    def record(self, lease: str, results: list[tuple[PushJob, Outcome]]) -> Stats:
        """Every outcome of one lease in one transaction; rows re-leased since are left alone."""
        stats = Stats()
        now = self.now()
        with self.sessions() as session, session.begin():
            if self.skip_locked:  # PostgreSQL: check the lease and write the outcomes in one statement
                outcome_rows = self._record_rows(results, now)
                held = set(session.scalars(*_record_held(lease, outcome_rows))) if outcome_rows else set()
            else:
                # Which jobs this lease still holds (a slow worker's lease may have run out and been taken).
                held = set(session.scalars(select(PushJob.id).where(PushJob.id.in_([j.id for j, _ in results]),
                                                                    PushJob.lease_id == lease).with_for_update()))
            rows: list[dict[str, Any]] = []
            forgotten: dict[str, str] = {}  # job → device
            for job, outcome in results:
                if job.id not in held:
                    continue
                row = {"job": job.id, "state": "sent", "at": now, "fcm_id": outcome.message_id, "next_at": now,
                       "error": None}
                if outcome.ok:
                    stats.sent += 1
                elif outcome.error in RETRYABLE and job.attempts < self.settings.push_max_attempts:
                    if not self.skip_locked:  # (PostgreSQL's rows were written above, each drawn once)
                        delay = self._backoff(job.attempts, outcome.retry_after)
                        row.update(state="pending", at=None, next_at=now + timedelta(seconds=delay),
                                   error=self._error(outcome))
                    stats.retried += 1
                else:
                    row.update(state="failed", at=None, error=self._error(outcome))
                    stats.failed += 1
                    if job.kind == "message" and job.device_id and forgets_device(outcome):
                        forgotten[job.id] = job.device_id
                rows.append(row)
            if rows and not self.skip_locked:
                session.execute(RECORD, rows)  # one executemany for the batch
            if forgotten:
                # Kept as failed, without the device; the device's other queued pushes go with it
                # (ON DELETE CASCADE), its user's other devices still get theirs.
                session.execute(update(PushJob).where(PushJob.id.in_(list(forgotten))).values(device_id=None))
                session.execute(delete(Device).where(Device.id.in_(set(forgotten.values()))))
                stats.devices_removed = len(set(forgotten.values()))
        return stats

    def _record_rows(self, results: list[tuple[PushJob, Outcome]], now: datetime) -> list[dict[str, Any]]:
        """The rows record() writes on SQLite, for every job of the group (the UPDATE skips those whose
        lease ran out), each retry's backoff drawn once."""
        rows = []
        for job, outcome in results:
            row = {"job": job.id, "state": "sent", "at": now, "fcm_id": outcome.message_id, "next_at": now,
                   "error": None}
            if not outcome.ok:
                retry = outcome.error in RETRYABLE and job.attempts < self.settings.push_max_attempts
                delay = self._backoff(job.attempts, outcome.retry_after) if retry else 0.0
                row.update(state="pending" if retry else "failed", at=None,
                           next_at=now + timedelta(seconds=delay), error=self._error(outcome))
            rows.append(row)
        return rows

    @staticmethod
    def _error(outcome: Outcome) -> str:
        return f"{outcome.error}: {outcome.detail}"[:500]

    # -- sending ------------------------------------------------------------------------------------

    def send(self, jobs: list[PushJob]) -> list[tuple[PushJob, Outcome]]:
        results: list[tuple[PushJob, Outcome]] = []
        sendable = []
        for job in (j for j in jobs if j.kind == "message"):
            if job.device is not None and job.notification is not None:
                sendable.append(job)
            else:
                results.append((job, Outcome(error="UNREGISTERED", detail="device gone")))
        for start in range(0, len(sendable), 500):
            chunk = sendable[start:start + 500]
            results += list(zip(chunk, self.sender.send_each([push_of(j) for j in chunk]), strict=True))
        for job in (j for j in jobs if j.kind == "topic"):
            item = job.announcement
            assert item is not None and job.topic is not None
            outcome = self.sender.send_topic(job.topic, item.title, item.body,
                                             {"kind": "announcement", "announcement_id": item.id})
            results.append((job, outcome))
        by_topic: dict[tuple[str, str], list[PushJob]] = defaultdict(list)
        for job in (j for j in jobs if j.kind in ("subscribe", "unsubscribe")):
            by_topic[(job.kind, job.topic or "")].append(job)
        for (kind, topic), group in by_topic.items():
            outcomes = self.sender.subscribe([j.token or "" for j in group], topic, unsubscribe=kind == "unsubscribe")
            results += list(zip(group, outcomes, strict=True))
        return results

    def groups(self, jobs: list[PushJob]) -> list[list[PushJob]]:
        """The batch in the order it is sent and recorded: messages (to devices and to topics) in groups
        of `push_send_group`; topic subscriptions, which are harmless to repeat, in one group at the end."""
        size = self.settings.push_send_group
        pushes = [j for j in jobs if j.kind in ("message", "topic")]
        rest = [j for j in jobs if j.kind not in ("message", "topic")]
        return [pushes[i:i + size] for i in range(0, len(pushes), size)] + ([rest] if rest else [])

    def run_batch(self) -> Stats:
        """Claim one batch, then send and record it group by group. A failure to record stops the batch:
        that group and the ones not sent yet are left to their lease."""
        lease, jobs = self.claim()
        if not jobs:
            return Stats()
        stats, done = Stats(), 0
        for group in self.groups(jobs):
            try:
                results = self.send(group)
            except Exception as exc:  # a sender bug or an unexpected transport error: retry like UNAVAILABLE
                log.exception("push group failed to send")
                results = [(j, Outcome(error="UNKNOWN", detail=str(exc)[:200])) for j in group]
            try:
                stats.add(self.record(lease, results))
            except Exception:
                log.exception("could not record push outcomes; the jobs are retried when their lease ends",
                              extra={"jobs": len(jobs) - done})
                break
            done += len(group)
        log.info("push batch", extra={"jobs": len(jobs), **stats.__dict__})
        return stats

    def run_periodic(self, *, force: bool = False) -> None:
        if not force and time.monotonic() - self._last_periodic < self.settings.push_periodic_seconds:
            return
        self._last_periodic = time.monotonic()
        for task in self.periodic:
            try:
                with self.sessions() as session:
                    task(session)
            except Exception:
                log.exception("periodic task failed", extra={"task": getattr(task, "__name__", repr(task))})

    def drain(self) -> Stats:
        """Send everything due now (the `--once` mode), periodic tasks first."""
        self.run_periodic(force=True)
        total = Stats()
        while (stats := self.run_batch()) != Stats():
            total.add(stats)
        return total

    def run_forever(self) -> None:
        log.info("push worker started", extra={"sender": type(self.sender).__name__})
        while not self.stop.is_set():
            self.run_periodic()
            try:
                busy = self.run_batch() != Stats()
            except Exception:  # the database is away: wait, then try again
                log.exception("push worker could not claim jobs")
                busy = False
            if not busy:
                self.wakeup.wait(self.settings.push_poll_seconds)
                self.wakeup.clear()

    def wake_on_commit(self) -> None:
        """Wake this (in-process) worker as soon as any session that wrote push jobs commits."""

        def committed(session: Session) -> None:
            if session.info.pop(PUSH_WRITTEN, False):
                self.wakeup.set()

        def rolled_back(session: Session) -> None:
            session.info.pop(PUSH_WRITTEN, None)

        event.listen(Session, "after_commit", committed)
        event.listen(Session, "after_rollback", rolled_back)
