"""The document wallet: items, uploads, shares, attaching an item to a dossier, and a draft's matches."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import PageArgs, PageSchema, Word
from schemas.dossiers import DossierCursor, FileSchema
from vocab import WalletSource

SHA256_EXAMPLE = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


class WalletItemSchema(ma.Schema):
    id = fields.String(required=True)
    document_type = fields.String(required=True, metadata={"example": "trich_luc_khai_tu"})
    title = fields.String(required=True, metadata={"example": "Trích lục khai tử"})
    source = Word(WalletSource, required=True, metadata={
        "description": "upload (the citizen's own), result (of one of their completed dossiers) or desk_scan"})
    issued_at = fields.Date(allow_none=True, required=True)
    expires_at = fields.Date(allow_none=True, required=True, metadata={"description": "valid through this day"})
    content_type = fields.String(required=True, metadata={"example": "application/pdf"})
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True, metadata={"example": SHA256_EXAMPLE})
    dossier_code = fields.String(allow_none=True, required=True,
                                 metadata={"description": "the dossier whose result (or desk scan) it is"})
    filename = fields.String(required=True, metadata={"example": "trich-luc.pdf"})
    created_at = fields.DateTime(required=True)


class WalletPageSchema(PageSchema):
    items = fields.List(fields.Nested(WalletItemSchema), required=True)


class WalletListArgs(PageArgs):
    document_type = fields.String(validate=validate.Length(1, 60))
    cursor = DossierCursor()


class WalletUploadSchema(FileSchema):
    document_type = fields.String(required=True, validate=validate.Length(1, 60), metadata={
        "description": "a document type of the catalog (any procedure's required_documents[].type, or ket_qua)",
        "example": "giay_to_cho_o"})
    title = fields.String(required=True, validate=validate.Length(1, 200), metadata={"example": "Hợp đồng thuê nhà"})
    # Optional, never null: a multipart form has no null.
    issued_at = fields.Date(load_default=None, allow_none=False)
    expires_at = fields.Date(load_default=None, allow_none=False, metadata={
        "description": "not before issued_at; valid through this day, reminded 10 days before and on the day"})


class ShareSchema(ma.Schema):
    id = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
    used_at = fields.DateTime(allow_none=True, required=True)
    used_from = fields.String(allow_none=True, required=True, metadata={"description": "the client's address"})


class NewShareSchema(ma.Schema):
    id = fields.String(required=True)
    url = fields.String(required=True, metadata={"format": "uri", "description": "one download, then 404"})
    expires_at = fields.DateTime(required=True)


class SharePageSchema(PageSchema):
    items = fields.List(fields.Nested(ShareSchema), required=True)


class SharePageArgs(PageArgs):
    cursor = DossierCursor()


class WalletAttachSchema(ma.Schema):
    """Attach a wallet item to a dossier: no bytes are uploaded."""

    wallet_item_id = fields.String(required=True, validate=validate.Length(1, 36))
    document_type = fields.String(required=True, validate=validate.Length(1, 60),
                                  metadata={"description": "the slot: one of the procedure's "
                                            "required_documents[].type, and the item's own type"})
