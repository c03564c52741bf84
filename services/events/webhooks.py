"""Webhook subscriptions as admins keep them, the signature, and the record of every attempt.

The signing secret is shown once, at creation. It must stay readable to sign every later delivery,
so it is stored encrypted (Fernet, AES-128-CBC + HMAC-SHA256) under a key derived from
SMARTQN_SECRET_KEY: a copy of the database alone does not reveal it; rotating the app secret makes
the stored ones unreadable (create the subscriptions again, or re-seal them before rotating).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import socket
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from sqlalchemy import delete as sql_delete
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from services import audit
from services.actors import Actor
from services.clock import clock
from services.db import new_id, transaction
from services.errors import NotFound, ValidationFailed
from services.models import Event, WebhookAttempt, WebhookDelivery, WebhookSubscription
from services.pagination import Page, keyset_page
from services.settings import Settings
from vocab import DeliveryStatus, EventType

SIGNATURE_HEADER = "X-Smartqn-Signature"
LOOPBACK = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


# --- the secret and the signature ------------------------------------------------------------------

def _fernet(app_secret: str) -> Fernet:
    key = hashlib.sha256(b"smartqn webhook secrets\x00" + app_secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str, app_secret: str) -> str:
    return _fernet(app_secret).encrypt(secret.encode()).decode()


def unseal(sealed: str, app_secret: str) -> str:
    return _fernet(app_secret).decrypt(sealed.encode()).decode()


def signature(secret: str, body: bytes, t: int) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` (API.md)."""
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


# --- checking what an admin gives ----------------------------------------------------------------

class ForbiddenAddress(ValueError):
    """A webhook host that is, or resolves to, an address the workers must not call."""


def host_and_port(url: str) -> tuple[str, int]:
    """The URL's host as DNS knows it (lower case, without the trailing root dot) and its port."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    return host, parts.port or (443 if parts.scheme == "https" else 80)


def _odd_number(host: str) -> bool:
    """A host the C resolver reads as an IPv4 address though it is not dotted-quad: `2130706433`,
    `0x7f.1`, `017700000001`, `127.1` (filters that only look at dotted quads miss them)."""
    try:
        socket.inet_aton(host)
    except OSError:
        return False
    try:
        return str(ipaddress.IPv4Address(host)) != host
    except ValueError:
        return True


def why_forbidden(address: str) -> str | None:
    """None for a public address; else what it is (loopback, private, link-local, unspecified...)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for name in ("unspecified", "loopback", "link_local", "private", "multicast", "reserved"):
        if getattr(ip, f"is_{name}"):
            return name.replace("_", "-")
    return None if ip.is_global else "not public"


def resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to (an IP literal: itself), through the system resolver."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def public_addresses(host: str, port: int) -> list[str]:
    """The host's addresses if every one of them may be called; ForbiddenAddress otherwise (the same
    check runs when the subscription is made and before each POST: DNS may change in between)."""
    if _odd_number(host):
        raise ForbiddenAddress(f"{host} is an IP address in an unusual notation; write it dotted")
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise ForbiddenAddress(f"{host} does not resolve ({exc})") from exc
    for address in addresses:
        if (what := why_forbidden(address)) is not None:
            raise ForbiddenAddress(f"{host} resolves to {address}, a {what} address: webhooks go to public "
                                   "addresses only (SMARTQN_WEBHOOK_ALLOW_PRIVATE)")
    return addresses


def _same_server(url: str, settings: Settings) -> bool:
    host, port = host_and_port(url)
    own_host, own_port = host_and_port(settings.base_url)
    if port != own_port:
        return False
    if host == own_host or {host, own_host} <= LOOPBACK:
        return True
    try:
        return bool(set(resolve(host, port)) & set(resolve(own_host, own_port)))
    except (OSError, UnicodeError):
        return False


