"""A local stand-in for FCM, so the real firebase-admin code path runs with no network (API.md).

It serves the OAuth token endpoint named by the service account's `token_uri` (the assertion is checked
against the account's key), the v1 send endpoint answering as FCM does, the topic-management API,
and controls for tests: the messages accepted (`GET/DELETE /messages`), per-token failures
(`PUT/DELETE /failures/{token}`, `*` for every token) and topic members (`GET /topics`).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

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


def fcm_error(code: str, *, retry_after: float | None = None) -> Response:
    status, canonical, message = ERRORS[code]
    body = {"error": {"code": status, "message": message, "status": canonical, "details": [
        {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}]}}
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    if retry_after is not None:
        response.headers["Retry-After"] = str(int(retry_after))
    return response


def _validation_error(message: str) -> Response:
    body = {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT", "details": [
        {"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [{"description": message}]}]}}
    return Response(json.dumps(body), status=400, mimetype="application/json")


class EmulatorState:
    def __init__(self, account: dict[str, Any]) -> None:
        self.account = account
        self.public_key = serialization.load_pem_private_key(account["private_key"].encode(), None).public_key()
        self.lock = threading.Lock()
        self.messages: list[dict[str, Any]] = []
        self.failures: dict[str, tuple[str, float | None]] = {}
        self.topics: dict[str, set[str]] = {}
        self.tokens: set[str] = set()

    def failure_for(self, token: str) -> tuple[str, float | None] | None:
        # `*` stands for every token: FCM as a whole is down.
        return self.failures.get(token) or self.failures.get("*")


def create_emulator(account: dict[str, Any]) -> Flask:
    state = EmulatorState(account)
    app = Flask("fcm-emulator")
    app.extensions["fcm_emulator"] = state

    def authorized() -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme == "Bearer" and token in state.tokens

    @app.post("/token")
    def token() -> Any:
        if request.form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return {"error": "unsupported_grant_type"}, 400
        try:
            claims = jwt.decode(request.form.get("assertion", ""), state.public_key, algorithms=["RS256"],
                                audience=[account["token_uri"], GOOGLE_TOKEN_AUDIENCE],
                                issuer=account["client_email"])
        except jwt.PyJWTError as exc:
            return {"error": "invalid_grant", "error_description": str(exc)}, 400
        access = "emulator." + secrets.token_urlsafe(24)
        with state.lock:
            state.tokens.add(access)
        return {"access_token": access, "expires_in": 3600, "token_type": "Bearer", "scope": claims.get("scope")}

    @app.post("/v1/projects/<project>/messages:send")
    def send(project: str) -> Any:
        if not authorized():
            return Response(json.dumps({"error": {"code": 401, "status": "UNAUTHENTICATED",
                                                  "message": "Request had invalid authentication credentials."}}),
                            status=401, mimetype="application/json")
        body = request.get_json(silent=True) or {}
        message = body.get("message")
        if not isinstance(message, dict):
            return _validation_error("message is required")
        targets = [k for k in ("token", "topic", "condition") if message.get(k)]
        if len(targets) != 1:
            return _validation_error("exactly one of token, topic or condition is required")
        data = message.get("data") or {}
        if not all(isinstance(v, str) for v in data.values()):
            return _validation_error("data values must be strings")
        if failure := state.failure_for(message.get("token", "")):
            return fcm_error(failure[0], retry_after=failure[1])
        name = f"projects/{project}/messages/{time.time_ns()}{secrets.randbelow(1000):03d}"
        with state.lock:
            state.messages.append({"name": name, "project": project, "body": body, "received_at": time.time()})
        return {"name": name}

    @app.route("/v1/projects/<project>/registrations/<path:token>/topicSubscriptions", methods=["POST"])
    def subscribe(project: str, token: str) -> Any:
        if not authorized():
            return fcm_error("SENDER_ID_MISMATCH")
        if failure := state.failure_for(token):
            return fcm_error(failure[0], retry_after=failure[1])
        with state.lock:
            state.topics.setdefault(request.args.get("topic_name", ""), set()).add(token)
        return {}

    @app.route("/v1/projects/<project>/registrations/<path:token>/topicSubscriptions/<topic>", methods=["DELETE"])
    def unsubscribe(project: str, token: str, topic: str) -> Any:
        with state.lock:
            state.topics.get(topic, set()).discard(token)
        return {}

    @app.get("/messages")
    def messages() -> Any:
        with state.lock:
            return {"messages": list(state.messages)}

    @app.delete("/messages")
    def clear() -> Any:
        with state.lock:
            state.messages.clear()
        return Response(status=204)

    @app.put("/failures/<path:token>")
    def fail(token: str) -> Any:
        body = request.get_json(silent=True) or {}
        if body.get("error") not in ERRORS:
            return {"error": f"error must be one of {sorted(ERRORS)}"}, 400
        state.failures[token] = (body["error"], body.get("retry_after"))
        return Response(status=204)

    @app.delete("/failures/<path:token>")
    def recover(token: str) -> Any:
        state.failures.pop(token, None)
        return Response(status=204)

    @app.get("/topics")
    def topics() -> Any:
        with state.lock:
            return {topic: sorted(tokens) for topic, tokens in state.topics.items()}

    return app


class _KeepAlive(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"  # firebase-admin keeps connections open, as with Google

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass  # GET /messages shows what came; a line per message would drown the test output


def serve(app: Flask, host: str, port: int) -> BaseWSGIServer:
    """A threaded server for the emulator; call serve_forever() (or run it in a thread)."""
    return make_server(host, port, app, threaded=True, request_handler=_KeepAlive)
