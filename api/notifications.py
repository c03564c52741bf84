"""The signed-in person's devices and inbox; announcements and the push outbox for admins."""

from __future__ import annotations

from typing import Any

from flask import Response

from api.blueprint import Blueprint
from api.context import get_session, read_only, remember_query, state
from api.guards import current_actor, current_principal
from api.i18n import current_language
from api.notice_views import inbox_page
from schemas.common import encode_cursor
from schemas.notifications import (
    AnnouncementInSchema,
    AnnouncementListSchema,
    AnnouncementSchema,
    CountSchema,
    DeviceInSchema,
    DeviceListSchema,
    DeviceSchema,
    InboxArgs,
    NotificationPageSchema,
    PushJobArgs,
    PushJobPageSchema,
)
from services.notices import alerts, devices, inbox

blp = Blueprint("notifications", __name__, url_prefix="/api/v1", description="Devices, inbox and announcements")
admin_blp = Blueprint("admin_announcements", __name__, url_prefix="/api/v1/admin",
                      description="Announcements (admin)")


@blp.post("/me/devices")
@blp.arguments(DeviceInSchema)
@blp.response(201, DeviceSchema)
@blp.alt_response(200, schema=DeviceSchema, description="the token was known: its details are refreshed")
def register_device(body: dict[str, Any]) -> tuple[Any, int]:
    """Register this phone for pushes (call on every app start: it keeps `last_seen_at` fresh)."""
    result = devices.register(get_session(), current_principal().user_id, **body)
    return result.device, 201 if result.created else 200


@blp.get("/me/devices")
@blp.response(200, DeviceListSchema)
def list_devices() -> dict[str, Any]:
    """The caller's devices, newest first."""
    return {"items": devices.mine(get_session(), current_principal().user_id)}


@blp.delete("/me/devices/<string:device_id>")
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def delete_device(device_id: str) -> None:
    """Stop pushes to a device (on sign-out)."""
    devices.remove(get_session(), current_principal().user_id, device_id)


@blp.get("/me/notifications")
@blp.arguments(InboxArgs, location="query", as_kwargs=True)
@blp.response(200, NotificationPageSchema)
@read_only
def list_notifications(limit: int, cursor: list[Any] | None = None, unread: bool | None = None) -> Response:
    """The inbox, newest first, in the request's language."""
    args: dict[str, Any] = {"unread": unread, "after": cursor, "limit": limit}
    page = inbox.page(get_session(), current_principal().user_id, **args)
    remember_query(state().inbox_queries, args)
    return Response(inbox_page(state().notice_views, page, current_language()), mimetype="application/json")


@blp.get("/me/notifications/unread-count")
@blp.response(200, CountSchema)
@read_only
def unread_count() -> dict[str, int]:
    """For the badge on the bell."""
    return {"count": inbox.unread_count(get_session(), current_principal().user_id)}


@blp.post("/me/notifications/<string:notification_id>/read")
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def mark_read(notification_id: str) -> None:
    """Mark one notification read (again is fine)."""
    inbox.mark_read(get_session(), current_principal().user_id, notification_id)


@blp.post("/me/notifications/read-all")
@blp.response(204)
def mark_all_read() -> None:
    """Mark every notification read."""
    inbox.mark_all_read(get_session(), current_principal().user_id)


@blp.get("/announcements")
@blp.response(200, AnnouncementListSchema)
def list_announcements() -> dict[str, Any]:
    """The 20 latest announcements to everyone, and to the caller's agency for an official."""
    session = get_session()
    audiences = devices.topics_of(session, current_principal().user_id)
    return {"items": alerts.recent_announcements(session, audiences=audiences)}


@admin_blp.post("/announcements")
@admin_blp.arguments(AnnouncementInSchema)
@admin_blp.response(201, AnnouncementSchema)
@admin_blp.alt_response(404, response="NOT_FOUND")
def announce(body: dict[str, Any]) -> Any:
    """Broadcast to an FCM topic: `all`, or an agency code; recorded in the audit trail."""
    return alerts.announce(get_session(), current_actor(), **body)


@admin_blp.get("/push-jobs")
@admin_blp.arguments(PushJobArgs, location="query", as_kwargs=True)
@admin_blp.response(200, PushJobPageSchema)
def list_push_jobs(limit: int, status: str, cursor: list[Any] | None = None) -> dict[str, Any]:
    """The outbox by status, latest first: `failed` (the default) shows what FCM refused and why."""
    page = inbox.push_jobs(get_session(), status=status, after=cursor, limit=limit)
    return {"items": page.items, "next_cursor": encode_cursor(page.next_key)}
