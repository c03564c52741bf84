"""Putting the push worker together: the configured sender, the clock, and the periodic chores
(deadline alerts, payment expiry, device housekeeping) that the worker runs every so often."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask

from notifications.senders import Sender, make_sender
from notifications.worker import PushWorker
from services import alerts, db, devices, payments
from services.clock import clock
from services.settings import Settings


def periodic_tasks(app: Flask) -> list[Any]:
    settings: Settings = app.extensions["smartqn.settings"]
    calendar = app.extensions["smartqn.calendar"]

    def deadline_alerts(session: Any) -> int:
        return alerts.check_deadlines(session, calendar=calendar)

    def expire_payments(session: Any) -> int:
        return payments.expire_stale(session)

    def drop_stale_devices(session: Any) -> int:
        return devices.drop_stale(session, days=settings.device_retention_days)

    return [deadline_alerts, expire_payments, drop_stale_devices]


def sender_for(settings: Settings) -> Sender:
    return make_sender(settings.push_sender, credentials_file=settings.fcm_credentials,
                       endpoint=settings.fcm_endpoint)


def make_worker(app: Flask, sender: Sender | None = None) -> PushWorker:
    settings: Settings = app.extensions["smartqn.settings"]
    # Sessions from the app's factory: bound to the engine, or in tests to the test's connection.
    return PushWorker(db.session_factory, sender or sender_for(settings), settings,
                      now=clock.now, periodic=periodic_tasks(app))


def start_inline(app: Flask) -> PushWorker:
    """SMARTQN_PUSH_WORKER=inline: a worker thread in this process, woken when a request commits pushes."""
    worker = make_worker(app)
    worker.wake_on_commit()
    threading.Thread(target=worker.run_forever, name="push-worker", daemon=True).start()
    app.extensions["smartqn.push_worker"] = worker
    return worker
