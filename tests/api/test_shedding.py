"""Overload shedding: a request that waited too long for a worker (by the proxy's stamp) gets 503 at once."""

from __future__ import annotations

import time
from typing import Any

from api.shedding import queued_ms


def test_a_request_queued_too_long_is_shed_with_retry_after(client: Any) -> None:
    late = client.get("/api/v1/procedures", headers={"X-Request-Start": f"t={time.time() - 2:.3f}"})
    assert late.status_code == 503 and late.headers["Retry-After"] == "1"
    assert late.mimetype == "application/problem+json" and late.json["code"] == "service_unavailable"
    fresh = client.get("/api/v1/procedures", headers={"X-Request-Start": f"t={time.time():.3f}"})
    assert fresh.status_code == 200
    assert client.get("/api/v1/procedures").status_code == 200  # no proxy stamp: never shed
    assert client.get("/healthz", headers={"X-Request-Start": "t=1"}).status_code == 200


def test_proxy_stamps_in_seconds_milliseconds_and_microseconds() -> None:
    now = 1_700_000_000.5
    assert round(queued_ms("t=1700000000.250", now)) == 250
    assert round(queued_ms("1700000000250", now)) == 250
    assert round(queued_ms("t=1700000000250000", now)) == 250
    assert queued_ms("t=soon", now) is None
