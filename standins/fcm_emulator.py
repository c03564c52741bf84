"""A local stand-in for FCM, so the real firebase-admin code path runs with no network (API.md).

It serves the OAuth token endpoint named by the service account's `token_uri` (the assertion is checked
against the account's key), the v1 send endpoint answering as FCM does, the topic-management API,
and controls for tests: the messages accepted (`GET/DELETE /messages`), per-token failures
(`PUT/DELETE /failures/{token}`, `*` for every token) and topic members (`GET /topics`).

It is a small asyncio HTTP/1.1 server rather than a WSGI app: one worker's load test sends over a
thousand messages a second at it, and the emulator must not be what limits the measurement.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

PROJECT = "smartqn-emulator"
# google-auth signs its assertion for Google's token endpoint whatever the account's token_uri says.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
# FCM's answers: HTTP status, canonical status, message (https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode).
ERRORS = {
    "UNREGISTERED": (404, "NOT_FOUND", "Requested entity was not found."),
    "INVALID_ARGUMENT": (400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token"),
    "UNAVAILABLE": (503, "UNAVAILABLE", "The service is currently unavailable."),
    "INTERNAL": (500, "INTERNAL", "Internal error encountered."),
    "QUOTA_EXCEEDED": (429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Messages'."),
    "SENDER_ID_MISMATCH": (403, "PERMISSION_DENIED", "SenderId mismatch"),
}
REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
           404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


Answer = tuple[int, Any, dict[str, str]]  # status, JSON body (None: empty), extra headers


def write_credentials(path: str | Path, *, token_uri: str, project: str = PROJECT) -> dict[str, Any]:
    """A service-account JSON like Google's, with a fresh RSA key and our emulator's token endpoint."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    account = {"type": "service_account", "project_id": project, "private_key_id": secrets.token_hex(20),
               "private_key": pem, "client_email": f"firebase-adminsdk@{project}.iam.gserviceaccount.com",
               "client_id": str(secrets.randbits(64)), "token_uri": token_uri}
    Path(path).write_text(json.dumps(account, indent=2))
    return account


def fcm_error(code: str, *, retry_after: float | None = None) -> Answer:
    status, canonical, message = ERRORS[code]
    body = {"error": {"code": status, "message": message, "status": canonical, "details": [
        {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}]}}
    return status, body, {} if retry_after is None else {"Retry-After": str(int(retry_after))}


