"""Driving the FCM emulator from tests: what it received, and its failure switches."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests


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
