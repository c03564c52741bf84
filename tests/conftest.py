"""Fixtures: one migrated and seeded database per run; every test inside a transaction rolled back.

SQLite by default; PostgreSQL when SMARTQN_TEST_DATABASE_URL is set (.ci/run does both).
"""

from __future__ import annotations

import dataclasses
import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from api import create_app
from services import db, migrations
from services.clock import clock
from services.seed import seed_catalog
from services.settings import Settings


def _database_url(tmp: Path) -> str:
    return os.environ.get("SMARTQN_TEST_DATABASE_URL") or f"sqlite:///{tmp / 'test.db'}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def base_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, base_url: str) -> Settings:
    tmp = tmp_path_factory.mktemp("instance")
    return Settings.from_env({}, env="test", instance_dir=str(tmp), database_url=_database_url(tmp),
                             base_url=base_url, ratelimit_enabled=False, catalog_revision_ttl=0.0,
                             eid_jwks_min_refetch_seconds=0)


@pytest.fixture(scope="session")
def app(settings: Settings) -> Iterator[Flask]:
    """The app under test, also served over real HTTP at `base_url`: the eID verifier fetches the
    mock provider's JWKS from there, as it would from a real provider."""
    migrations.upgrade(settings.database_url)
    app = create_app(settings)
    with app.app_context():
        seed_catalog(db.get_session())
        db.remove_session()
    server = make_server("127.0.0.1", int(settings.base_url.rsplit(":", 1)[1]), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app
    server.shutdown()


@pytest.fixture(autouse=True)
def _real_time() -> Iterator[None]:
    yield
    clock.reset()


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


@pytest.fixture
def make_app(settings: Settings, session: db.Session) -> Callable[..., Flask]:
    """Another app with some settings changed, sharing the test's connection (and its rollback)."""

    def make(**changes: object) -> Flask:
        connection = session.get_bind()
        other = create_app(dataclasses.replace(settings, **changes))
        db.bind(connection, join_transaction_mode="create_savepoint")  # create_app bound its own engine
        return other

    return make
