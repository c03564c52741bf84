"""Push senders: `log` (the default), `memory` (tests) and `fcm` (firebase-admin, or our FCM emulator).

A sender never raises for one bad message: each push gets an `Outcome` with FCM's error code, and the
worker decides what to do (retry, give up, forget the device).
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger("smartqn.push")
ANDROID_CHANNEL = "dossier_updates"  # the app creates this channel (high importance)


@dataclass(frozen=True)
class Push:
    token: str
    title: str
    body: str
    data: dict[str, str]
    collapse_key: str | None = None  # one dossier's updates replace each other on a phone left offline
    badge: int | None = None


@dataclass(frozen=True)
class Outcome:
    message_id: str | None = None
    error: str | None = None  # FCM's error code: UNREGISTERED, INVALID_ARGUMENT, UNAVAILABLE, INTERNAL, …
    detail: str = ""
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Sender(Protocol):
    def send_each(self, pushes: list[Push]) -> list[Outcome]: ...

    def send_topic(self, topic: str, title: str, body: str, data: dict[str, str]) -> Outcome: ...

    def subscribe(self, tokens: list[str], topic: str, *, unsubscribe: bool = False) -> list[Outcome]: ...


class LogSender:
    """Logs each message (development default); the log line is the delivery."""

    def send_each(self, pushes: list[Push]) -> list[Outcome]:
        for push in pushes:
            log.info("push", extra={"token": push.token[-8:], "title": push.title, "kind": push.data.get("kind")})
        return [Outcome(message_id=f"log/{uuid.uuid4()}") for _ in pushes]

    def send_topic(self, topic: str, title: str, body: str, data: dict[str, str]) -> Outcome:
        log.info("push to topic", extra={"topic": topic, "title": title})
        return Outcome(message_id=f"log/{uuid.uuid4()}")

    def subscribe(self, tokens: list[str], topic: str, *, unsubscribe: bool = False) -> list[Outcome]:
        log.info("topic subscription", extra={"topic": topic, "tokens": len(tokens), "unsubscribe": unsubscribe})
        return [Outcome(message_id="") for _ in tokens]


@dataclass
class MemorySender:
    """Keeps what it was given, for tests that look at the messages rather than at FCM."""

    pushes: list[Push] = field(default_factory=list)
    topics: list[tuple[str, str, str, dict[str, str]]] = field(default_factory=list)
    subscriptions: dict[str, set[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send_each(self, pushes: list[Push]) -> list[Outcome]:
        with self._lock:
            self.pushes.extend(pushes)
        return [Outcome(message_id=f"memory/{uuid.uuid4()}") for _ in pushes]

    def send_topic(self, topic: str, title: str, body: str, data: dict[str, str]) -> Outcome:
        with self._lock:
            self.topics.append((topic, title, body, data))
        return Outcome(message_id=f"memory/{uuid.uuid4()}")

    def subscribe(self, tokens: list[str], topic: str, *, unsubscribe: bool = False) -> list[Outcome]:
        with self._lock:
            members = self.subscriptions.setdefault(topic, set())
            (members.difference_update if unsubscribe else members.update)(tokens)
        return [Outcome(message_id="") for _ in tokens]


def make_sender(name: str, *, credentials_file: str = "", endpoint: str = "") -> Sender:
    """The sender SMARTQN_PUSH_SENDER names."""
    if name == "fcm":
        from notifications.fcm import FcmSender  # firebase-admin only where it is used

        return FcmSender(credentials_file, endpoint=endpoint)
    if name == "memory":
        return MemorySender()
    return LogSender()