def check_url(url: str, settings: Settings) -> list[str]:
    """http(s) with a host, not this server itself (its API would be called with our own events), and,
    unless SMARTQN_WEBHOOK_ALLOW_PRIVATE, a host whose every address is public."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        return ["Not a valid URL."]
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ["An http or https URL with a host."]
    if parts.username or parts.password:
        return ["No credentials in the URL: the signature authenticates us."]
    host, port = host_and_port(url)
    if _odd_number(host):
        return [f"{host} is an IP address in an unusual notation; write it dotted."]
    if _same_server(url, settings):
        return ["This server's own address cannot receive its webhooks."]
    if not settings.webhook_allow_private:
        try:
            public_addresses(host, port)
        except ForbiddenAddress as exc:
            return [f"{exc}."]
    return []


def _check(values: dict[str, Any], settings: Settings) -> None:
    errors: dict[str, list[str]] = {}
    if "url" in values and (messages := check_url(values["url"], settings)):
        errors["url"] = messages
    if "events" in values:
        known = {t.value for t in EventType}
        if not values["events"]:
            errors["events"] = ["At least one event type."]
        elif unknown := sorted(set(values["events"]) - known):
            errors["events"] = [f"Unknown event types: {', '.join(unknown)}."]
    if errors:
        raise ValidationFailed("invalid webhook", errors=errors)


# --- the admin's operations -----------------------------------------------------------------------

def create(session: Session, actor: Actor, *, url: str, events: list[str], description: str | None,
           settings: Settings) -> tuple[WebhookSubscription, str]:
    """A new subscription and its secret (returned this once)."""
    _check({"url": url, "events": events}, settings)
    secret = "whsec_" + secrets.token_urlsafe(32)
    with transaction(session):
        sub = WebhookSubscription(url=url, events=sorted(set(events)), description=description,
                                  secret_sealed=seal(secret, settings.secret_key), active=True,
                                  created_at=clock.now(), created_by=actor.user_id or None)
        session.add(sub)
        session.flush()
        audit.record(session, actor, "webhook.create", "webhook", sub.id, {"url": url, "events": sub.events})
    return sub, secret


def get(session: Session, subscription_id: str) -> WebhookSubscription:
    sub = session.get(WebhookSubscription, subscription_id)
    if sub is None:
        raise NotFound("no such webhook")
    return sub


def page(session: Session, *, after: Sequence[Any] | None = None, limit: int = 20) -> Page[WebhookSubscription]:
    return keyset_page(session, select(WebhookSubscription), [WebhookSubscription.created_at, WebhookSubscription.id],
                       lambda s: (s.created_at.isoformat(), s.id), after=after, limit=limit, descending=True)


def update_subscription(session: Session, actor: Actor, subscription_id: str, values: dict[str, Any], *,
                        settings: Settings) -> WebhookSubscription:
    """Change the URL, types, description, or turn it off and on (on again: its failure clock restarts)."""
    _check(values, settings)
    with transaction(session):
        sub = get(session, subscription_id)
        for name, value in values.items():
            setattr(sub, name, sorted(set(value)) if name == "events" else value)
        if values.get("active") is True:
            sub.failing_since = sub.deactivated_at = None
        elif values.get("active") is False:
            sub.deactivated_at = clock.now()
        audit.record(session, actor, "webhook.update", "webhook", sub.id, dict(values))
        return sub


def delete(session: Session, actor: Actor, subscription_id: str) -> None:
    with transaction(session):
        sub = get(session, subscription_id)
        # Its deliveries and attempts go with it (said here, not left to ON DELETE CASCADE: SQLite).
        session.execute(sql_delete(WebhookAttempt).where(WebhookAttempt.subscription_id == sub.id))
        session.execute(sql_delete(WebhookDelivery).where(WebhookDelivery.subscription_id == sub.id))
        session.delete(sub)
        audit.record(session, actor, "webhook.delete", "webhook", subscription_id, {"url": sub.url})


def attempts(session: Session, subscription_id: str, *, after: Sequence[Any] | None = None,
             limit: int = 20) -> Page[WebhookAttempt]:
    """Every attempt made for the subscription, newest first."""
    get(session, subscription_id)
    return keyset_page(session, select(WebhookAttempt).where(WebhookAttempt.subscription_id == subscription_id),
                       [WebhookAttempt.at, WebhookAttempt.id], lambda a: (a.at.isoformat(), a.id), after=after,
                       limit=limit, descending=True)


def _resend(session: Session, sub: WebhookSubscription, events: Sequence[Any], now: datetime,
            settings: Settings) -> int:
    """Make each event's delivery to `sub` due now, whatever became of it (a new one if it had none):
    one UPDATE for those it had, one bulk INSERT for the rest. `events`: rows with the event's id,
    resource_kind, resource_id and sequence."""
    if not events:
        return 0
    until = now + timedelta(hours=settings.webhook_retry_hours)
    event_ids = [e.id for e in events]
    existing = set(session.scalars(select(WebhookDelivery.event_id).where(
        WebhookDelivery.subscription_id == sub.id, WebhookDelivery.event_id.in_(event_ids))))
    if existing:
        session.execute(update(WebhookDelivery).where(
            WebhookDelivery.subscription_id == sub.id, WebhookDelivery.event_id.in_(existing),
            # One being sent right now is left to finish (its lease is running): it is due anyway.
            WebhookDelivery.lease_id.is_(None) | (WebhookDelivery.status != DeliveryStatus.pending)).values(
            status=DeliveryStatus.pending, next_attempt_at=now, retry_until=until, lease_id=None),
            execution_options={"synchronize_session": False})
    rows = [delivery_row(sub.id, e, now, until) for e in events if e.id not in existing]
    if rows:
        session.execute(insert(WebhookDelivery), rows)  # one executemany for the batch
    return len(event_ids)


def delivery_row(subscription_id: str, event: Any, now: datetime, until: datetime) -> dict[str, Any]:
    return {"id": new_id(), "subscription_id": subscription_id, "event_id": event.id,
            "resource_key": f"{event.resource_kind}:{event.resource_id}", "sequence": event.sequence,
            "status": DeliveryStatus.pending, "attempts": 0, "next_attempt_at": now, "retry_until": until,
            "created_at": now}


def redeliver(session: Session, actor: Actor, subscription_id: str, event_id: str, *, settings: Settings) -> None:
    """Send one event to the subscription again (202): an event it never subscribed to is 404."""
    with transaction(session):
        sub = get(session, subscription_id)
        event = session.get(Event, int(event_id)) if event_id.isdigit() and len(event_id) < 19 else None
        if event is None or event.type not in sub.events:
            raise NotFound("no such event for this webhook")
        _resend(session, sub, [event], clock.now(), settings)
        audit.record(session, actor, "webhook.redeliver", "webhook", sub.id, {"event_id": event.id})


REPLAY_BATCH = 1000


def replay(session: Session, subscription_id: str, *, since: datetime, until: datetime | None = None,
           settings: Settings, progress: Any = None) -> int:
    """The operator's repair (`flask events replay`): every event of the period the subscription takes,
    sent again in order. Receivers de-duplicate by event id, so a replay is harmless to them.

    A period may hold millions of events: they are queued in batches of REPLAY_BATCH, one transaction
    each (read a batch of ids by keyset, one UPDATE and one bulk INSERT), not in one transaction that
    would hold every row and lock for the whole run. Stopped half-way, the batches done stay queued;
    running it again queues the rest (and those again, which receivers drop). `progress(count)` is
    told after each batch."""
    sub = get(session, subscription_id)
    sub_id, types = sub.id, list(sub.events)
    columns = (Event.id, Event.resource_kind, Event.resource_id, Event.sequence)
    after, count = 0, 0
    while True:
        with transaction(session):
            sub = get(session, sub_id)
            stmt = (select(*columns).where(Event.id > after, Event.occurred_at >= since, Event.type.in_(types))
                    .order_by(Event.id).limit(REPLAY_BATCH))
            if until is not None:
                stmt = stmt.where(Event.occurred_at < until)
            batch = session.execute(stmt).all()
            count += _resend(session, sub, batch, clock.now(), settings)
        if progress is not None and batch:
            progress(count)
        if len(batch) < REPLAY_BATCH:
            break
        after = batch[-1].id
    with transaction(session):
        audit.record(session, None, "webhook.replay", "webhook", sub_id,
                     {"since": since.isoformat(), "until": until.isoformat() if until else None, "events": count})
    return count
