"""Fixtures: one migrated and seeded database per run; every test inside a transaction rolled back.

SQLite by default; PostgreSQL when SMARTQN_TEST_DATABASE_URL is set (.ci/run does both).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from services import db, migrations
from services.seed import seed_catalog
from services.settings import Settings


def _database_url(tmp: Path) -> str:
    return os.environ.get("SMARTQN_TEST_DATABASE_URL") or f"sqlite:///{tmp / 'test.db'}"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    tmp = tmp_path_factory.mktemp("instance")
    return Settings.from_env({}, env="test", instance_dir=str(tmp), database_url=_database_url(tmp),
                             ratelimit_enabled=False, catalog_revision_ttl=0.0)


@pytest.fixture(scope="session")
def app(settings: Settings) -> Flask:
    migrations.upgrade(settings.database_url)
    app = create_app(settings)
    with app.app_context():
        seed_catalog(db.get_session())
        db.remove_session()
    return app


@pytest.fixture
def session(app: Flask) -> Iterator[db.Session]:
    """Bind the app's session to one connection whose outer transaction is rolled back afterwards."""
    engine = app.extensions["smartqn.engine"]
    connection = engine.connect()
    outer = connection.begin()
    db.bind(connection, join_transaction_mode="create_savepoint")
    try:
        yield db.get_session()
    finally:
        db.remove_session()
        outer.rollback()
        connection.close()
        db.bind(engine)


@pytest.fixture
def client(app: Flask, session: db.Session) -> FlaskClient:
    return app.test_client()
