"""Webhook subscriptions for partners (the national portal, LGSP): admins register, inspect and repair."""

from __future__ import annotations

from typing import Any

from api.blueprint import Blueprint
from api.context import get_session, settings
from api.guards import current_actor
from schemas.common import encode_cursor
from schemas.webhooks import (
    AttemptPageSchema,
    TimedPageArgs,
    WebhookCreatedSchema,
    WebhookCreateSchema,
    WebhookPageSchema,
    WebhookPatchSchema,
    WebhookSchema,
)
from services.events import webhooks

blp = Blueprint("admin_webhooks", __name__, url_prefix="/api/v1/admin/webhooks",
                description="Partner webhooks: signed deliveries of the event log")


@blp.get("")
@blp.arguments(TimedPageArgs, location="query", as_kwargs=True)
@blp.response(200, WebhookPageSchema)
def list_webhooks(limit: int, cursor: list[Any] | None = None) -> dict[str, Any]:
    """Every subscription, newest first (secrets are never shown again)."""
    page = webhooks.page(get_session(), after=cursor, limit=limit)
    return {"items": page.items, "next_cursor": encode_cursor(page.next_key)}


@blp.post("")
@blp.arguments(WebhookCreateSchema)
@blp.response(201, WebhookCreatedSchema)
def create_webhook(body: dict[str, Any]) -> Any:
    """Register a URL for some event types; the signing secret is in this answer only."""
    sub, secret = webhooks.create(get_session(), current_actor(), url=body["url"], events=body["events"],
                                  description=body.get("description"), settings=settings())
    return {**{name: getattr(sub, name) for name in WebhookSchema().fields}, "secret": secret}


@blp.get("/<string:webhook_id>")
@blp.response(200, WebhookSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_webhook(webhook_id: str) -> Any:
    """One subscription (without its secret)."""
    return webhooks.get(get_session(), webhook_id)


@blp.patch("/<string:webhook_id>")
@blp.arguments(WebhookPatchSchema)
@blp.response(200, WebhookSchema)
@blp.alt_response(404, response="NOT_FOUND")
def update_webhook(body: dict[str, Any], webhook_id: str) -> Any:
    """Change the URL, the types or the description; `active` turns deliveries off or on again."""
    return webhooks.update_subscription(get_session(), current_actor(), webhook_id, body, settings=settings())


@blp.delete("/<string:webhook_id>")
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def delete_webhook(webhook_id: str) -> None:
    """Remove the subscription with its deliveries and their record."""
    webhooks.delete(get_session(), current_actor(), webhook_id)


@blp.get("/<string:webhook_id>/deliveries")
@blp.arguments(TimedPageArgs, location="query", as_kwargs=True)
@blp.response(200, AttemptPageSchema)
@blp.alt_response(404, response="NOT_FOUND")
def list_deliveries(webhook_id: str, limit: int, cursor: list[Any] | None = None) -> dict[str, Any]:
    """Every attempt made, newest first: the answer's status (null: timeout or no connection) and time."""
    page = webhooks.attempts(get_session(), webhook_id, after=cursor, limit=limit)
    return {"items": page.items, "next_cursor": encode_cursor(page.next_key)}


@blp.post("/<string:webhook_id>/deliveries/<string:event_id>/redeliver")
@blp.response(202)
@blp.alt_response(404, response="NOT_FOUND")
def redeliver(webhook_id: str, event_id: str) -> None:
    """Send this event to the subscription again (a worker does it shortly)."""
    webhooks.redeliver(get_session(), current_actor(), webhook_id, event_id, settings=settings())
