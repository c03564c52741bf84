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
    wall: float = 0.0  # time.time() when it arrived


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
                        receiver.arrivals.append(Arrival(json.loads(body), time.monotonic(), header, time.time()))
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


@dataclass
class Message:
    id: str | None
    event: str
    data: Any


class SseClient:
    """A blocking Server-Sent Events client over a raw socket (the bench opens many in asyncio instead)."""

    def __init__(self, port: int, path: str, token: str | None, *, last_event_id: str | None = None,
                 rcvbuf: int | None = None) -> None:
        import socket

        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", port))
        self.buffer = b""
        lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Accept: text/event-stream"]
        if token:
            lines.append(f"Authorization: Bearer {token}")
        if last_event_id:
            lines.append(f"Last-Event-ID: {last_event_id}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        status_line = self._line(5.0) or ""
        self.status = int(status_line.split(" ")[1])
        self.headers: dict[str, str] = {}
        while (line := (self._line(5.0) or "").strip()):
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        length = int(self.headers.get("content-length", "0"))
        while len(self.buffer) < length and self._fill(5.0):
            pass
        self.body, self.buffer = self.buffer[:length], self.buffer[length:]

    def _fill(self, timeout: float) -> bool:
        self.sock.settimeout(max(timeout, 0.001))
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            return False
        if not chunk:
            raise EOFError
        self.buffer += chunk
        return True

    def _line(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            if not self._fill(deadline - time.monotonic()):
                return None
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode().rstrip("\r")

    def next(self, timeout: float = 5.0) -> Message | None:
        """The next message (heartbeats skipped), or None when nothing came within `timeout` or it ended."""
        deadline = time.monotonic() + timeout
        fields: dict[str, str] = {}
        try:
            while (line := self._line(deadline - time.monotonic())) is not None:
                if line == "":
                    if "data" in fields:
                        return Message(fields.get("id"), fields.get("event", "message"), json.loads(fields["data"]))
                    fields = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
        except EOFError:
            return None
        return None

    def until(self, predicate: Any, timeout: float = 5.0) -> Message | None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self.next(left)
            if message is None:
                return None
            if predicate(message):
                return message
        return None

    def close(self) -> None:
        self.sock.close()
