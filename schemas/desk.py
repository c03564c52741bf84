"""The one-stop desk: filing a walk-in or postal dossier, desk documents, postal shipments."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import PageArgs, PageSchema, Word
from schemas.dossiers import DossierCursor
from vocab import Channel, DeskForm, Gender, ShipmentKind, ShipmentStatus

CCCD = validate.Regexp(r"^\d{12}$", error="Must be exactly 12 digits.")


class ApplicantInputSchema(ma.Schema):
    cccd = fields.String(required=True, validate=CCCD, metadata={"example": "049085001234"})
    full_name = fields.String(required=True, validate=validate.Length(1, 120), metadata={"example": "Nguyễn Văn An"})
    date_of_birth = fields.Date(required=True)
    gender = Word(Gender, required=True)
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^\+?[0-9 .-]{6,20}$"))
    address = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 300))


class DeskFilingSchema(ma.Schema):
    procedure_code = fields.String(required=True, validate=validate.Length(1, 40))
    agency_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 40),
                                metadata={"description": "the competent agency; when omitted, as for an online "
                                          "dossier (the form's ward, else the procedure's default agency)"})
    variant = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 40))
    channel = fields.String(required=True, validate=validate.OneOf((Channel.desk.value, Channel.postal.value)),
                            metadata={"enum": [Channel.desk.value, Channel.postal.value]})
    return_method = Word(Channel, required=True)
    applicant = fields.Nested(ApplicantInputSchema, required=True)
    form = fields.Dict(load_default=dict, metadata={"description": "checked against the procedure's form_schema"})
    papers = fields.List(fields.String(validate=validate.Length(1, 60)), load_default=list,
                         validate=validate.Length(max=30),
                         metadata={"description": "the document types taken in on paper (listed on the receipt "
                                   "slip); scan them with POST /desk/dossiers/{id}/attachments"})


class ScanSchema(ma.Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})
    document_type = fields.String(required=True, validate=validate.Length(1, 60),
                                  metadata={"description": "one of the procedure's required_documents[].type",
                                            "example": "to_khai_tthn"})


class DeskDocumentSchema(ma.Schema):
    id = fields.String(required=True)
    form_no = Word(DeskForm, required=True)
    kind = fields.String(required=True, metadata={"enum": ["receipt", "supplement_request", "refusal", "apology"]})
    number = fields.String(required=True, metadata={"example": "000123/2026/01"})
    issued_at = fields.DateTime(required=True)
    sha256 = fields.String(required=True)
    verify_code = fields.String(required=True)


class DeskDocumentListSchema(ma.Schema):
    items = fields.List(fields.Nested(DeskDocumentSchema), required=True)


class VerificationSchema(ma.Schema):
    form_no = Word(DeskForm, required=True)
    kind = fields.String(required=True)
    number = fields.String(required=True)
    dossier_code = fields.String(required=True)
    agency_name = fields.String(required=True)
    issued_at = fields.DateTime(required=True)
    sha256 = fields.String(required=True)


class AddressSchema(ma.Schema):
    ward_code = fields.String(required=True, validate=validate.Regexp(r"^\d{5}$"), metadata={"example": "20341"})
    line = fields.String(required=True, validate=validate.Length(1, 300))
    recipient = fields.String(required=True, validate=validate.Length(1, 120))
    phone = fields.String(required=True, validate=validate.Regexp(r"^\+?[0-9 .-]{6,20}$"))


class CreateShipmentSchema(ma.Schema):
    kind = Word(ShipmentKind, required=True)
    address = fields.Nested(AddressSchema, required=True)


class ShipmentSchema(ma.Schema):
    id = fields.String(required=True)
    dossier_id = fields.String(required=True)
    kind = Word(ShipmentKind, required=True)
    waybill_no = fields.String(required=True)
    status = Word(ShipmentStatus, required=True)
    fee_vnd = fields.Integer(required=True)
    status_changed_at = fields.DateTime(required=True)


class CarrierCallbackSchema(ma.Schema):
    event_id = fields.String(required=True, validate=validate.Length(1, 64))
    waybill_no = fields.String(required=True, validate=validate.Length(1, 40))
    status = Word(ShipmentStatus, required=True)
    occurred_at = fields.AwareDateTime(required=True)


class CallbackAnswerSchema(ma.Schema):
    result = fields.String(required=True, metadata={"enum": ["applied", "stale", "duplicate"]})


class ShipmentArgs(PageArgs):
    stuck = fields.Boolean(metadata={"description": "only shipments on their way and unchanged for over two "
                                     "working days (the officials' overdue list for the post)"})
    agency_code = fields.String(validate=validate.Length(1, 40), metadata={"description": "admins only"})
    cursor = DossierCursor()


class ShipmentItemSchema(ShipmentSchema):
    dossier_code = fields.String(allow_none=True, required=True)


class ShipmentPageSchema(PageSchema):
    items = fields.List(fields.Nested(ShipmentItemSchema), required=True)
