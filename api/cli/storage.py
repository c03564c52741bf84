"""`flask --app wsgi storage …`: the stored bytes (local disk or S3) and their collector."""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import AppGroup

from api.context import get_session, storage
from services.wallet import collector

storage_cli = AppGroup("storage", help="Stored files (attachments, wallet papers): usage and garbage collection.")


@storage_cli.command("collect")
@click.option("--grace-minutes", type=click.IntRange(0, None), default=60, show_default=True,
              help="Leave files stored less than this long ago.")
def storage_collect(grace_minutes: int) -> None:
    """Delete stored files that no attachment, wallet item or other row refers to any more."""
    freed = collector.collect(get_session(), storage(), grace=timedelta(minutes=grace_minutes))
    left = collector.stored_total(get_session())
    click.echo(f"collected: {freed.files} files, {freed.bytes} bytes; stored: {left.files} files, {left.bytes} bytes")


@storage_cli.command("usage")
def storage_usage() -> None:
    """How many distinct files are stored and their bytes (each content once)."""
    total = collector.stored_total(get_session())
    click.echo(f"stored: {total.files} files, {total.bytes} bytes")
