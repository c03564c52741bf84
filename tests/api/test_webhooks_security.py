"""What a webhook may call (issue 15): not this server under any spelling, and in production no
private, loopback or link-local address, checked when an admin subscribes and again before each POST
(DNS rebinding); and a receiver that drips its answer is cut at the whole call's deadline."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from services.clock import clock
from services.models import WebhookDelivery
from tests.api.conftest import dispatcher_for
from tests.dossier_helpers import submitted
from tests.helpers import bearer
from vocab import DeliveryStatus

pytestmark = pytest.mark.usefixtures("_only_this_tests_events")


def drain_once(app, **changes) -> None:
    """One drain by a dispatcher with these settings, closed after."""
    dispatcher = dispatcher_for(app, **changes)
    try:
        dispatcher.drain()
    finally:
        dispatcher.close()


@pytest.mark.parametrize("url", ["ftp://example.com/hook", "javascript:alert(1)", "https://", "not a url",
                                 "https://user:pw@example.com/hook", "{base}/api/v1/admin/webhooks",
                                 "{base}/anything", "http://localhost:{port}/api/v1/admin/staff"])
def test_a_url_that_is_not_http_or_is_this_server_is_422(client, admin, settings, url):
    url = url.format(base=settings.base_url, port=settings.base_url.rsplit(":", 1)[1])
    response = client.post("/api/v1/admin/webhooks", headers=bearer(admin),
                           json={"url": url, "events": ["dossier.submitted"]})
    assert response.status_code == 422 and "url" in response.json["errors"], response.json


@pytest.mark.parametrize("url", ["{base}/anything", "http://127.0.0.1.:{port}/h", "http://localhost.:{port}/h",
                                 "http://LOCALHOST:{port}/h", "http://2130706433:{port}/h", "http://0x7f.1:{port}/h"])
def test_this_server_under_another_spelling_is_422_even_where_private_addresses_are_allowed(client, admin, settings,
                                                                                          url):
    assert settings.webhook_allow_private is True  # tests and development: receivers on 127.0.0.1
    url = url.format(base=settings.base_url, port=settings.base_url.rsplit(":", 1)[1])
    response = client.post("/api/v1/admin/webhooks", headers=bearer(admin),
                           json={"url": url, "events": ["dossier.submitted"]})
    assert response.status_code == 422 and "url" in response.json["errors"], (url, response.json)


PARTNER = "partner.example"


@pytest.fixture
def dns(monkeypatch) -> dict[str, list[str]]:
    """What `partner.example` resolves to (no network in tests); other names resolve as usual."""
    from services.events import webhooks

    answers = {PARTNER: ["93.184.215.14"]}
    real = getattr(webhooks, "resolve", None)
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: answers[host] if host in answers else real(host, port),
                        raising=False)
    return answers


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/h", "http://127.0.0.2/h", "http://2130706433/h", "http://0x7f.1/h", "http://017700000001/h",
    "http://[::ffff:127.0.0.1]/h", "http://[::1]/h", "http://localhost/h", "http://localhost./h",
    "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/h", "http://10.0.0.5/h", "http://172.16.3.4/h",
    "http://192.168.1.1/h", "http://100.64.0.1/h", "http://0.0.0.0/h", "http://[::]/h", "http://224.0.0.1/h",
    "http://no-such-host.invalid/h", "http://partner.example/h"])
def test_private_loopback_link_local_and_odd_addresses_are_422_in_production(client, admin, make_app, dns, url):
    dns[PARTNER] = ["93.184.215.14", "10.1.2.3"]  # one bad address among the answers is enough
    strict = make_app(webhook_allow_private=False).test_client()
    response = strict.post("/api/v1/admin/webhooks", headers=bearer(admin),
                           json={"url": url, "events": ["dossier.submitted"]})
    assert response.status_code == 422 and "url" in response.json["errors"], (url, response.json)


def test_a_public_address_is_accepted_in_production(client, admin, make_app, dns):
    strict = make_app(webhook_allow_private=False).test_client()
    for url in ("https://partner.example/hook", "https://8.8.8.8/hook"):
        response = strict.post("/api/v1/admin/webhooks", headers=bearer(admin),
                               json={"url": url, "events": ["dossier.submitted"]})
        assert response.status_code == 201, (url, response.json)


def test_production_settings_refuse_private_addresses_and_development_allows_them():
    from services.settings import Settings

    assert Settings(env="development").webhook_allow_private is True
    assert Settings(env="test").webhook_allow_private is True
    assert Settings(env="production").webhook_allow_private is False
    assert Settings.from_env({"SMARTQN_WEBHOOK_ALLOW_PRIVATE": "false"}).webhook_allow_private is False


def test_a_name_that_now_resolves_to_loopback_is_not_called_and_the_delivery_ends(client, session, admin, citizen,
                                                                                 make_app, receiver, dns, app):
    """DNS rebinding: public when the admin registered it, 127.0.0.1 when the worker sends."""
    clock.freeze(clock.now())
    port = receiver.url.split(":")[2].split("/")[0]
    strict = make_app(webhook_allow_private=False).test_client()
    created = strict.post("/api/v1/admin/webhooks", headers=bearer(admin),
                          json={"url": f"http://{PARTNER}:{port}/hook", "events": ["dossier.submitted"]})
    assert created.status_code == 201, created.json
    receiver.secret = created.json["secret"]
    dns[PARTNER] = ["127.0.0.1"]  # the receiver listens there: a worker that followed DNS would reach it
    submitted(client, citizen)
    drain_once(app, webhook_allow_private=False)
    assert receiver.arrivals == [] and receiver.refused == []
    delivery = session.scalar(select(WebhookDelivery).where(WebhookDelivery.subscription_id == created.json["id"]))
    session.refresh(delivery)
    assert delivery.status == DeliveryStatus.failed and delivery.attempts == 1  # not retried
    attempts = client.get(f"/api/v1/admin/webhooks/{created.json['id']}/deliveries", headers=bearer(admin)).json
    [attempt] = attempts["items"]
    assert attempt["status_code"] is None and "127.0.0.1" in attempt["error"] and "loopback" in attempt["error"]


def test_the_worker_connects_to_the_address_it_checked(client, session, admin, citizen, receiver, dns, app,
                                                       monkeypatch):
    """The name is resolved once per POST, checked, and the socket goes to that address (no second lookup
    that a rebinding DNS server could answer differently); the URL keeps its name."""
    from services.events import webhooks

    clock.freeze(clock.now())
    monkeypatch.setattr(webhooks, "why_forbidden", lambda address: None)  # 127.0.0.1 stands for a public one
    dns[PARTNER] = ["127.0.0.1"]
    port = receiver.url.split(":")[2].split("/")[0]
    created = client.post("/api/v1/admin/webhooks", headers=bearer(admin),
                          json={"url": f"http://{PARTNER}:{port}/hook", "events": ["dossier.submitted"]})
    receiver.secret = created.json["secret"]
    submitted(client, citizen)
    drain_once(app, webhook_allow_private=False)
    assert len(receiver.arrivals) == 1  # partner.example itself does not resolve here


def test_a_receiver_that_drips_its_answer_is_cut_at_the_whole_call_deadline():
    """One byte every 0.5 s never trips a per-read timeout of 1.5 s; the call's deadline cuts it."""
    import socket
    import threading

    from services.events.sending import post

    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Drip: ")
            for _ in range(40):  # 20 s of answer, if nobody hangs up
                if stop.wait(0.5):
                    return
                try:
                    conn.sendall(b"x")
                except OSError:
                    return

    threading.Thread(target=drip, daemon=True).start()
    started = time.monotonic()
    try:
        answer = post(f"http://127.0.0.1:{listener.getsockname()[1]}/hook", b"{}", {}, 1.5, allow_private=True)
    finally:
        stop.set()
        listener.close()
    took = time.monotonic() - started
    assert took < 2.5, took
    assert answer.status_code is None and answer.error is not None and "timeout" in answer.error
    assert answer.retryable and 1400 <= answer.duration_ms < 2500