def _invalid(message: str) -> Answer:
    return 400, {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT", "details": [
        {"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [{"description": message}]}]}}, {}


UNAUTHENTICATED: Answer = (401, {"error": {"code": 401, "status": "UNAUTHENTICATED",
                                          "message": "Request had invalid authentication credentials."}}, {})


class Emulator:
    """The emulator's state and its endpoints, as plain functions of a request."""

    def __init__(self, account: dict[str, Any]) -> None:
        self.account = account
        private = serialization.load_pem_private_key(account["private_key"].encode(), None)
        if not isinstance(private, rsa.RSAPrivateKey):
            raise ValueError("a service account's key is RSA")
        self.public_key = private.public_key()
        self.lock = threading.Lock()
        self.messages: list[dict[str, Any]] = []
        self.failures: dict[str, tuple[str, float | None]] = {}
        self.topics: dict[str, set[str]] = {}
        self.tokens: set[str] = set()
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., Answer]]] = [
            ("POST", re.compile(r"/token"), self.token),
            ("POST", re.compile(r"/v1/projects/([^/]+)/messages:send"), self.send),
            ("POST", re.compile(r"/v1/projects/[^/]+/registrations/(.+)/topicSubscriptions"), self.subscribe),
            ("DELETE", re.compile(r"/v1/projects/[^/]+/registrations/(.+)/topicSubscriptions/([^/]+)"),
             self.unsubscribe),
            ("GET", re.compile(r"/messages"), self.list_messages),
            ("DELETE", re.compile(r"/messages"), self.clear_messages),
            ("PUT", re.compile(r"/failures/(.+)"), self.fail),
            ("DELETE", re.compile(r"/failures/(.+)"), self.recover),
            ("GET", re.compile(r"/topics"), self.list_topics),
        ]

    def handle(self, request: Request) -> Answer:
        for method, pattern, handler in self.routes:
            if method == request.method and (match := pattern.fullmatch(request.path)):
                return handler(request, *(unquote(g) for g in match.groups()))
        return 404, {"error": {"code": 404, "status": "NOT_FOUND", "message": "no such endpoint"}}, {}

    def failure_for(self, token: str) -> tuple[str, float | None] | None:
        # `*` stands for every token: FCM as a whole is down.
        return self.failures.get(token) or self.failures.get("*")

    def _authorized(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return scheme == "Bearer" and token in self.tokens

    def token(self, request: Request) -> Answer:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type"}, {}
        try:
            claims = jwt.decode(form.get("assertion", ""), self.public_key, algorithms=["RS256"],
                                audience=[self.account["token_uri"], GOOGLE_TOKEN_AUDIENCE],
                                issuer=self.account["client_email"])
        except jwt.PyJWTError as exc:
            return 400, {"error": "invalid_grant", "error_description": str(exc)}, {}
        access = "emulator." + secrets.token_urlsafe(24)
        with self.lock:
            self.tokens.add(access)
        return 200, {"access_token": access, "expires_in": 3600, "token_type": "Bearer",
                     "scope": claims.get("scope")}, {}

    def send(self, request: Request, project: str) -> Answer:
        if not self._authorized(request):
            return UNAUTHENTICATED
        body = request.json()
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(message, dict):
            return _invalid("message is required")
        if len([k for k in ("token", "topic", "condition") if message.get(k)]) != 1:
            return _invalid("exactly one of token, topic or condition is required")
        data = message.get("data") or {}
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            return _invalid("data values must be strings")
        if failure := self.failure_for(message.get("token", "")):
            return fcm_error(failure[0], retry_after=failure[1])
        name = f"projects/{project}/messages/{time.time_ns()}{secrets.randbelow(1000):03d}"
        with self.lock:
            self.messages.append({"name": name, "project": project, "body": body, "received_at": time.time()})
        return 200, {"name": name}, {}

    def subscribe(self, request: Request, token: str) -> Answer:
        if not self._authorized(request):
            return UNAUTHENTICATED
        if failure := self.failure_for(token):
            return fcm_error(failure[0], retry_after=failure[1])
        with self.lock:
            self.topics.setdefault(request.query.get("topic_name", ""), set()).add(token)
        return 200, {}, {}

    def unsubscribe(self, request: Request, token: str, topic: str) -> Answer:
        if not self._authorized(request):
            return UNAUTHENTICATED
        with self.lock:
            self.topics.get(topic, set()).discard(token)
        return 200, {}, {}

    def list_messages(self, request: Request) -> Answer:
        with self.lock:
            return 200, {"messages": list(self.messages)}, {}

    def clear_messages(self, request: Request) -> Answer:
        with self.lock:
            self.messages.clear()
        return 204, None, {}

    def fail(self, request: Request, token: str) -> Answer:
        body = request.json()
        if not isinstance(body, dict) or body.get("error") not in ERRORS:
            return 400, {"error": f"error must be one of {sorted(ERRORS)}"}, {}
        self.failures[token] = (body["error"], body.get("retry_after"))
        return 204, None, {}

    def recover(self, request: Request, token: str) -> Answer:
        self.failures.pop(token, None)
        return 204, None, {}

    def list_topics(self, request: Request) -> Answer:
        with self.lock:
            return 200, {topic: sorted(tokens) for topic, tokens in self.topics.items()}, {}


def create_emulator(account: dict[str, Any]) -> Emulator:
    return Emulator(account)


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    line, *header_lines = head.decode("latin-1").split("\r\n")
    method, target, _ = line.split(" ", 2)
    headers = {}
    for header in header_lines:
        if ":" in header:
            name, _, value = header.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
    parts = urlsplit(target)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return Request(method, parts.path, query, headers, body)


def _response(status: int, body: Any, headers: dict[str, str], keep_alive: bool) -> bytes:
    payload = b"" if body is None else json.dumps(body).encode()
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}", f"Content-Length: {len(payload)}",
             f"Connection: {'keep-alive' if keep_alive else 'close'}"]
    if body is not None:
        lines.append("Content-Type: application/json; charset=UTF-8")
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload


class Server:
    """The emulator on host:port; `serve_forever()` blocks (run it in a thread), `shutdown()` stops it."""

    def __init__(self, emulator: Emulator, host: str, port: int) -> None:
        self.emulator, self.host, self.port = emulator, host, port
        self.loop = asyncio.new_event_loop()
        self._server = self.loop.run_until_complete(asyncio.start_server(self._connection, host, port))

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (request := await _read_request(reader)) is not None:
                try:
                    status, body, headers = self.emulator.handle(request)
                except Exception as exc:  # noqa: BLE001 (an emulator bug answers 500, as a server would)
                    status, body, headers = 500, {"error": {"code": 500, "message": str(exc)}}, {}
                keep_alive = request.headers.get("connection", "").lower() != "close"
                writer.write(_response(status, body, headers, keep_alive))
                await writer.drain()
                if not keep_alive:
                    break
        except ConnectionError:
            pass
        finally:
            writer.close()

    def serve_forever(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()
        # Stopped: end the connections still open (kept alive by clients) before closing the loop.
        pending = asyncio.all_tasks(self.loop)
        for task in pending:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.close()

    def shutdown(self) -> None:
        def stop() -> None:
            self._server.close()
            self.loop.stop()

        self.loop.call_soon_threadsafe(stop)


def serve(emulator: Emulator, host: str, port: int) -> Server:
    return Server(emulator, host, port)
