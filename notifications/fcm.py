"""The FCM sender: firebase-admin's `send_each`, topic messages and the topic-management API.

`SMARTQN_FCM_ENDPOINT` points the same code at our emulator (standins/fcm_emulator.py); the OAuth
token endpoint comes from the service account's `token_uri`, as with Google.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import firebase_admin
import requests
from firebase_admin import credentials, exceptions, messaging

from notifications.senders import ANDROID_CHANNEL, Outcome, Push

FCM_HOST = "https://fcm.googleapis.com"

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

    def send_each(self, pushes: list[Push]) -> list[Outcome]:
        if not pushes:
            return []
        try:
            batch = messaging.send_each([build_message(p) for p in pushes], app=self.app)
        except exceptions.FirebaseError as error:
            return [outcome_of(error)] * len(pushes)
        return [Outcome(message_id=r.message_id) if r.success else outcome_of(r.exception) for r in batch.responses]

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
        firebase_admin.delete_app(self.app)

