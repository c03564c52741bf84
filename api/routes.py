"""Every blueprint of the app, in one place."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from api import catalog, health


def register(app: Flask, api: Api) -> None:
    api.register_blueprint(health.blp)
    api.register_blueprint(catalog.blp)
