"""Alembic, driven from code: the CLI, the test suite and `make run` all migrate the same way.

The migration scripts (env.py, versions/) live beside this module, so they ship in the wheel."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

SCRIPT_LOCATION = Path(__file__).resolve().parent
# Tables of the development stand-ins (standins/tables.py) are named so and kept out of Alembic:
# `db upgrade` creates them apart, only with the mock eID enabled, and autogenerate ignores them.
STANDIN_TABLE_PREFIX = "mock_"


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's filter: the production schema, without the stand-ins' tables."""
    return not (type_ == "table" and (name or "").startswith(STANDIN_TABLE_PREFIX))


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    # ConfigParser interpolation would choke on a % in a password.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def current(database_url: str) -> None:
    command.current(alembic_config(database_url), verbose=True)


def revision(database_url: str, message: str, autogenerate: bool = True) -> None:
    command.revision(alembic_config(database_url), message=message, autogenerate=autogenerate)
