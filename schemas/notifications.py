"""Devices, the inbox and announcements."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import PageArgs, PageSchema, Word
from schemas.dossiers import DossierCursor
from vocab import Language, Platform, PushJobStatus


class DeviceInSchema(ma.Schema):
    # FCM registration tokens are ~160 characters today; Google promises no length, so allow room.
    token = fields.String(required=True, validate=[validate.Length(1, 4096), validate.Regexp(r"^[\x21-\x7e]+$")],
                          metadata={"description": "the FCM registration token (printable ASCII, no spaces)"})
    platform = Word(Platform, required=True)
    locale = Word(Language, load_default=Language.vi,
                           metadata={"description": "the language of this device's pushes"})
    app_version = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 40))


class DeviceSchema(ma.Schema):
    id = fields.String(required=True)
    token = fields.String(required=True)
    platform = fields.String(required=True)
    locale = fields.String(required=True)
    app_version = fields.String(allow_none=True, required=True)
    last_seen_at = fields.DateTime(required=True)


class DeviceListSchema(ma.Schema):
    items = fields.List(fields.Nested(DeviceSchema), required=True)


class InboxArgs(PageArgs):
    unread = fields.Boolean(metadata={"description": "true: unread only; false: read only"})
    cursor = DossierCursor()


class NotificationSchema(ma.Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"example": "dossier.received"})
    title = fields.String(required=True)
    body = fields.String(required=True)
    data = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                       metadata={"description": "what the push carried: kind, dossier_id, dossier_code, status, "
                                                "notification_id (and wallet_item_id for a wallet reminder)"})
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True, required=True)


class NotificationPageSchema(PageSchema):
    items = fields.List(fields.Nested(NotificationSchema), required=True)


class CountSchema(ma.Schema):
    count = fields.Integer(required=True)


class AnnouncementInSchema(ma.Schema):
    title = fields.String(required=True, validate=validate.Length(1, 200))
    body = fields.String(required=True, validate=validate.Length(1, 2000))
    audience = fields.String(required=True, validate=[validate.Length(1, 40), validate.Regexp(r"^[A-Za-z0-9._~%-]+$")],
                             metadata={"description": "`all`, or an agency code (that agency's officials)"})


class AnnouncementSchema(ma.Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    audience = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class AnnouncementListSchema(ma.Schema):
    items = fields.List(fields.Nested(AnnouncementSchema), required=True)


class PushJobArgs(PageArgs):
    status = Word(PushJobStatus, load_default=PushJobStatus.failed)
    cursor = DossierCursor()


class PushJobSchema(ma.Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "message, topic, subscribe or unsubscribe"})
    status = fields.String(required=True)
    attempts = fields.Integer(required=True)
    last_error = fields.String(allow_none=True, required=True)
    notification_id = fields.String(allow_none=True, required=True)
    topic = fields.String(allow_none=True, required=True)
    created_at = fields.DateTime(required=True)
    next_attempt_at = fields.DateTime(required=True, metadata={"description": "for a failed job: when it gave up"})
    message_id = fields.String(allow_none=True, required=True)


class PushJobPageSchema(PageSchema):
    items = fields.List(fields.Nested(PushJobSchema), required=True)
