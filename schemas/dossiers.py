"""Dossier requests and responses, both sides, bundles and the public lookup."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import Cursor, PageArgs, PageSchema, WholeNumber, Word
from vocab import Channel, DeskPaymentMethod, DossierStatus, FeeStatus, WalletSource


class DossierCursor(Cursor):
    """A dossier list's cursor (a time and an id)."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("metadata", {"description": "next_cursor of the previous page", "format": "dossier-cursor"})
        super().__init__(**kwargs)


class CreateDossierSchema(ma.Schema):
    procedure_code = fields.String(required=True, validate=validate.Length(1, 40))
    agency_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 40),
                                metadata={"description": "the competent agency; when omitted, the one serving the "
                                          "form's ward_code, else the procedure's default agency"})
    form = fields.Dict(load_default=dict, metadata={"description": "checked against form_schema on submit"})
    prefill = fields.Boolean(load_default=False, metadata={
        "description": "true: the fields of this procedure's form that `form` leaves out are taken from the "
                       "caller's latest submitted dossiers (any procedure), where they fit the field's schema"})


class UpdateDossierSchema(ma.Schema):
    form = fields.Dict(required=True)


class CitizenListArgs(PageArgs):
    status = Word(DossierStatus)
    cursor = DossierCursor()


class QueueArgs(PageArgs):
    status = Word(DossierStatus)
    overdue = fields.Boolean()
    due_before = fields.AwareDateTime(default_timezone=None)
    q = fields.String(validate=validate.Length(1, 100), metadata={"description": "code prefix, CCCD or name"})
    agency_code = fields.String(validate=validate.Length(1, 40), metadata={"description": "admins only"})
    cursor = DossierCursor()


