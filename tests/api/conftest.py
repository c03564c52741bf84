"""Fixtures and helpers the webhook tests share (test_webhooks.py, test_webhooks_delivery.py,
test_webhooks_security.py): an admin and a citizen signed in, a local receiver, subscribing it, a
dispatcher with changed settings, and the events of a dossier."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from sqlalchemy import delete, select

from api.context import state_of
from services.clock import clock
from services.events.delivery import Dispatcher
from services.models import Event, WebhookDelivery
from services.people.identity import grant_staff
from tests.event_helpers import Receiver
from tests.helpers import ADMIN, bearer, sign_in

ALL = ["dossier.submitted", "dossier.status_changed", "dossier.transferred", "payment.succeeded"]


@pytest.fixture
def _only_this_tests_events(session):
    """Events other tests committed and left (the PostgreSQL-only tests run a live app on committed
    data) are not this test's to deliver or replay: gone, inside the test's rolled-back transaction.
    Each webhook test module uses it for all its tests (`pytestmark`)."""
    session.execute(delete(WebhookDelivery))
    session.execute(delete(Event))


@pytest.fixture
def admin(client, session):
    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    return sign_in(client, ADMIN)


@pytest.fixture
def citizen(client):
    return sign_in(client)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def dispatcher_for(app, **changes) -> Dispatcher:
    runtime = state_of(app).runtime
    return Dispatcher(runtime.sessions, dataclasses.replace(runtime.settings, **changes), now=clock.now)


def subscribe(client, admin, receiver: Receiver, events=tuple(ALL)) -> dict:
    response = client.post("/api/v1/admin/webhooks", headers=bearer(admin),
                           json={"url": receiver.url, "events": list(events), "description": "LGSP"})
    assert response.status_code == 201, response.json
    receiver.secret = response.json["secret"]
    return response.json


def events_of(session, dossier_id: str) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.resource_id == dossier_id).order_by(Event.id)))
