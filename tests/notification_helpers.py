"""Driving the FCM emulator from tests: what it received, and its failure switches."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import requests
from sqlalchemy import delete
from sqlalchemy.orm import Session

from services.models import Device, Notification, User
from services.notices.inbox import notify


@dataclass
class FcmEmulator:
    base: str
    credentials: str
    http: requests.Session = field(default_factory=requests.Session)

    def messages(self) -> list[dict[str, Any]]:
        return [m["body"]["message"] for m in self.http.get(f"{self.base}/messages").json()["messages"]]

    def names(self) -> list[str]:
        return [m["name"] for m in self.http.get(f"{self.base}/messages").json()["messages"]]

    def to(self, token: str) -> list[dict[str, Any]]:
        return [m for m in self.messages() if m.get("token") == token]

    def fail(self, token: str, error: str, retry_after: float | None = None) -> None:
        body: dict[str, Any] = {"error": error}
        if retry_after is not None:
            body["retry_after"] = retry_after
        assert self.http.put(f"{self.base}/failures/{token}", json=body).status_code == 204

    def recover(self, token: str) -> None:
        assert self.http.delete(f"{self.base}/failures/{token}").status_code == 204

    def topics(self) -> dict[str, list[str]]:
        return self.http.get(f"{self.base}/topics").json()

    def reset(self) -> None:
        self.http.delete(f"{self.base}/messages")
        self.recover("*")


@contextmanager
def committed_outbox(engine: Any, *, people: int, devices_each: int, tag: str, cccd_prefix: str) -> Iterator[Any]:
    """Pending pushes (people × devices_each), committed so that other sessions and processes see them;
    removed afterwards."""
    with Session(engine) as session, session.begin():
        users = [User(cccd=f"{cccd_prefix}{i:05d}", full_name=f"Người {i}", date_of_birth=date(1990, 1, 1),
                      gender="male", eid_level=2, eid_subject=f"push-{tag}-{i}") for i in range(people)]
        session.add_all(users)
        session.flush()
        session.add_all(Device(user_id=u.id, token=f"{tag}-{u.id}-{n}", platform="android", locale="vi")
                        for u in users for n in range(devices_each))
        session.flush()
        notify(session, [u.id for u in users], "staff.overdue", {"code": f"{tag.upper()}-1", "procedure": "Thử",
                                                                 "due_time": "17:00 01/12/2026"})
        ids = [u.id for u in users]
    yield engine
    with Session(engine) as session, session.begin():
        session.execute(delete(Notification).where(Notification.user_id.in_(ids)))
        session.execute(delete(User).where(User.id.in_(ids)))
