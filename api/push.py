"""Putting the push worker together: the configured sender, the clock, and the periodic chores
(deadline alerts, payment expiry, device housekeeping, wallet expiry reminders, and nightly the
collector of stored bytes nothing refers to) that the worker runs every so often; and the webhook
dispatcher that runs beside it in the same worker processes."""

from __future__ import annotations

import signal
import threading
from datetime import timedelta
from typing import Any

from notifications.senders import Sender, make_sender
from notifications.worker import PushWorker
from services.calendar import parse_window
from services.clock import clock
from services.events.delivery import Dispatcher
from services.money import payments
from services.notices import alerts, devices
from services.people import identity
from services.runtime import Runtime
from services.settings import Settings
from services.wallet import collector, reminders


def periodic_tasks(runtime: Runtime) -> list[Any]:
    settings, calendar = runtime.settings, runtime.calendar

    def deadline_alerts(session: Any) -> int:
        return alerts.check_deadlines(session, calendar=calendar)

    def expire_payments(session: Any) -> int:
        return payments.expire_stale(session)

    def drop_stale_devices(session: Any) -> int:
        return devices.drop_stale(session, days=settings.device_retention_days)

    def forget_used_eid_tokens(session: Any) -> int:
        return identity.forget_used_tokens(session)

    def wallet_expiry(session: Any) -> int:
        return reminders.check_expiry(session)

    chores = [deadline_alerts, expire_payments, drop_stale_devices, forget_used_eid_tokens, wallet_expiry]
    if settings.storage_collect_every_hours > 0:
        chores.append(collector.Chore(runtime.storage, every=timedelta(hours=settings.storage_collect_every_hours),
                                      window=parse_window(settings.storage_collect_window),
                                      grace=timedelta(minutes=settings.storage_collect_grace_minutes)))
    return chores


def sender_for(settings: Settings) -> Sender:
    return make_sender(settings.push_sender, credentials_file=settings.fcm_credentials,
                       endpoint=settings.fcm_endpoint)


def make_worker(runtime: Runtime, sender: Sender | None = None) -> PushWorker:
    """A worker from the runtime alone (no HTTP app): its sessions come from the runtime's factory,
    bound to the engine (or, in tests, to the test's connection)."""
    return PushWorker(runtime.sessions, sender or sender_for(runtime.settings), runtime.settings,
                      now=clock.now, periodic=periodic_tasks(runtime))


def make_dispatcher(runtime: Runtime) -> Dispatcher:
    """The webhook dispatcher (services.events.delivery) that runs beside the push worker."""
    return Dispatcher(runtime.sessions, runtime.settings, now=clock.now)


def run(worker: PushWorker, *, once: bool, dispatcher: Dispatcher | None = None) -> dict[str, int] | None:
    """A worker process's life: drain once and report, or work until SIGTERM/SIGINT. With a
    dispatcher, webhooks are delivered too (in a thread of their own: a slow receiver never holds
    pushes back)."""
    if once:
        stats = dict(worker.drain().__dict__)
        if dispatcher is not None:
            hooks = dispatcher.drain()
            dispatcher.close()
            stats.update(webhooks_delivered=hooks.delivered, webhooks_retried=hooks.retried,
                         webhooks_failed=hooks.failed)
        return stats

    def stop(*_: Any) -> None:
        worker.stop.set()
        worker.wakeup.set()
        if dispatcher is not None:
            dispatcher.stop.set()
            dispatcher.wakeup.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if dispatcher is not None:
        threading.Thread(target=dispatcher.run_forever, name="webhooks", daemon=True).start()
    worker.run_forever()
    return None


def start_inline(runtime: Runtime) -> PushWorker:
    """SMARTQN_PUSH_WORKER=inline: a worker thread in this process, woken when a request commits pushes."""
    worker = make_worker(runtime)
    worker.wake_on_commit()
    threading.Thread(target=worker.run_forever, name="push-worker", daemon=True).start()
    threading.Thread(target=make_dispatcher(runtime).run_forever, name="webhooks", daemon=True).start()
    return worker
