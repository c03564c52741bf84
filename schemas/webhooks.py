"""Webhook subscriptions and their delivery attempts, as admins see them."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import PageSchema, StrictBoolean, Word
from vocab import EventType

URL = {"description": "http(s); not this server's own address",
       "example": "https://lgsp.example.gov.vn/hooks/smartqn"}
EVENTS = {"description": "the event types sent to this URL"}


class WebhookCreateSchema(ma.Schema):
    url = fields.String(required=True, validate=validate.Length(8, 2000), metadata=URL)
    events = fields.List(Word(EventType), required=True, validate=validate.Length(1, len(EventType)),
                         metadata=EVENTS)
    description = fields.String(validate=validate.Length(max=500), allow_none=True)


class WebhookPatchSchema(ma.Schema):
    url = fields.String(validate=validate.Length(8, 2000), metadata=URL)
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
