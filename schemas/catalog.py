"""Catalog responses: agencies, procedures, interconnected groups."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import PageArgs, PageSchema, Word
from vocab import AgencyLevel, FeeKind, OnlineLevel, ProcedureLevel


class AgencySchema(ma.Schema):
    code = fields.String(required=True, metadata={"example": "000.20.24.H15"})
    name = fields.String(required=True, metadata={"example": "Ủy ban nhân dân phường Hội An"})
    level = Word(AgencyLevel, required=True)
    parent_code = fields.Function(lambda a: a.parent.code if a.parent else None, allow_none=True,
                                  metadata={"type": "string"})
    is_centre = fields.Boolean(required=True, metadata={"description": "a one-stop centre that receives"})
    ward_codes = fields.List(fields.String(), required=True, metadata={"description": "communes: wards served"})


class AgencyArgs(ma.Schema):
    level = Word(AgencyLevel)
    q = fields.String(validate=validate.Length(1, 200), metadata={"description": "name, diacritics optional",
                                                                  "example": "hoi an"})


class CompetentAgencySchema(ma.Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    level = Word(AgencyLevel, required=True)


class CompetentAgencyArgs(PageArgs):
    q = fields.String(validate=validate.Length(1, 200), metadata={"description": "name, diacritics optional"})


class CompetentAgencyPageSchema(PageSchema):
    items = fields.List(fields.Nested(CompetentAgencySchema), required=True)


class AgencyListSchema(ma.Schema):
    items = fields.List(fields.Nested(AgencySchema), required=True)


class ProcedureListArgs(PageArgs):
    q = fields.String(validate=validate.Length(max=200), metadata={"description": "name, diacritics optional"})
    agency_code = fields.String(validate=validate.Length(max=40))
    field = fields.String(validate=validate.Length(max=120))


class ProcedureSummarySchema(ma.Schema):
    code = fields.String(required=True, metadata={"example": "1.004873"})
    name = fields.String(required=True, metadata={
        "example": "Cấp Giấy xác nhận tình trạng hôn nhân",
        "description": "in English under `Accept-Language: en` where the catalog has an English name, "
                       "else Vietnamese"})
    field = fields.String(required=True, metadata={"example": "Hộ tịch"})
    agency_code = fields.String(required=True, metadata={"example": "000.20.24.H15"})
    processing_days = fields.Float(required=True, metadata={"description": "working days; 0.5 is four working hours"})
    fee_vnd = fields.Integer(required=True, metadata={"description": "the base amount (one copy, one page)"})
    online_level = Word(OnlineLevel, required=True)
    min_eid_level = fields.Integer(required=True, validate=validate.OneOf((1, 2)))


class ProcedurePageSchema(PageSchema):
    items = fields.List(fields.Nested(ProcedureSummarySchema), required=True)


class RequiredDocumentSchema(ma.Schema):
    type = fields.String(required=True)
    name = fields.String(required=True)
    mandatory = fields.Boolean(required=True)


class VariantSchema(ma.Schema):
    code = fields.String(required=True, metadata={"example": "verification"})
    name = fields.String(required=True)
    processing_days = fields.Float(required=True)


class FeeSchema(ma.Schema):
    kind = Word(FeeKind, required=True)
    amount_vnd = fields.Integer(metadata={"description": "flat and per_copy (times the form's `copies`)"})
    first_pages = fields.Integer(metadata={"description": "per_page: pages at the first rate"})
    first_vnd = fields.Integer()
    then_vnd = fields.Integer()
    cap_vnd = fields.Integer(metadata={"description": "per_page: at most this much a copy"})


class ProcedureSchema(ProcedureSummarySchema):
    description = fields.String(required=True)
    level = Word(ProcedureLevel, required=True)
    variants = fields.List(fields.Nested(VariantSchema), required=True)
    fee = fields.Function(lambda p: p.fee or {"kind": "flat", "amount_vnd": p.fee_vnd},
                          metadata={"type": "object", "description": "how fee_vnd is computed from the form"})
    cutoff_time = fields.String(allow_none=True, required=True, metadata={"description": "HH:MM, local"})
    agency_name = fields.Function(lambda p: p.agency.name, metadata={"type": "string"})
    required_documents = fields.List(fields.Nested(RequiredDocumentSchema), required=True)
    form_schema = fields.Dict(required=True, metadata={"description": "JSON Schema the dossier form must satisfy"})


class ProcedureGroupSchema(ma.Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    procedure_codes = fields.List(fields.String(), required=True,
                                  metadata={"description": "in the order the steps happen"})
    form_schema = fields.Dict(metadata={"description": "the one form filled for the whole group"})


class ProcedureGroupListSchema(ma.Schema):
    items = fields.List(fields.Nested(ProcedureGroupSchema), required=True)
