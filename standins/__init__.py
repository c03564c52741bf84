"""Development stand-ins for remote systems (mock eID provider, mock bank, mock postal carrier, FCM emulator):
never production."""

from __future__ import annotations

from flask import Flask

from services.settings import Settings
from standins import bank, eid_views, mock_carrier
from standins.eid import KEYS, KeyStore


def register(app: Flask, settings: Settings) -> None:
    """Mount the enabled mocks; api/routes.py imports this package only when one of them is enabled."""
    if settings.eid_mock_enabled:
        app.extensions[KEYS] = KeyStore(f"{settings.instance_dir}/eid-keys")
        app.register_blueprint(eid_views.blp)
    if settings.payment_mock_enabled:
        app.register_blueprint(bank.blp)
    if settings.postal_mock_enabled:
        app.register_blueprint(mock_carrier.blp)
