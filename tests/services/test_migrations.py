"""Migrations create exactly what the models describe, and go down and up again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from api.context import state_of
from services import migrations
from services.db import Base, make_engine
from standins.tables import StandinBase, create_tables


def test_migrations_match_the_models(app, settings):
    engine = state_of(app).runtime.engine
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                "include_name": migrations.include_name})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_downgrade_to_base_and_upgrade_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    migrations.upgrade(url)
    engine = make_engine(url)
    assert {"agencies", "procedures"} <= set(inspect(engine).get_table_names())
    migrations.downgrade(url, "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    migrations.upgrade(url)
    assert "procedures" in inspect(engine).get_table_names()
    engine.dispose()


def test_the_standins_table_stays_out_of_the_production_schema(tmp_path):
    assert not [t for t in Base.metadata.tables if t.startswith(migrations.STANDIN_TABLE_PREFIX)]
    assert all(t.startswith(migrations.STANDIN_TABLE_PREFIX) for t in StandinBase.metadata.tables)
    url = f"sqlite:///{tmp_path / 'standins.db'}"
    migrations.upgrade(url)
    engine = make_engine(url)
    assert "mock_eid_codes" not in inspect(engine).get_table_names()
    create_tables(url)
    create_tables(url)  # idempotent, as on a database whose 0002 made the table before it left Alembic
    assert "mock_eid_codes" in inspect(engine).get_table_names()
    migrations.downgrade(url, "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()
