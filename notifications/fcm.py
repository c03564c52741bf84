"""The FCM sender: firebase-admin's `send_each`, topic messages and the topic-management API.

`SMARTQN_FCM_ENDPOINT` points the same code at our emulator (standins/fcm_emulator.py); the OAuth
token endpoint comes from the service account's `token_uri`, as with Google.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import firebase_admin
import requests
import urllib3
from firebase_admin import credentials, exceptions, messaging
from google.auth import exceptions as google_exceptions
from google.auth.transport import requests as google_requests

from notifications.senders import ANDROID_CHANNEL, Outcome, Push

FCM_HOST = "https://fcm.googleapis.com"
# Requests in flight per sender: created once, each on its own kept-alive connection (a worker's send
# group is 8 messages, so 8 overlap one group's round trips).
SENDING_THREADS = 8

# firebase-admin's exception classes for FCM's own error codes; the rest carry a canonical code.
_FCM_CODES = {messaging.UnregisteredError: "UNREGISTERED", messaging.QuotaExceededError: "QUOTA_EXCEEDED",
              messaging.SenderIdMismatchError: "SENDER_ID_MISMATCH",
              messaging.ThirdPartyAuthError: "THIRD_PARTY_AUTH_ERROR"}


def outcome_of(error: Exception) -> Outcome:
    code = next((c for cls, c in _FCM_CODES.items() if isinstance(error, cls)), None)
    if code is None:
        code = error.code if isinstance(error, exceptions.FirebaseError) else "UNKNOWN"
    response = getattr(error, "http_response", None)
    retry_after = None
    if response is not None and (header := response.headers.get("Retry-After")):
        try:
            retry_after = float(header)
        except ValueError:
            retry_after = None  # an HTTP date: the worker's own backoff applies
    return Outcome(error=str(code).upper(), detail=str(error)[:300], retry_after=retry_after)


def build_message(push: Push) -> messaging.Message:
    apns_headers = {"apns-priority": "10"}
    if push.collapse_key:
        apns_headers["apns-collapse-id"] = push.collapse_key
    return messaging.Message(
        token=push.token,
        notification=messaging.Notification(title=push.title, body=push.body),
        data=push.data,
        android=messaging.AndroidConfig(
            priority="high", collapse_key=push.collapse_key,
            notification=messaging.AndroidNotification(channel_id=ANDROID_CHANNEL, tag=push.collapse_key)),
        apns=messaging.APNSConfig(headers=apns_headers,
                                  payload=messaging.APNSPayload(aps=messaging.Aps(sound="default", badge=push.badge))),
    )


class FcmSender:
    def __init__(self, credentials_file: str, *, endpoint: str = "") -> None:
        credential = credentials.Certificate(credentials_file)
        self.app = firebase_admin.initialize_app(credential, name=f"smartqn-{uuid.uuid4()}")
        # firebase-admin has no setting for its FCM host or its retries; its messaging service keeps
        # both as attributes (the emulator tests exercise them on the pinned firebase-admin version).
        service: Any = messaging._get_messaging_service(self.app)  # noqa: SLF001
        base = endpoint.rstrip("/") or FCM_HOST
        if endpoint:
            project = self.app.project_id
            service._fcm_url = f"{base}/v1/projects/{project}/messages:send"  # noqa: SLF001
            service._fcm_topic_url = f"{base}/v1/projects/{project}/registrations"  # noqa: SLF001
        # Retries are the worker's (backoff with jitter, Retry-After, a lease): firebase-admin's own
        # retry of 500/503 would hold a whole batch for seconds. The pool is as wide as send_each's threads.
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=500, max_retries=0)
        session = service._client.session  # noqa: SLF001
        session.mount(base, adapter)
        # requests re-reads the proxy variables on every request (a fifth of a message's CPU, measured
        # in bench/push.py); read them once: with none set, the per-request scan is skipped.
        if not any(k.lower().endswith("_proxy") for k in os.environ):
            session.trust_env = False
        # The messages' own path: one urllib3 pool of kept-alive connections to the FCM host.
        self.service = service
        url = urllib3.util.parse_url(service._fcm_url)  # noqa: SLF001
        self._path = url.request_uri
        self._pool = urllib3.connection_from_url(service._fcm_url, maxsize=SENDING_THREADS,  # noqa: SLF001
                                                 block=False)
        self._senders = ThreadPoolExecutor(SENDING_THREADS, thread_name_prefix="fcm")
        self._headers = {**service._fcm_headers, "Content-Type": "application/json"}  # noqa: SLF001
        self._timeout = urllib3.Timeout(connect=10.0, read=30.0)
        self._token_lock = threading.Lock()
        self._token_session = requests.Session()
        self._token_session.trust_env = session.trust_env

    def send_each(self, pushes: list[Push]) -> list[Outcome]:
        """Each push as its own FCM v1 request, one after another on this sender's kept-alive connections
        (firebase-admin's `send_each` starts a thread per message and goes through requests and
        google-auth's session for each), on SENDING_THREADS threads started once. firebase-admin still
        encodes each message, owns the OAuth credential and turns every error answer into its
        exception classes."""
        if not pushes:
            return []
        bodies = [self.service._message_data(build_message(p), False) for p in pushes]  # noqa: SLF001
        if len(bodies) == 1:
            return [self._send_one(bodies[0])]
        return list(self._senders.map(self._send_one, bodies))  # a few kept threads overlap the round trips

    def _authorization(self, *, renew: bool = False) -> str:
        credential = self.service._credential  # noqa: SLF001 (the app's google-auth credential)
        with self._token_lock:
            if renew or not credential.valid:
                credential.refresh(google_requests.Request(self._token_session))
            return f"Bearer {credential.token}"

    def _send_one(self, data: dict[str, Any]) -> Outcome:
        body = json.dumps(data, separators=(",", ":")).encode()
        try:
            response = self._post(body, self._authorization())
            if response.status == 401:  # the token was revoked or expired early: renew once, as google-auth does
                response = self._post(body, self._authorization(renew=True))
        except (urllib3.exceptions.HTTPError, OSError) as error:
            wrapped = requests.exceptions.ConnectionError(str(error))
            return outcome_of(self.service._handle_fcm_error(wrapped))  # noqa: SLF001
        except google_exceptions.GoogleAuthError as error:
            return Outcome(error="UNAUTHENTICATED", detail=str(error)[:300])
        if 200 <= response.status < 300:
            return Outcome(message_id=json.loads(response.data).get("name"))
        answer = requests.Response()
        answer.status_code, answer._content = response.status, response.data  # noqa: SLF001
        answer.headers.update(response.headers)
        answer.url = self.service._fcm_url  # noqa: SLF001
        return outcome_of(self.service._handle_fcm_error(requests.exceptions.HTTPError(response=answer)))  # noqa: SLF001

    def _post(self, body: bytes, authorization: str) -> Any:
        headers = {**self._headers, "Authorization": authorization}
        return self._pool.urlopen("POST", self._path, body=body, headers=headers, retries=False,
                                  timeout=self._timeout, preload_content=True)

    def send_topic(self, topic: str, title: str, body: str, data: dict[str, str]) -> Outcome:
        message = messaging.Message(topic=topic, notification=messaging.Notification(title=title, body=body),
                                    data=data, android=messaging.AndroidConfig(priority="high"))
        try:
            return Outcome(message_id=messaging.send(message, app=self.app))
        except exceptions.FirebaseError as error:
            return outcome_of(error)

    def subscribe(self, tokens: list[str], topic: str, *, unsubscribe: bool = False) -> list[Outcome]:
        call = messaging.unsubscribe_from_topic if unsubscribe else messaging.subscribe_to_topic
        try:
            result = call(tokens, topic, app=self.app)
        except exceptions.FirebaseError as error:
            return [outcome_of(error)] * len(tokens)
        failed = {e.index: str(e.reason).upper() for e in result.errors}
        return [Outcome(error=failed.get(i), message_id="" if i not in failed else None) for i in range(len(tokens))]

    def close(self) -> None:
        self._senders.shutdown()
        self._pool.close()
        self._token_session.close()
        firebase_admin.delete_app(self.app)

