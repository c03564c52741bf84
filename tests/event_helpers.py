"""A webhook receiver written from API.md's definition of the signature header, for the tests and the bench.

`X-Smartqn-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the secret>`: the
receiver recomputes the HMAC over the raw bytes it received, compares in constant time, and refuses a
timestamp more than 5 minutes old (a captured delivery replayed later). It de-duplicates by event id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE_SECONDS = 300


def verify(header: str, body: bytes, secret: str, *, now: float | None = None) -> str | None:
    """None when the header is valid for the body, else why not."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    if "t" not in parts or "v1" not in parts or not parts["t"].isdigit():
        return "malformed"
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, parts["v1"]):
        return "bad signature"
    if abs((now if now is not None else time.time()) - int(parts["t"])) > TOLERANCE_SECONDS:
        return "too old"
    return None


@dataclass
class Arrival:
    event: dict[str, Any]
    at: float  # time.monotonic() when it arrived
    signature: str


@dataclass
class Receiver:
    """POST / on a local port; `answers` are status codes to give in turn (then 200), `hang` seconds to
    sleep before answering, `down` to answer 503 to everything."""

    secret: str = ""
    answers: list[int] = field(default_factory=list)
    hang: float = 0.0
    down: bool = False
    arrivals: list[Arrival] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    @property
    def ids(self) -> list[str]:
        return [a.event["id"] for a in self.arrivals]

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if receiver.hang:
                    time.sleep(receiver.hang)
                header = self.headers.get("X-Smartqn-Signature", "")
                with receiver.lock:
                    if (why := verify(header, body, receiver.secret)) is not None:
                        receiver.refused.append(why)
                        status = 401
                    elif receiver.down:
                        status = 503
                    elif receiver.answers:
                        status = receiver.answers.pop(0)
                    else:
                        status = 200
                    if status == 200:
                        receiver.arrivals.append(Arrival(json.loads(body), time.monotonic(), header))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
