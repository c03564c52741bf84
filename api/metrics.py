"""Prometheus metrics at /metrics: requests by route and status with latency histograms, the push
outbox's depth and age, deadline alerts owed, and the database pool. Under gunicorn set
PROMETHEUS_MULTIPROC_DIR (an empty directory per deployment) so every worker's requests are counted;
SMARTQN_METRICS_TOKEN, when set, is the bearer token the scraper must send."""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from api.context import state_of
from services import metrics
from services.errors import Unauthorized

REQUESTS = Counter("smartqn_requests_total", "HTTP requests answered", ["route", "method", "status"])
LATENCY = Histogram("smartqn_request_seconds", "Time to answer an HTTP request", ["route", "method"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))


class LiveFigures(Collector):
    """Read at scrape time from the database and the engine's pool (one process answers for all)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        rt = state_of(self.app).runtime
        session = rt.sessions()
        try:
            figures = metrics.backlog(session)
        finally:
            session.close()
        for name, text, value in (
                ("smartqn_push_outbox_pending", "push jobs waiting to be sent", figures.push_pending),
                ("smartqn_push_outbox_oldest_seconds", "age of the oldest waiting push job",
                 figures.push_oldest_seconds),
                ("smartqn_push_outbox_failed", "push jobs given up (see README)", figures.push_failed),
                ("smartqn_deadline_alerts_owed", "overdue dossiers whose officials are not told yet",
                 figures.overdue_untold),
                ("smartqn_webhook_backlog", "webhook deliveries to active subscriptions not made yet",
                 figures.webhook_pending),
                ("smartqn_webhook_oldest_seconds", "age of the oldest webhook delivery not made yet",
                 figures.webhook_oldest_seconds),
                ("smartqn_events_unfanned", "events not yet fanned out to webhook subscriptions",
                 figures.events_unfanned),
                ("smartqn_db_pool_checked_out", "database connections in use by this process",
                 getattr(rt.engine.pool, "checkedout", lambda: 0)())):
            yield GaugeMetricFamily(name, text, value=value)


def count(route: str, method: str, status: int, started: float | None) -> None:
    """A request answered (Flask's hook and the WSGI edge both count)."""
    REQUESTS.labels(route, method, str(status)).inc()
    if started is not None:
        LATENCY.labels(route, method).observe(time.perf_counter() - started)


def install(app: Flask, token: str) -> None:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(REQUESTS)
        registry.register(LATENCY)
    registry.register(LiveFigures(app))

    @app.after_request
    def _count(response: Response) -> Response:
        count(request.url_rule.rule if request.url_rule is not None else "unmatched", request.method,
              response.status_code, g.get("started"))
        return response

    blp = Blueprint("metrics", __name__)

    @blp.get("/metrics")
    def scrape() -> Any:
        if token and not hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
            raise Unauthorized("the metrics token is required")
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

    app.register_blueprint(blp)
