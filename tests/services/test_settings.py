"""Configuration: parsed from SMARTQN_*, refused when production would run on development defaults."""

from __future__ import annotations

import pytest

from api import create_app
from services.settings import DEV_SECRET, ConfigError, Settings

PG = "postgresql+psycopg://app@db/smartqn"
STRONG = "x" * 40


def test_defaults_serve_development_on_a_sqlite_file_under_instance():
    settings = Settings.from_env({})
    assert settings.env == "development" and settings.is_sqlite
    assert settings.database_url.endswith("instance/smartqn.db")
    assert settings.eid_jwks_url == "http://127.0.0.1:5000/mock-eid/jwks.json"


def test_values_are_parsed_by_type():
    settings = Settings.from_env({"SMARTQN_RATELIMIT_ENABLED": "false", "SMARTQN_ACCESS_TOKEN_TTL": "600",
                                  "SMARTQN_EID_AUDIENCE": "a, b", "SMARTQN_LOG_LEVEL": "DEBUG"})
    assert settings.ratelimit_enabled is False and settings.access_token_ttl == 600
    assert settings.eid_audience == ("a", "b") and settings.log_level == "DEBUG"


@pytest.mark.parametrize("environ", [
    {"SMARTQN_RATELIMIT_ENABLED": "maybe"},
    {"SMARTQN_ACCESS_TOKEN_TTL": "soon"},
    {"SMARTQN_ENV": "staging"},
    {"SMARTQN_PUSH_SENDER": "apns"},
    {"SMARTQN_PUSH_SENDER": "fcm"},  # without credentials
    {"SMARTQN_PUSH_WORKER": "yes"},
    {"SMARTQN_PUSH_BATCH_SIZE": "1000"},
    {"SMARTQN_STORAGE_BACKEND": "nfs"},
    {"SMARTQN_STORAGE_BACKEND": "s3"},  # without a bucket
    {"SMARTQN_STORAGE_COLLECT_WINDOW": "night"},
    {"SMARTQN_STORAGE_COLLECT_WINDOW": "03:00-03:00"},
    {"SMARTQN_STORAGE_COLLECT_EVERY_HOURS": "-1"},
])
def test_malformed_values_are_refused(environ):
    with pytest.raises(ConfigError):
        Settings.from_env(environ)


@pytest.mark.parametrize("environ", [
    {"SMARTQN_DATABASE_URL": PG},
    {"SMARTQN_DATABASE_URL": PG, "SMARTQN_SECRET_KEY": DEV_SECRET},
    {"SMARTQN_DATABASE_URL": PG, "SMARTQN_SECRET_KEY": "short"},
    {"SMARTQN_SECRET_KEY": STRONG},
    {"SMARTQN_SECRET_KEY": STRONG, "SMARTQN_DATABASE_URL": "sqlite:////var/lib/smartqn.db"},
    {"SMARTQN_SECRET_KEY": STRONG, "SMARTQN_DATABASE_URL": PG, "SMARTQN_EID_MOCK_ENABLED": "true"},
])
def test_production_refuses_development_secret_or_sqlite(environ):
    with pytest.raises(ConfigError):
        Settings.from_env({"SMARTQN_ENV": "production", **environ})


def test_production_starts_with_a_real_secret_postgresql_and_no_mock_eid():
    production = {"SMARTQN_ENV": "production", "SMARTQN_SECRET_KEY": STRONG, "SMARTQN_DATABASE_URL": PG}
    with pytest.raises(ConfigError, match="PAYMENT_MOCK"):
        Settings.from_env(production)
    production.update(SMARTQN_PAYMENT_MOCK_ENABLED="false", SMARTQN_VNPAY_HASH_SECRET="s" * 32)
    with pytest.raises(ConfigError, match="POSTAL_MOCK"):
        Settings.from_env(production)
    production.update(SMARTQN_POSTAL_MOCK_ENABLED="false", SMARTQN_POSTAL_HMAC_SECRET="p" * 32,
                      SMARTQN_POSTAL_CARRIER_URL="https://carrier.example.vn/api")
    with pytest.raises(ConfigError, match="EID_MOCK"):
        Settings.from_env(production)
    production.update(SMARTQN_EID_MOCK_ENABLED="false", SMARTQN_EID_ISSUER="https://vneid.example.gov.vn")
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URL"):  # memory:// counts per worker
        Settings.from_env(production)
    settings = Settings.from_env({**production, "SMARTQN_RATELIMIT_STORAGE_URL": "redis://127.0.0.1:6379/0"})
    assert settings.is_production and settings.eid_jwks_url == "https://vneid.example.gov.vn/jwks.json"


def test_create_app_reads_the_environment_and_refuses_production_on_sqlite(monkeypatch):
    monkeypatch.setenv("SMARTQN_ENV", "production")
    monkeypatch.setenv("SMARTQN_SECRET_KEY", STRONG)
    with pytest.raises(ConfigError, match="PostgreSQL"):
        create_app()
