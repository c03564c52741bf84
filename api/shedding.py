"""Overload shedding: a request that waited too long before a worker took it is answered 503 at once.

Why a queue-time check in the app: gunicorn's sync workers take one request each, so an in-process
in-flight counter is always 1 and says nothing; past the knee the waiting happens in the listen backlog
(or the proxy), where the app cannot count it, and a bounded backlog only turns the excess into
refused or timed-out connections, not answers. The proxy in front (nginx: `proxy_set_header
X-Request-Start "t=${msec}";`) stamps when it accepted the request; a worker that picks it up more
than SMARTQN_SHED_QUEUE_MS later (default 200) answers 503 problem+json `service_unavailable` with
`Retry-After` before parsing, authenticating or touching the database (~50 µs), so the backlog drains
at the speed of a 503 and the requests that are served keep their latency. Health and metrics
endpoints are never shed. Without the header (no proxy, the tests) nothing is shed.
"""

from __future__ import annotations

import time

from flask import Flask, Response, request

from api.errors import problem

EXEMPT = ("/healthz", "/readyz", "/metrics")


def queued_ms(header: str, now: float) -> float | None:
    """Milliseconds since the proxy's stamp: `t=<seconds with a fraction>` (nginx's $msec), or
    `t=<microseconds>` / `<milliseconds>` as other proxies send it."""
    raw = header[2:] if header.startswith("t=") else header
    try:
        stamp = float(raw)
    except ValueError:
        return None
    if stamp > 1e14:  # microseconds
        stamp /= 1e6
    elif stamp > 1e11:  # milliseconds
        stamp /= 1e3
    return (now - stamp) * 1000


def install(app: Flask, max_queue_ms: int, retry_after: int = 1) -> None:
    if max_queue_ms <= 0:
        return

    @app.before_request
    def _shed() -> Response | None:
        header = request.headers.get("X-Request-Start")
        if not header or request.path.startswith(EXEMPT):
            return None
        waited = queued_ms(header, time.time())
        if waited is None or waited <= max_queue_ms:
            return None
        return problem(503, "service_unavailable", detail=f"overloaded: waited {waited:.0f} ms for a worker",
                       headers={"Retry-After": str(retry_after)})
