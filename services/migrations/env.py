"""Alembic environment: the models' metadata, the URL from the settings the CLI passed in."""

from __future__ import annotations

from alembic import context

import services.models  # noqa: F401  (registers every table on Base.metadata)
from services.db import Base, make_engine
from services.migrations import include_name

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True, include_name=include_name)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url", ""))
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode copies, drops and renames tables: rows that reference them must neither block
            # the drop nor be deleted by ON DELETE CASCADE. The pragma only works outside a transaction,
            # so it goes on the raw connection before Alembic begins; the keys are checked at the end.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          compare_type=True, include_name=include_name)
        with context.begin_transaction():
            context.run_migrations()
            if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").all()):
                raise RuntimeError(f"foreign keys broken by the migration: {broken}")
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
