"""The app factory: settings, database, API blueprints, errors, logging and CLI commands."""

from __future__ import annotations

from flask import Flask

from api import errors, observability, openapi, routes
from api.caching import RenderedCache, RevisionCache
from api.cli import register_commands
from services import catalog, db
from services.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    observability.configure_logging(settings.log_level)

    app = Flask(__name__, instance_path=settings.instance_dir)
    # No SECRET_KEY in Flask's config on purpose: the API keeps no cookie session, and without a
    # key Flask skips signing one on every request. Our own secrets live in `settings`.
    app.config.update(MAX_CONTENT_LENGTH=64 * 1024 * 1024)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["smartqn.settings"] = settings
    app.extensions["smartqn.catalog_cache"] = RenderedCache(settings.catalog_cache_size)
    app.extensions["smartqn.catalog_revision"] = RevisionCache(_read_catalog_revision, settings.catalog_revision_ttl)

    engine = db.make_engine(settings.database_url)
    app.extensions["smartqn.engine"] = engine
    db.bind(engine)
    app.teardown_appcontext(lambda _exc: db.remove_session())

    openapi.configure(app)
    api = openapi.ProblemApi(app)
    routes.register(app, api)
    errors.install(app)
    observability.install(app)
    register_commands(app)
    return app


def _read_catalog_revision() -> int:
    # Runs inside a request; the request's session is reused and removed at teardown.
    return catalog.catalog_revision(db.get_session())
