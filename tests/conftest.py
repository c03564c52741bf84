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
from api.context import state_of
from api.push import make_worker
from notifications.fcm import FcmSender
from notifications.worker import PushWorker
from services import db, migrations
from services.clock import clock
from services.province.seed import seed_catalog
from services.reports.categories import seed_categories
from services.settings import Settings
from standins import fcm_emulator
from standins.tables import create_tables
from tests.notification_helpers import FcmEmulator
from tests.storage_helpers import S3StandIn


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
                             base_url=base_url, ratelimit_enabled=False, catalog_revision_ttl=0.0, map_revision_ttl=0.0,
                             eid_jwks_min_refetch_seconds=0,
                             storage_collect_every_hours=0,  # the collector chore runs only where a test asks
                             stream_dev_seconds=0.0)  # the Flask app's live streams end after their replay


@pytest.fixture(scope="session")
def app(settings: Settings) -> Iterator[Flask]:
    """The app under test, also served over real HTTP at `base_url`: the eID verifier fetches the
    mock provider's JWKS from there, as it would from a real provider."""
    migrations.upgrade(settings.database_url)  # as `flask db upgrade` does with the mock eID enabled
    create_tables(settings.database_url)
    app = create_app(settings)
    runtime = state_of(app).runtime
    seed_catalog(runtime.session())
    seed_categories(runtime.session())
    runtime.end_session()
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
    runtime = state_of(app).runtime
    connection = runtime.engine.connect()
    outer = connection.begin()
    runtime.bind(connection, join_transaction_mode="create_savepoint")
    try:
        yield runtime.session()
    finally:
        runtime.end_session()
        outer.rollback()
        connection.close()
        runtime.bind(runtime.engine)


@pytest.fixture
def client(app: Flask, session: db.Session) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_app(settings: Settings, session: db.Session) -> Callable[..., Flask]:
    """Another app with some settings changed, sharing the test's connection (and its rollback)."""

    def make(**changes: object) -> Flask:
        connection = session.get_bind()
        other = create_app(dataclasses.replace(settings, **changes))
        state_of(other).runtime.bind(connection, join_transaction_mode="create_savepoint")
        return other

    return make


@pytest.fixture(scope="session")
def fcm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FcmEmulator]:
    """Our FCM emulator on a free port, with a service account whose token_uri points at it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    credentials = tmp_path_factory.mktemp("fcm") / "service-account.json"
    account = fcm_emulator.write_credentials(credentials, token_uri=f"{base}/token")
    server = fcm_emulator.serve(fcm_emulator.create_emulator(account), "127.0.0.1", port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield FcmEmulator(base, str(credentials))
    server.shutdown()


@pytest.fixture(scope="session")
def fcm_sender(fcm: FcmEmulator) -> Iterator[FcmSender]:
    sender = FcmSender(fcm.credentials, endpoint=fcm.base)
    yield sender
    sender.close()


@pytest.fixture
def worker(app: Flask, session: db.Session, fcm: FcmEmulator, fcm_sender: FcmSender) -> PushWorker:
    """A push worker on the test's connection, sending through firebase-admin to the emulator; the clock
    stands still (tests move it past backoffs and leases)."""
    fcm.reset()
    clock.freeze(clock.now())
    return make_worker(state_of(app).runtime, fcm_sender)


@pytest.fixture(scope="session")
def s3() -> Iterator[S3StandIn]:
    """moto's S3 in server mode on a free local port, with dummy credentials in the environment (boto3's
    chain reads them, as it reads the real ones in production); no request leaves the machine."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    with pytest.MonkeyPatch.context() as env:
        for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                            "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                            "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}.items():
            env.setenv(name, value)
        env.delenv("AWS_PROFILE", raising=False)
        server.start()
        try:
            yield S3StandIn(f"http://127.0.0.1:{port}")
        finally:
            server.stop()
