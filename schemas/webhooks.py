"""Webhook subscriptions and their delivery attempts, as admins see them."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import PageArgs, PageSchema, StrictBoolean, Word
from schemas.dossiers import DossierCursor
from vocab import EventType

URL = {"description": "http(s); not this server's own address",
       "example": "https://lgsp.example.gov.vn/hooks/smartqn"}
EVENTS = {"description": "the event types sent to this URL"}
# http(s), a host name or address, a port (1-65535), a path in printable ASCII (percent-encoded).
PORT = r"([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
URL_PATTERN = rf"^https?://[A-Za-z0-9]([A-Za-z0-9.-]{{0,251}}[A-Za-z0-9])?(:{PORT})?(/[!-~]{{0,1900}})?$"
URL_CHECK = [validate.Length(8, 2000), validate.Regexp(URL_PATTERN, error="An http or https URL with a host.")]


class WebhookCreateSchema(ma.Schema):
    url = fields.String(required=True, validate=URL_CHECK, metadata=URL)
    events = fields.List(Word(EventType), required=True, validate=validate.Length(1, len(EventType)),
                         metadata=EVENTS)
    description = fields.String(validate=validate.Length(max=500), allow_none=True)


class WebhookPatchSchema(ma.Schema):
    url = fields.String(validate=URL_CHECK, metadata=URL)
    events = fields.List(Word(EventType), validate=validate.Length(1, len(EventType)), metadata=EVENTS)
    description = fields.String(validate=validate.Length(max=500), allow_none=True)
    active = StrictBoolean(metadata={"description": "false stops deliveries; true again restarts the failure clock"})


class WebhookSchema(ma.Schema):
    id = fields.String(required=True)
    url = fields.String(required=True)
    events = fields.List(Word(EventType), required=True)
    description = fields.String(allow_none=True, required=True)
    active = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    last_success_at = fields.DateTime(allow_none=True, required=True)
    failing_since = fields.DateTime(allow_none=True, required=True,
                                    metadata={"description": "the first failure since the last success"})


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.String(required=True, metadata={"description": "the signing secret, shown this once"})


class WebhookPageSchema(PageSchema):
    items = fields.List(fields.Nested(WebhookSchema), required=True)


class AttemptSchema(ma.Schema):
    event_id = fields.String(required=True)
    attempt = fields.Integer(required=True, metadata={"description": "1 for the first POST of this event"})
    status_code = fields.Integer(allow_none=True, required=True,
                                 metadata={"description": "the answer; null: timeout or no connection"})
    error = fields.String(allow_none=True, required=True)
    duration_ms = fields.Integer(required=True)
    at = fields.DateTime(required=True)


class AttemptPageSchema(PageSchema):
    items = fields.List(fields.Nested(AttemptSchema), required=True)


class TimedPageArgs(PageArgs):
    """A list keyed by a time and an id (subscriptions by creation, attempts by when they were made)."""

    cursor = DossierCursor()
