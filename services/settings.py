"""One settings object, read once from SMARTQN_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from datetime import date, time
from pathlib import Path

from services.calendar import WorkingCalendar, parse_hours, parse_window

DEV_SECRET = "dev-insecure-secret-change-me"
DEV_VNPAY_SECRET = "dev-vnpay-hash-secret"
DEV_POSTAL_SECRET = "dev-postal-hmac-secret"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """The environment describes a configuration the app must not start with."""


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"not a boolean: {value!r}")


def _csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """Every knob of the app; each field is read from SMARTQN_<FIELD NAME IN CAPITALS>."""

    env: str = "development"
    instance_dir: str = str(PROJECT_ROOT / "instance")
    database_url: str = ""
    secret_key: str = DEV_SECRET
    log_level: str = "INFO"
    base_url: str = "http://127.0.0.1:5000"
    # A short in-process cache of catalog responses, revalidated against the catalog revision.
    catalog_cache_size: int = 256
    # Overload shedding (api/shedding.py): a request that waited longer than this for a worker, by the
    # proxy's X-Request-Start stamp, is answered 503 with Retry-After; 0 turns it off.
    shed_queue_ms: int = 100
    # Seconds a process trusts the catalog revision it last read (how long a change takes to show).
    catalog_revision_ttl: float = 1.0
    # Seconds a process trusts the map cell revisions it last read for a box (0: read them every time).
    map_revision_ttl: float = 1.0
    # Identity
    eid_mock_enabled: bool = True
    eid_issuer: str = ""
    # Accepted `aud` values of eID tokens; the mock provider accepts these as its client ids.
    eid_audience: tuple[str, ...] = ("smartqn-app",)
    eid_jwks_url: str = ""
    eid_leeway_seconds: int = 30
    eid_jwks_cache_seconds: int = 3600
    eid_jwks_min_refetch_seconds: int = 30
    eid_mock_token_ttl: int = 600
    # The admin portal's browser sign-in (authorization code + PKCE); default: the mock provider's.
    eid_authorize_url: str = ""
    eid_token_url: str = ""
    access_token_ttl: int = 900
    # How often a process re-reads whether a session was ended or a role changed (then 401 at once).
    revocation_check_seconds: float = 60.0
    refresh_token_ttl_days: int = 30
    ratelimit_enabled: bool = True
    ratelimit_storage_url: str = "memory://"
    # Per client address. Generous: many phones share one carrier NAT address.
    ratelimit_auth: str = "60 per minute;600 per hour"
    ratelimit_lookup: str = "30 per minute;300 per hour"
    # The gateway's IPN, per address: generous for the gateway's few servers, a wall for a flood.
    ratelimit_ipn: str = "3000 per minute"
    # Dossiers
    storage_dir: str = ""
    # Where attachments' bytes live: local (storage_dir, one machine) or s3 (a bucket of AWS S3, MinIO or
    # any S3-compatible server; credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or boto3's chain).
    storage_backend: str = "local"
    s3_bucket: str = ""
    s3_endpoint_url: str = ""  # empty: AWS; e.g. http://minio:9000
    s3_region: str = ""
    s3_prefix: str = "attachments"
    max_upload_mb: int = 10
    # A JSON request body (a dossier's form included) is at most this big; more answers 413.
    max_json_kb: int = 256
    # Government day swaps the holidays package does not know yet (ISO dates, comma-separated).
    extra_days_off: tuple[str, ...] = ()
    makeup_workdays: tuple[str, ...] = ()
    # Office hours (half-day procedures count in them) and the afternoon cut-off after which a dossier
    # counts from the next working day; a procedure may set its own cut-off.
    office_hours: str = "07:30-11:30,13:00-17:00"
    cutoff_time: str = "15:00"
    # Payments (VNPay's protocol; the mock gateway by default)
    payment_mock_enabled: bool = True
    vnpay_tmn_code: str = "SMARTQN1"
    vnpay_hash_secret: str = DEV_VNPAY_SECRET
    vnpay_url: str = ""
    vnpay_return_url: str = ""
    vnpay_ipn_url: str = ""
    payment_ttl_minutes: int = 15
    # The postal carrier (bưu chính công ích): its waybill API (default: the mock carrier), our key there,
    # the HMAC-SHA256 secret of its signed status callbacks, and where it sends them.
    postal_mock_enabled: bool = True
    postal_carrier_url: str = ""
    postal_api_key: str = ""
    postal_hmac_secret: str = DEV_POSTAL_SECRET
    postal_callback_url: str = ""
    postal_timeout_seconds: float = 10.0
    # Notifications (notifications/): who sends pushes, and the worker that drains the outbox
    push_sender: str = "log"  # log | memory | fcm
    push_worker: str = "off"  # inline: a worker thread inside each server process (make run)
    fcm_credentials: str = ""  # a service-account JSON file (its token_uri may point at the emulator)
    fcm_endpoint: str = ""  # e.g. http://127.0.0.1:8765 for `flask notifications emulator`
    push_batch_size: int = 500
    # Messages sent together and then marked in their own transaction: a worker killed mid-batch sends
    # at most this many twice (the rest of its claim goes out once, after the lease).
    push_send_group: int = 8
    push_max_attempts: int = 10
    push_lease_seconds: int = 60
    push_backoff_seconds: float = 2.0  # the first retry's delay; doubled each time, with jitter
    push_backoff_max_seconds: float = 900.0
    push_poll_seconds: float = 0.5
    # Deadline alerts, payment expiry and device housekeeping, run by the worker every so often.
    push_periodic_seconds: float = 60.0
    device_retention_days: int = 270
    # The collector of stored bytes nothing refers to (services.wallet.collector), a chore of every worker:
    # at most once per this many hours per worker (0 turns the chore off), only within the local window
    # (a quiet time of night; empty: any hour), leaving files first stored less than the grace ago.
    storage_collect_every_hours: float = 24.0
    storage_collect_window: str = "02:00-05:00"
    storage_collect_grace_minutes: int = 60
    # Webhooks (services.events.delivery), sent by the same worker processes as pushes
    webhook_timeout_seconds: float = 5.0  # per POST, the whole call: connect, send and read to the last byte
    webhook_per_endpoint: int = 8  # POSTs in flight to one subscription, per worker
    webhook_threads: int = 16  # POSTs in flight per worker, all subscriptions together
    webhook_lease_seconds: int = 60  # a delivery claimed by a worker that died is due again after this
    webhook_backoff_seconds: float = 10.0  # the first retry's delay; doubled each time, with jitter
    webhook_backoff_max_seconds: float = 3600.0
    webhook_retry_hours: float = 72.0  # timeouts, 5xx and 429 are retried this long
    webhook_deactivate_hours: float = 24.0  # failing this long without a success deactivates a subscription
    webhook_poll_seconds: float = 0.1
    # Webhook URLs that are (or resolve to) loopback, private, link-local or otherwise non-public
    # addresses: refused in production (an admin's URL must not reach our own network: SSRF), allowed
    # in development and tests, whose receivers listen on 127.0.0.1. Unset: false in production only.
    webhook_allow_private: bool | None = None
    # The live streams (services.events.stream, `flask events stream`): heartbeat and replay window
    stream_heartbeat_seconds: float = 15.0
    stream_replay_hours: float = 24.0
    stream_poll_seconds: float = 0.1
    stream_dev_seconds: float = 30.0  # a stream served by the Flask app (make run) ends after this
    stream_queue_size: int = 256  # messages waiting for a client that does not read; then it is dropped
    # The bearer token Prometheus must send to /metrics (empty: open; keep /metrics off the public proxy).
    metrics_token: str = ""
    # Strict-Transport-Security on HTTPS responses (0: none; a year is 31536000 once HTTPS is certain).
    hsts_seconds: int = 0
    # How many reverse proxies in front of the app set X-Forwarded-For (0: trust none).
    trusted_proxies: int = 0

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{Path(self.instance_dir) / 'smartqn.db'}")
        if not self.storage_dir:
            object.__setattr__(self, "storage_dir", str(Path(self.instance_dir) / "storage"))
        for name, path in (("vnpay_url", "/mock-gateway/pay"), ("vnpay_return_url", "/api/v1/payments/vnpay/return"),
                           ("vnpay_ipn_url", "/api/v1/payments/vnpay/ipn"), ("postal_carrier_url", "/mock-carrier"),
                           ("postal_callback_url", "/api/v1/postal/callback")):
            if not getattr(self, name):
                object.__setattr__(self, name, self.base_url + path)
        if self.webhook_allow_private is None:
            object.__setattr__(self, "webhook_allow_private", not self.is_production)
        if not self.eid_issuer:
            object.__setattr__(self, "eid_issuer", f"{self.base_url}/mock-eid")
        for name, path in (("eid_jwks_url", "/jwks.json"), ("eid_authorize_url", "/authorize"),
                           ("eid_token_url", "/token")):
            if not getattr(self, name):
                object.__setattr__(self, name, self.eid_issuer + path)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = environ.get(f"SMARTQN_{f.name.upper()}")
            if raw is None:
                continue
            kind = f.type if isinstance(f.type, str) else f.type.__name__
            try:
                if kind in ("bool", "bool | None"):
                    values[f.name] = _bool(raw)
                elif kind == "int":
                    values[f.name] = int(raw)
                elif kind == "float":
                    values[f.name] = float(raw)
                elif kind.startswith("tuple"):
                    values[f.name] = _csv(raw)
                else:
                    values[f.name] = raw
            except ValueError as exc:
                raise ConfigError(f"SMARTQN_{f.name.upper()}: {exc}") from exc
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse configurations that are only safe on a developer's machine."""
        if self.env not in {"development", "test", "production"}:
            raise ConfigError(f"SMARTQN_ENV must be development, test or production, not {self.env!r}")
        if self.is_production:
            if self.secret_key == DEV_SECRET or len(self.secret_key) < 32:
                raise ConfigError("production needs SMARTQN_SECRET_KEY: a random secret of 32+ characters")
            if self.is_sqlite:
                raise ConfigError("production needs SMARTQN_DATABASE_URL pointing at PostgreSQL, not SQLite")
            if self.payment_mock_enabled or self.vnpay_hash_secret == DEV_VNPAY_SECRET:
                # The mock bank signs "paid" for anyone who clicks.
                raise ConfigError("production needs SMARTQN_PAYMENT_MOCK_ENABLED=false and the gateway's "
                                  "SMARTQN_VNPAY_HASH_SECRET, SMARTQN_VNPAY_TMN_CODE and SMARTQN_VNPAY_URL")
            if self.postal_mock_enabled or self.postal_hmac_secret == DEV_POSTAL_SECRET:
                # The mock carrier signs any status anyone asks for.
                raise ConfigError("production needs SMARTQN_POSTAL_MOCK_ENABLED=false and the carrier's "
                                  "SMARTQN_POSTAL_CARRIER_URL, SMARTQN_POSTAL_API_KEY and SMARTQN_POSTAL_HMAC_SECRET")
            if self.eid_mock_enabled:
                # The mock signs any identity anyone asks for.
                raise ConfigError("production needs SMARTQN_EID_MOCK_ENABLED=false and the real provider's "
                                  "SMARTQN_EID_ISSUER, SMARTQN_EID_AUDIENCE and SMARTQN_EID_JWKS_URL")
            if self.ratelimit_enabled and self.ratelimit_storage_url.startswith("memory://"):
                # Counted per process: with N gunicorn workers an attacker gets N times the limit.
                raise ConfigError("production needs SMARTQN_RATELIMIT_STORAGE_URL pointing at Redis "
                                  "(redis://host:6379/0): memory:// counts each worker apart")
        if self.push_sender not in {"log", "memory", "fcm"}:
            raise ConfigError(f"SMARTQN_PUSH_SENDER must be log, memory or fcm, not {self.push_sender!r}")
        if self.push_worker not in {"off", "inline"}:
            raise ConfigError(f"SMARTQN_PUSH_WORKER must be off or inline, not {self.push_worker!r}")
        if self.push_sender == "fcm" and not self.fcm_credentials:
            raise ConfigError("SMARTQN_PUSH_SENDER=fcm needs SMARTQN_FCM_CREDENTIALS (a service-account JSON file)")
        if not 1 <= self.push_batch_size <= 500:
            raise ConfigError("SMARTQN_PUSH_BATCH_SIZE must be between 1 and 500 (FCM's send_each limit)")
        if not 1 <= self.push_send_group <= 500:
            raise ConfigError("SMARTQN_PUSH_SEND_GROUP must be between 1 and 500 (FCM's send_each limit)")
        for name in ("extra_days_off", "makeup_workdays"):
            for value in getattr(self, name):
                try:
                    date.fromisoformat(value)
                except ValueError as exc:
                    raise ConfigError(f"SMARTQN_{name.upper()}: {value!r} is not a date (YYYY-MM-DD)") from exc
        try:
            parse_hours(self.office_hours)
            time.fromisoformat(self.cutoff_time)
        except ValueError as exc:
            raise ConfigError(f"SMARTQN_OFFICE_HOURS / SMARTQN_CUTOFF_TIME: {exc}") from exc
        if self.storage_collect_every_hours < 0 or self.storage_collect_grace_minutes < 0:
            raise ConfigError("SMARTQN_STORAGE_COLLECT_EVERY_HOURS and …_GRACE_MINUTES must not be negative")
        try:
            parse_window(self.storage_collect_window)
        except ValueError as exc:
            raise ConfigError(f"SMARTQN_STORAGE_COLLECT_WINDOW: {exc}") from exc
        if self.storage_backend not in {"local", "s3"}:
            raise ConfigError(f"SMARTQN_STORAGE_BACKEND must be local or s3, not {self.storage_backend!r}")
        if self.storage_backend == "s3" and not self.s3_bucket:
            raise ConfigError("SMARTQN_STORAGE_BACKEND=s3 needs SMARTQN_S3_BUCKET (an existing bucket)")
        if not 1 <= self.max_upload_mb <= 1024:
            raise ConfigError("SMARTQN_MAX_UPLOAD_MB must be between 1 and 1024")
        if self.access_token_ttl <= 0 or self.access_token_ttl > 3600:
            raise ConfigError("SMARTQN_ACCESS_TOKEN_TTL must be between 1 and 3600 seconds")

    def working_calendar(self) -> WorkingCalendar:
        return WorkingCalendar(extra_days_off=[date.fromisoformat(d) for d in self.extra_days_off],
                               makeup_workdays=[date.fromisoformat(d) for d in self.makeup_workdays],
                               office_hours=parse_hours(self.office_hours), cutoff=time.fromisoformat(self.cutoff_time))
