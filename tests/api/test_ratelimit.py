"""Rate limits on sign-in and the mock token endpoint, per client address, in memory or Redis."""

from __future__ import annotations

import pytest
import redis

REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def limited_app(make_app, storage: str):
    return make_app(ratelimit_enabled=True, ratelimit_auth="3 per minute", ratelimit_storage_url=storage)


STORAGES = ["memory://", pytest.param(REDIS_URL, marks=pytest.mark.skipif(
    not redis_available(), reason="no Redis on 127.0.0.1:6379 (.ci/run starts one)"))]


@pytest.mark.parametrize("storage", STORAGES)
def test_auth_is_limited_per_address_with_retry_after(make_app, storage):
    if storage == REDIS_URL:
        redis.Redis.from_url(REDIS_URL).flushdb()  # database 15 is the suite's own
    app = limited_app(make_app, storage)
    address = "10.1.0.1"
    client = app.test_client()
    env = {"REMOTE_ADDR": address}
    for _ in range(3):
        assert client.post("/api/v1/auth/refresh", json={"refresh_token": "x"}, environ_base=env).status_code == 401
    limited = client.post("/api/v1/auth/refresh", json={"refresh_token": "x"}, environ_base=env)
    assert limited.status_code == 429
    assert limited.json["code"] == "rate_limited" and limited.content_type == "application/problem+json"
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    # Another address is not affected, and neither are unlimited routes.
    other = {"REMOTE_ADDR": "10.1.0.2"}
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": "x"}, environ_base=other).status_code == 401
    assert client.get("/api/v1/procedures", environ_base=env).status_code == 200


def test_the_mock_token_endpoint_is_limited_too(make_app):
    client = limited_app(make_app, "memory://").test_client()
    statuses = [client.post("/mock-eid/token", json={}).status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]
    assert client.get("/mock-eid/jwks.json").status_code == 200


def test_limits_can_be_switched_off(make_app):
    client = make_app(ratelimit_auth="1 per minute").test_client()
    assert all(client.post("/api/v1/auth/refresh", json={"refresh_token": "x"}).status_code == 401
               for _ in range(5))
