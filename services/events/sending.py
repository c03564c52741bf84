"""One webhook POST (the dispatcher's send step): the host resolved and checked again, the connection
made to the checked address, and one deadline for the whole call.

The host is checked before each POST (webhooks.public_addresses) and the socket goes to the address
that was checked, not to what the name resolves to a moment later (SSRF, DNS rebinding), unless
SMARTQN_WEBHOOK_ALLOW_PRIVATE (development, tests). The deadline bounds the whole call, not each read:
one watchdog thread shuts the socket of every POST that outlives it, so a receiver that hangs, or
drips its answer a byte at a time, holds a thread no longer than that.
"""

from __future__ import annotations

import contextlib
import heapq
import http.client
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from services.events import webhooks

log = logging.getLogger("smartqn.webhooks")


@dataclass(frozen=True)
class Answer:
    status_code: int | None = None
    error: str | None = None
    retry_after: float | None = None
    duration_ms: int = 0
    final: bool = False  # no status, yet not worth retrying: the address is one we refuse to call

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        """A timeout or a broken connection (no status), a 5xx or a 429; any other answer is final."""
        if self.final:
            return False
        return self.status_code is None or self.status_code >= 500 or self.status_code == 429


class Watchdog:
    """One thread that calls each armed function at its deadline unless disarmed first: the deadline of
    every POST in the process, without a timer thread per call."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._armed: set[int] = set()
        self._wake = threading.Condition()
        self._seq = 0
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float, fire: Callable[[], None]) -> int:
        with self._wake:
            self._seq += 1
            heapq.heappush(self._heap, (time.monotonic() + seconds, self._seq, fire))
            self._armed.add(self._seq)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="webhook-watchdog", daemon=True)
                self._thread.start()
            if self._heap[0][1] == self._seq:  # the earliest now: the watchdog sleeps too long otherwise
                self._wake.notify()
            return self._seq

    def disarm(self, handle: int) -> None:
        with self._wake:
            self._armed.discard(handle)  # its heap entry is dropped when it comes up

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._heap and self._heap[0][1] not in self._armed:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._wake.wait()
                    continue
                at, handle, fire = self._heap[0]
                if (wait := at - time.monotonic()) > 0:
                    self._wake.wait(wait)
                    continue
                heapq.heappop(self._heap)
                self._armed.discard(handle)
            try:
                fire()
            except Exception:  # a watchdog that dies would leave every later call unbounded
                log.exception("webhook watchdog")


WATCHDOG = Watchdog()


def _pin(conn: http.client.HTTPConnection, address: str) -> None:
    """Connect to the address that was checked, not to what the name resolves to a moment later (a
    DNS answer with a zero TTL could otherwise pass the check and then point at 127.0.0.1); TLS still
    verifies the certificate against the host name."""
    def create(target: tuple[str, int], timeout: float | None = None, source: Any = None) -> socket.socket:
        return socket.create_connection((address, target[1]), timeout, source)

    setattr(conn, "_create_connection", create)  # noqa: B010 (http.client's hook, not in its stubs)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float, *, allow_private: bool = False) -> Answer:
    """One POST, no redirects followed (a 3xx is a final answer), the whole call bounded by `timeout`.

    The host is resolved and checked first (webhooks.public_addresses) unless `allow_private`: an
    address we refuse to call ends the delivery (`final`). `timeout` bounds each socket read AND the
    whole call (resolving, connecting, sending, reading): the watchdog shuts the socket at the
    deadline, so a receiver that drips a byte now and then cannot hold a thread for longer (it counts
    as a timeout, retried)."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    def timed_out() -> Answer:
        return Answer(None, f"timeout: the whole call took over {timeout:g} s", None, took())

    parts = urlsplit(url)
    address = None
    if not allow_private:
        try:
            address = webhooks.public_addresses(*webhooks.host_and_port(url))[0]
        except webhooks.ForbiddenAddress as exc:
            return Answer(None, f"refused: {exc}"[:500], None, took(), final=True)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn = cls(parts.hostname or "", parts.port, timeout=timeout)
    if address is not None:
        _pin(conn, address)
    expired = threading.Event()

    def cut() -> None:
        expired.set()
        sock = conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked recv or send at once

    watch = WATCHDOG.arm(max(timeout - (time.monotonic() - started), 0.0), cut)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read(64 * 1024)  # the answer's body is not kept
        if expired.is_set():  # what was read was cut short by the deadline: not an answer
            return timed_out()
        retry_after = response.getheader("Retry-After")
        return Answer(response.status, None if response.status < 300 else f"HTTP {response.status}",
                      float(retry_after) if retry_after and retry_after.isdigit() else None, took())
    except TimeoutError:
        return Answer(None, "timeout", None, took())
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set():
            return timed_out()
        return Answer(None, f"{type(exc).__name__}: {exc}"[:500], None, took())
    finally:
        WATCHDOG.disarm(watch)
        conn.close()


# What the dispatcher sends with: `post` (with allow_private from the settings) unless it is given another.
Poster = Callable[[str, bytes, dict[str, str], float], Answer]
