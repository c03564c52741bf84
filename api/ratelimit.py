"""Per-client-address rate limits (Flask-Limiter; in memory, or Redis when configured)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from services.settings import Settings


def create_limiter(app: Flask, settings: Settings) -> Limiter | None:
    """The limiter, or None when limits are off (then no per-request hook runs at all)."""
    if not settings.ratelimit_enabled:
        return None
    return Limiter(
        key_func=get_remote_address,
        app=app,
        storage_uri=settings.ratelimit_storage_url,
        strategy="moving-window",
        headers_enabled=True,  # X-RateLimit-* and, on 429, Retry-After
        key_prefix="smartqn",
    )


def limit(app: Flask, limiter: Limiter | None, value: str, *, blueprints: tuple[Any, ...] = (),
          endpoints: tuple[str, ...] = ()) -> None:
    """Limit whole blueprints, or single endpoints of an app whose views are already registered."""
    if limiter is None:
        return
    decorate: Callable[[Any], Any] = limiter.limit(value)
    for blueprint in blueprints:
        decorate(blueprint)
    for endpoint in endpoints:
        # Flask-Limiter checks a decorated view inside its wrapper, so the app must call the wrapper.
        app.view_functions[endpoint] = decorate(app.view_functions[endpoint])