class AttachmentSchema(ma.Schema):
    id = fields.String(required=True)
    document_type = fields.String(required=True, metadata={"example": "to_khai_tthn"})
    filename = fields.String(required=True, metadata={"example": "to-khai.pdf"})
    content_type = fields.String(required=True, metadata={"example": "application/pdf"})
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True, metadata={
        "example": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"})
    wallet_item_id = fields.String(allow_none=True, metadata={
        "description": "the wallet item it was taken from (no upload); null for an uploaded file"})
    digitised = fields.Boolean(metadata={"description": "the desk's scan of a paper brought in person"})


class FileSchema(ma.Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class UploadSchema(FileSchema):
    document_type = fields.String(required=True, validate=validate.Length(1, 60),
                                  metadata={"description": "one of the procedure's required_documents[].type",
                                            "example": "to_khai_tthn"})


class ResultUploadSchema(FileSchema):
    # Optional, never null: a multipart form has no null.
    document_type = fields.String(load_default="ket_qua", allow_none=False, validate=validate.Length(1, 60), metadata={
        "description": "the result's type in the catalog's vocabulary (any procedure's required_documents[].type, "
                       "or ket_qua): it enters the applicant's wallet as that type, to fill that slot elsewhere",
        "example": "trich_luc_khai_tu"})


class TimelineEntrySchema(ma.Schema):
    status = Word(DossierStatus, required=True)
    status_label = fields.String(required=True)
    action = fields.String(required=True)
    at = fields.DateTime(required=True)
    actor_role = fields.String(required=True)
    note = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    new_due_at = fields.DateTime(allow_none=True)


class RatingSchema(ma.Schema):
    score = WholeNumber(required=True, validate=validate.Range(1, 5))
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    rated_at = fields.DateTime(dump_only=True)


class WalletMatchSchema(ma.Schema):
    """A wallet item that fits a slot of the dossier (schemas.wallet has the whole item)."""

    id = fields.String(required=True)
    title = fields.String(required=True)
    source = Word(WalletSource, required=True)
    issued_at = fields.Date(allow_none=True, required=True)
    expires_at = fields.Date(allow_none=True, required=True)


class DossierSchema(ma.Schema):
    id = fields.String(required=True)
    code = fields.String(allow_none=True, required=True, metadata={"description": "assigned on submission",
                                                                   "example": "000.20.24.H15-251125-0001"})
    procedure_code = fields.String(required=True, metadata={"example": "1.004873"})
    procedure_name = fields.String(required=True, metadata={"example": "Cấp Giấy xác nhận tình trạng hôn nhân"})
    agency_code = fields.String(required=True, metadata={"description": "the competent agency",
                                                         "example": "000.20.24.H15"})
    receiving_centre_code = fields.String(allow_none=True, required=True,
                                          metadata={"description": "the one-stop centre that received it; "
                                                    "null when filed online"})
    channel = Word(Channel, required=True)
    return_method = Word(Channel, required=True)
    variant = fields.String(allow_none=True, required=True)
    status = Word(DossierStatus, required=True)
    status_label = fields.String(required=True)
    form = fields.Dict(required=True)
    attachments = fields.List(fields.Nested(AttachmentSchema), required=True)
    result_attachments = fields.List(fields.Nested(AttachmentSchema), required=True)
    fee_vnd = fields.Integer(required=True)
    payment_status = Word(FeeStatus, required=True)
    created_at = fields.DateTime(required=True)
    submitted_at = fields.DateTime(allow_none=True, required=True)
    received_at = fields.DateTime(allow_none=True, required=True)
    due_at = fields.DateTime(allow_none=True, required=True)
    appointment_at = fields.DateTime(allow_none=True, metadata={"description": "new date given in an apology"})
    completed_at = fields.DateTime(allow_none=True, required=True)
    overdue = fields.Boolean(required=True)
    timeline = fields.List(fields.Nested(TimelineEntrySchema), required=True)
    allowed_actions = fields.List(fields.String(), required=True)
    version = fields.Integer(required=True)
    bundle_id = fields.String(allow_none=True)
    rating = fields.Nested(RatingSchema, allow_none=True)
    wallet_matches = fields.Dict(
        keys=fields.String(), values=fields.List(fields.Nested(WalletMatchSchema)),
        metadata={"description": "in the applicant's answer for one dossier they may still add papers to (draft, "
                  "supplement requested): per document type the procedure asks for, their unexpired wallet items "
                  "of that type, newest first; attach one with POST /attachments {wallet_item_id, document_type}"})


class ApplicantSchema(ma.Schema):
    id = fields.String(required=True)
    full_name = fields.String(required=True)
    cccd = fields.String(required=True)
    date_of_birth = fields.Date(required=True)
    gender = fields.String(required=True)
    eid_level = fields.Integer(required=True)


class ContactSchema(ma.Schema):
    phone = fields.String()
    address = fields.String()


class StaffDossierSchema(DossierSchema):
    applicant = fields.Nested(ApplicantSchema, required=True)
    applicant_contact = fields.Nested(ContactSchema, allow_none=True,
                                      metadata={"description": "as given at the desk (walk-in or postal filing)"})
    supplement_count = fields.Integer(required=True)


class DossierPageSchema(PageSchema):
    items = fields.List(fields.Nested(DossierSchema), required=True)


class StaffDossierPageSchema(PageSchema):
    items = fields.List(fields.Nested(StaffDossierSchema), required=True)


class ActionSchema(ma.Schema):
    action = fields.String(required=True, validate=validate.Length(1, 40))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    new_due_at = fields.AwareDateTime(load_default=None, allow_none=True)
    variant = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 40),
                            metadata={"description": "receive: the procedure's variant (its own processing time)"})
    agency_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 40),
                                metadata={"description": "transfer: the competent agency to forward to"})
    amount_vnd = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(0, 10**10),
                                metadata={"description": "record_desk_payment: the fee taken (must be fee_vnd)"})
    method = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(tuple(DeskPaymentMethod)),
                           metadata={"description": "record_desk_payment: cash, pos or transfer"})
    receipt_no = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 60),
                               metadata={"description": "record_desk_payment: the counter's own slip or transfer "
                                         "reference; the receipt number itself comes from the receipts' series"})


class CreateBundleSchema(ma.Schema):
    group_code = fields.String(required=True, validate=validate.Length(1, 40))
    form = fields.Dict(load_default=dict)
    procedure_codes = fields.List(fields.String(validate=validate.Length(1, 40)), load_default=None,
                                  allow_none=True, validate=validate.Length(1, 10),
                                  metadata={"description": "the steps to include (the first always is)"})


class BundleSchema(ma.Schema):
    id = fields.String(required=True)
    group_code = fields.String(required=True)
    status = Word(DossierStatus, required=True)
    status_label = fields.String(required=True)
    form = fields.Dict(required=True)
    dossiers = fields.List(fields.Nested(DossierSchema), required=True)


class LookupSchema(ma.Schema):
    code = fields.String(required=True)
    procedure_name = fields.String(required=True)
    status = Word(DossierStatus, required=True)
    status_label = fields.String(required=True)
    received_at = fields.DateTime(allow_none=True, required=True)
    due_at = fields.DateTime(allow_none=True, required=True)
    completed_at = fields.DateTime(allow_none=True, required=True)
