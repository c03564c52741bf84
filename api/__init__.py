"""The app factory: settings, database, API blueprints, guards, errors, logging and CLI commands."""

from __future__ import annotations

from werkzeug.middleware.proxy_fix import ProxyFix

from api import edge, errors, guards, metrics, observability, openapi, push, routes, security, shedding
from api.caching import RenderedCache, RevisionCache
from api.cli import register_commands
from api.context import KEY, AppState
from api.ratelimit import create_limiter
from api.replay import ReplayingFlask
from services.province import catalog
from services.runtime import Runtime
from services.settings import Settings


def create_app(settings: Settings | None = None) -> ReplayingFlask:
    settings = settings or Settings.from_env()
    observability.configure_logging(settings.log_level)

    app = ReplayingFlask(__name__, instance_path=settings.instance_dir, static_folder=None)
    # No SECRET_KEY in Flask's config on purpose: the API keeps no cookie session, and without a
    # key Flask skips signing one on every request. Our own secrets live in `settings`.
    # Beyond this, werkzeug refuses the body before reading it (413); the storage counts exact bytes.
    app.config.update(MAX_CONTENT_LENGTH=(settings.max_upload_mb + 1) * 1024 * 1024)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    edge.install(app, security.hsts_value(settings))  # innermost: the proxy fix and the shedder run first
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies,  # type: ignore[method-assign]
                                x_proto=settings.trusted_proxies)
    runtime = Runtime.build(settings)
    state = app.extensions[KEY] = AppState(
        runtime, RenderedCache(settings.catalog_cache_size),
        RevisionCache(lambda: catalog.catalog_revision(runtime.session()), settings.catalog_revision_ttl))
    app.teardown_appcontext(lambda _exc: runtime.end_session())

    openapi.configure(app)
    api = openapi.ProblemApi(app, spec_kwargs={"extra_plugins": [guards.GuardDocs(routes.GUARDS),
                                                                     openapi.ContractDocs(app)]})
    openapi.register_converters(app, api)
    observability.install(app)  # first: every later hook and error already has a request id
    security.install(app, settings)
    metrics.install(app, settings.metrics_token)
    limiter = state.limiter = create_limiter(app, settings)
    guards.install(app, routes.GUARDS)
    routes.register(app, api, limiter, settings)
    errors.install(app)
    register_commands(app)
    if settings.push_worker == "inline":
        state.push_worker = push.start_inline(runtime)
    shedding.install(app, settings.shed_queue_ms)  # outermost WSGI layer: a shed request costs next to nothing
    return app
