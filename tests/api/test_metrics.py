"""/metrics for Prometheus: requests by route and status, the push outbox, deadline alerts owed, the pool."""

from __future__ import annotations

from tests.dossier_helpers import submitted
from tests.helpers import sign_in


def value(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} {labels} not in the scrape")


def test_metrics_count_requests_and_read_the_backlog(client):
    before = client.get("/metrics").get_data(as_text=True)
    seen = value(before, "smartqn_requests_total", route="/api/v1/procedures/<string:code>", status="200") \
        if 'route="/api/v1/procedures/<string:code>",status="200"' in before.replace('method="GET",', "") else 0
    client.get("/api/v1/procedures/1.001193")
    citizen = sign_in(client)
    client.post("/api/v1/me/devices", headers={"Authorization": f"Bearer {citizen['access_token']}"},
                json={"token": "metrics-device", "platform": "android"})
    submitted(client, citizen)  # writes push jobs for the citizen's device
    text = client.get("/metrics").get_data(as_text=True)
    assert value(text, "smartqn_requests_total", route="/api/v1/procedures/<string:code>", status="200") == seen + 1
    assert value(text, "smartqn_request_seconds_count", route="/api/v1/dossiers/<string:dossier_id>/submit") >= 1
    assert value(text, "smartqn_push_outbox_pending") >= 1
    for name in ("smartqn_push_outbox_oldest_seconds", "smartqn_deadline_alerts_owed", "smartqn_db_pool_checked_out"):
        assert value(text, name) >= 0


def test_a_metrics_token_is_required_when_set(make_app):
    guarded = make_app(metrics_token="s3cret").test_client()
    assert guarded.get("/metrics").status_code == 401
    assert guarded.get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 200
