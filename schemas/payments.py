"""Payments and the gateway's IPN answer."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import PageArgs, Word
from schemas.dossiers import DossierCursor
from vocab import PaymentStatus


class PaymentSchema(ma.Schema):
    id = fields.String(required=True)
    dossier_id = fields.String(required=True)
    amount_vnd = fields.Integer(required=True)
    status = Word(PaymentStatus, required=True)
    receipt_no = fields.String(allow_none=True, required=True)
    paid_at = fields.DateTime(allow_none=True, required=True)
    expires_at = fields.DateTime(required=True)


class RefundSchema(PaymentSchema):
    dossier_code = fields.Function(lambda p: p.dossier.code, required=True, metadata={"type": "string"})
    refund_due = fields.Boolean(required=True)


class RefundArgs(PageArgs):
    cursor = DossierCursor()  # a time and an id, like a dossier list's


class RefundPageSchema(ma.Schema):
    items = fields.List(fields.Nested(RefundSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class CreatedPaymentSchema(PaymentSchema):
    payment_url = fields.String(required=True, metadata={"description": "open in a browser or webview"})


class IpnAnswerSchema(ma.Schema):
    RspCode = fields.String(required=True, validate=validate.OneOf(("00", "01", "02", "04", "97", "99")))
    Message = fields.String(required=True)
