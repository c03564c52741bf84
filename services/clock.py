"""The one clock: services ask it for `now`, tests freeze or move it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self) -> None:
        self._frozen: datetime | None = None

    def now(self) -> datetime:
        return self._frozen or datetime.now(UTC)

    def freeze(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("freeze() needs an aware datetime")
        self._frozen = at

    def advance(self, **delta: float) -> None:
        self.freeze(self.now() + timedelta(**delta))

    def reset(self) -> None:
        self._frozen = None


clock = Clock()
