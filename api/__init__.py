"""The app factory: settings, database, API blueprints, guards, errors, logging and CLI commands."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from api import errors, guards, observability, openapi, push, routes
from api.caching import RenderedCache, RevisionCache
from api.cli import register_commands
from api.ratelimit import create_limiter
from services import catalog, db
from services.eid import JwksCache
from services.settings import Settings
from services.storage import LocalStorage


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    observability.configure_logging(settings.log_level)

    app = Flask(__name__, instance_path=settings.instance_dir, static_folder=None)
    # No SECRET_KEY in Flask's config on purpose: the API keeps no cookie session, and without a
    # key Flask skips signing one on every request. Our own secrets live in `settings`.
    # Beyond this, werkzeug refuses the body before reading it (413); the storage counts exact bytes.
    app.config.update(MAX_CONTENT_LENGTH=(settings.max_upload_mb + 1) * 1024 * 1024)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies,  # type: ignore[method-assign]
                                x_proto=settings.trusted_proxies)
    app.extensions["smartqn.settings"] = settings
    app.extensions["smartqn.catalog_cache"] = RenderedCache(settings.catalog_cache_size)
    app.extensions["smartqn.catalog_revision"] = RevisionCache(_read_catalog_revision, settings.catalog_revision_ttl)
    app.extensions["smartqn.jwks"] = JwksCache(settings.eid_jwks_url, ttl=settings.eid_jwks_cache_seconds,
                                               min_refetch=settings.eid_jwks_min_refetch_seconds)
    app.extensions["smartqn.calendar"] = settings.working_calendar()
    app.extensions["smartqn.storage"] = LocalStorage(settings.storage_dir)

    engine = db.make_engine(settings.database_url)
    app.extensions["smartqn.engine"] = engine
    db.bind(engine)
    app.teardown_appcontext(lambda _exc: db.remove_session())

    openapi.configure(app)
    api = openapi.ProblemApi(app, spec_kwargs={"extra_plugins": [guards.GuardDocs(routes.GUARDS)]})
    openapi.register_converters(app, api)
    observability.install(app)  # first: every later hook and error already has a request id
    limiter = app.extensions["smartqn.limiter"] = create_limiter(app, settings)
    guards.install(app, routes.GUARDS)
    routes.register(app, api, limiter, settings)
    errors.install(app)
    register_commands(app)
    if settings.push_worker == "inline":
        push.start_inline(app)
    return app


def _read_catalog_revision() -> int:
    # Runs inside a request; the request's session is reused and removed at teardown.
    return catalog.catalog_revision(db.get_session())
