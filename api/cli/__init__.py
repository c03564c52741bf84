"""Command-line tools: `flask --app wsgi db …`, `seed`."""

from __future__ import annotations

import click
from flask import Flask, current_app

from services import migrations
from services.db import get_session
from services.seed import seed_catalog
from services.settings import Settings


def _settings() -> Settings:
    return current_app.extensions["smartqn.settings"]


db_cli = click.Group("db", help="Database migrations (Alembic).")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: head)."""
    migrations.upgrade(_settings().database_url, revision)


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION (e.g. -1 or base)."""
    migrations.downgrade(_settings().database_url, revision)


@db_cli.command("current")
def db_current() -> None:
    """Show the revision the database is at."""
    migrations.current(_settings().database_url)


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate/--empty", default=True)
def db_revision(message: str, autogenerate: bool) -> None:
    """Write a new migration from the difference between the models and the database."""
    migrations.revision(_settings().database_url, message, autogenerate)


@click.command("seed")
def seed() -> None:
    """Load the demo catalog (idempotent: a second run changes nothing)."""
    report = seed_catalog(get_session())
    click.echo(f"catalog: {report.created} created, {report.updated} updated, {report.unchanged} unchanged")


def register_commands(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(seed)
