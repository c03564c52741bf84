"""Shared test helpers: people with valid citizen numbers, signing in through the mock eID, and a fixed
working-day morning to freeze the clock at."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

CITIZEN = {"cccd": "049085001234", "full_name": "Nguyễn Văn An", "date_of_birth": "1985-03-12",
           "gender": "male", "eid_level": 2}
OTHER = {"cccd": "079192004567", "full_name": "Trần Thị Bình", "date_of_birth": "1992-07-01",
         "gender": "female", "eid_level": 1}
OFFICIAL = {"cccd": "048078002345", "full_name": "Phạm Quốc Dũng", "date_of_birth": "1978-05-05",
            "gender": "male", "eid_level": 2}
ADMIN = {"cccd": "049180003456", "full_name": "Võ Thị Hà", "date_of_birth": "1980-09-09",
         "gender": "female", "eid_level": 2}

# 09:00 on Monday 23/11/2026 in Vietnam, before the cut-off: a test that counts working days from "now"
# freezes the clock here, or it passes or fails with the weekday, the hour and the holidays it runs near.
MONDAY_MORNING = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def id_token(client: Any, person: dict[str, Any] = CITIZEN, **changes: Any) -> str:
    response = client.post("/mock-eid/token", json={**person, **changes})
    assert response.status_code == 200, response.json
    return response.json["id_token"]


def sign_in(client: Any, person: dict[str, Any] = CITIZEN, **changes: Any) -> dict[str, Any]:
    response = client.post("/api/v1/auth/eid", json={"id_token": id_token(client, person, **changes)})
    assert response.status_code == 200, response.json
    return response.json


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}
