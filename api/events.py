"""The live streams in the Flask app: GET /api/v1/me/events and /api/v1/admin/events.

Production serves these paths from the asyncio stream server (`flask --app wsgi events stream`,
api/stream.py), which holds thousands of streams in one process; the proxy sends them there. Served
from here (`make run`, tests) a stream holds a server thread, so it ends after SMARTQN_STREAM_DEV_SECONDS (30)
and the client reconnects with Last-Event-ID, as SSE clients do after any disconnect.

In production (SMARTQN_ENV=production) these endpoints answer 503 `service_unavailable` with
`Retry-After` at once, before any database work: a stream here would hold one of gunicorn's few sync
workers for its whole life (a few hundred phones would take them all and the API would stop), and a
short-lived stream only hides a proxy that sends the paths to the wrong place. The 503 says where the
streams are, and an SSE client retries after the delay, so fixing the proxy route is all it takes.
"""

from __future__ import annotations

from flask import Response, request, stream_with_context

from api.blueprint import Blueprint
from api.context import get_session, runtime, settings
from api.guards import current_principal
from api.openapi import documented
from services.clock import clock
from services.errors import Unavailable
from services.events import stream

LAST_EVENT_ID = {"in": "header", "name": "Last-Event-ID", "required": False,
                 "description": "the id of the last event received: what followed (up to 24 hours) is sent "
                                "first; a value that is not one of our ids is ignored",
                 "schema": {"type": "string"}}
SSE = {"text/event-stream": {"schema": {
    "type": "object", "description": (
        "One Server-Sent Event. `id`: the event id (for Last-Event-ID); `event`: its type (dossier.submitted, "
        "dossier.status_changed, dossier.transferred, payment.succeeded, report.created, report.status_changed; "
        "on the citizen's stream also unread_count); `data`: JSON, {id, type, occurred_at, sequence, data} as "
        "webhooks get, or {unread_count}. Comment lines are heartbeats."),
    "properties": {"id": {"type": "string"}, "event": {"type": "string"}, "data": {"type": "string"},
                   "retry": {"type": "integer"}}}}}

me_blp = Blueprint("me_events", __name__, url_prefix="/api/v1/me", description="Live updates (Server-Sent Events)")
admin_blp = Blueprint("admin_events", __name__, url_prefix="/api/v1/admin",
                      description="Live updates (Server-Sent Events)")


NOT_HERE = ("live streams are served by the stream server (flask --app wsgi events stream), not the API "
            "servers: route /api/v1/me/events and /api/v1/admin/events to it at the proxy")


def _stream(kind: str) -> Response:
    if settings().is_production:
        raise Unavailable(NOT_HERE, headers={"Retry-After": "30"})
    principal = current_principal()
    audience = stream.audience_of(get_session(), principal, kind)
    after = stream.last_event_id(request.headers.get("Last-Event-ID"))
    s = settings()
    unread_of = principal.user_id if kind == stream.ME else None
    body = stream.follow(runtime().sessions, audience, after, unread_of=unread_of, now=clock.now(),
                         replay_hours=s.stream_replay_hours, poll_seconds=max(s.stream_poll_seconds, 0.2),
                         heartbeat_seconds=s.stream_heartbeat_seconds, seconds=s.stream_dev_seconds)
    return Response(stream_with_context(body), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@me_blp.get("/events")
@me_blp.doc(parameters=[LAST_EVENT_ID])
@me_blp.response(200, description="the caller's dossiers' changes, payments and unread count, as they happen",
                 content_type="text/event-stream")
@me_blp.alt_response(503, response="SERVICE_UNAVAILABLE")
@documented(200, content=SSE)
def my_events() -> Response:
    """The signed-in citizen's live updates (never another person's)."""
    return _stream(stream.ME)


@admin_blp.get("/events")
@admin_blp.doc(parameters=[LAST_EVENT_ID])
@admin_blp.response(200, description="changes to the official's agency queue (an admin: every agency's)",
                    content_type="text/event-stream")
@admin_blp.alt_response(404, response="NOT_FOUND")
@admin_blp.alt_response(503, response="SERVICE_UNAVAILABLE")
@documented(200, content=SSE)
def agency_events() -> Response:
    """The official's agency queue, live: dossiers submitted, moved, transferred in or out, paid."""
    return _stream(stream.ADMIN)
