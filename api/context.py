"""The app-wide objects a view needs: settings, the eID key cache, the calendar, the storage."""

from __future__ import annotations

from flask import current_app

from services.calendar import WorkingCalendar
from services.eid import JwksCache
from services.settings import Settings
from services.storage import Storage


def settings() -> Settings:
    return current_app.extensions["smartqn.settings"]


def jwks() -> JwksCache:
    return current_app.extensions["smartqn.jwks"]


def calendar() -> WorkingCalendar:
    return current_app.extensions["smartqn.calendar"]


def storage() -> Storage:
    return current_app.extensions["smartqn.storage"]
