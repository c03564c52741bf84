"""`flask --app wsgi events replay --since … [--until …] --subscription ID` and `events stream`."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup

from api.context import state_of
from services.events import webhooks

events_cli = AppGroup("events", help="The event log: webhook repair and the live-stream server.")


def _when(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO 8601 time: {value!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@events_cli.command("replay")
@click.option("--since", required=True, help="ISO 8601 time (UTC when no offset), e.g. 2026-11-20T00:00+07:00")
@click.option("--until", default=None, help="ISO 8601 time; default: now")
@click.option("--subscription", "subscription_id", required=True, help="the webhook subscription's id")
def replay(since: str, until: str | None, subscription_id: str) -> None:
    """Send a period's events to a subscription again, in order (receivers de-duplicate by event id);
    the workers deliver them. Queued in batches of 1,000, one transaction each."""
    runtime = state_of(current_app).runtime
    count = webhooks.replay(runtime.session(), subscription_id, since=_when(since),
                            until=_when(until) if until else None, settings=runtime.settings,
                            progress=lambda n: click.echo(f"… {n}", err=True))
    click.echo(f"queued: {count}")


@events_cli.command("stream")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8081, show_default=True, type=int)
def stream_server(host: str, port: int) -> None:
    """Serve GET /api/v1/me/events and /api/v1/admin/events (SSE) from one asyncio process: thousands
    of streams, one poll of the event log for all of them. Route these two paths here at the proxy."""
    from api.stream import serve

    click.echo(f"live streams on http://{host}:{port}/api/v1/me/events and /api/v1/admin/events")
    serve(state_of(current_app).runtime, host, port)
