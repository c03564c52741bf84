"""Command-line tools: `flask --app wsgi db …` (`smartqn db …` when installed), `seed`, `staff …`, `eid …`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext

from api.context import get_session, runtime, settings
from services import migrations
from services.errors import DomainError
from services.money import payments
from services.people import identity
from services.province.catalog_file import DEFAULT_FILE
from services.province.seed import seed_catalog
from services.reports.categories import seed_categories
from services.settings import Settings

# The demo people of the mock eID consent page who are staff after `seed --demo-staff`.
DEMO_STAFF = [("048078002345", "official", "000.20.17.H15"), ("049180003456", "admin", None)]


def _settings() -> Settings:
    return settings()


db_cli = AppGroup("db", help="Database migrations (Alembic).")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: head)."""
    settings = _settings()
    migrations.upgrade(settings.database_url, revision)
    if settings.eid_mock_enabled:
        from standins.tables import create_tables  # the mock eID's codes live outside the production schema

        create_tables(settings.database_url)


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
@with_appcontext
@click.option("--demo-staff", is_flag=True, help="Also make the mock eID's demo official and admin staff.")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A province's catalog file (JSON, the shape of services/seed_data/danang.json); default: Đà Nẵng.")
def seed(demo_staff: bool, path: str | None) -> None:
    """Load the catalog, every row checked first (idempotent: a second run changes nothing)."""
    try:
        report = seed_catalog(get_session(), path or DEFAULT_FILE)
    except DomainError as exc:
        for where, problems in (exc.errors or {}).items():
            click.echo(f"{where}: {'; '.join(problems)}", err=True)
        raise click.ClickException(f"nothing loaded: {exc.detail}") from exc
    click.echo(f"catalog: {report.created} created, {report.updated} updated, {report.unchanged} unchanged")
    click.echo(f"report categories: {seed_categories(get_session())} created")
    if demo_staff:
        from standins.eid import DEMO_CITIZENS  # the demo people are the mock eID's

        for cccd, role, agency in DEMO_STAFF:
            identity.grant_staff(get_session(), cccd, role=role, agency_code=agency, granted_by="seed")
        names = ", ".join(p["full_name"] for p in DEMO_CITIZENS if p["cccd"] in {c for c, _, _ in DEMO_STAFF})
        click.echo(f"demo staff: {names}")


staff_cli = AppGroup("staff", help="Staff roles, by citizen number (works before the first sign-in).")


@staff_cli.command("grant")
@click.argument("cccd")
@click.option("--role", type=click.Choice(["official", "admin"]), required=True)
@click.option("--agency", "agency_code", help="Agency code; required for an official.")
def staff_grant(cccd: str, role: str, agency_code: str | None) -> None:
    """Make CCCD an official of one agency, or an admin."""
    try:
        staff = identity.grant_staff(get_session(), cccd, role=role, agency_code=agency_code, granted_by="cli")
    except DomainError as exc:
        raise click.ClickException(f"{exc.code}: {exc.detail} {exc.errors or ''}".strip()) from exc
    click.echo(f"{cccd[-4:].rjust(12, '*')}: {staff.role.value} {agency_code or ''}".rstrip())


@staff_cli.command("revoke")
@click.argument("cccd")
def staff_revoke(cccd: str) -> None:
    """Take CCCD's staff role away."""
    try:
        identity.revoke_staff(get_session(), cccd)
    except DomainError as exc:
        raise click.ClickException(f"{exc.code}: {exc.detail}") from exc
    click.echo(f"{cccd[-4:].rjust(12, '*')}: citizen")


eid_cli = AppGroup("eid", help="The mock eID provider.")


@eid_cli.command("rotate-key")
def eid_rotate_key() -> None:
    """Add a new signing key; older keys stay in the JWKS so issued tokens keep verifying."""
    from standins.eid import KEYS, KeyStore

    keys = current_app.extensions.get(KEYS) or KeyStore(f"{current_app.instance_path}/eid-keys")
    click.echo(f"new signing key: {keys.add_key()}")


payments_cli = AppGroup("payments", help="Online fee payments.")


@payments_cli.command("expire")
def payments_expire() -> None:
    """Mark pending payments past their expiry as expired (the notifications worker also does this)."""
    click.echo(f"expired: {payments.expire_stale(get_session())}")


@click.command("calendar")
@with_appcontext
@click.argument("year", type=click.IntRange(2000, 2100))
def calendar_year(year: int) -> None:
    """List the year's days off on weekdays and worked weekend days, as deadlines will count them."""
    for day, what in runtime().calendar.year(year):
        click.echo(f"{day:%a %d/%m/%Y}  {what}")


def register_commands(app: Flask) -> None:
    from api.cli.events import events_cli
    from api.cli.notifications import notifications_cli
    from api.cli.storage import storage_cli

    for command in (db_cli, seed, calendar_year, staff_cli, eid_cli, payments_cli, notifications_cli, storage_cli,
                    events_cli):
        app.cli.add_command(command)


def main() -> None:
    """The `smartqn` console script: the flask CLI with the app (`smartqn db upgrade`, `smartqn seed`, …),
    as `flask --app wsgi …` is from a checkout."""
    from api import create_app  # api imports this module

    FlaskGroup(create_app=create_app)()
