"""Catalog administration: procedures and agencies as admins write them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from schemas.catalog import AgencySchema, ProcedureSchema
from schemas.common import PageArgs, PageSchema, StrictBoolean, WholeNumber, Word
from vocab import AgencyLevel, OnlineLevel


class DocumentInSchema(ma.Schema):
    type = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_]{1,60}$"))
    name = fields.String(required=True, validate=validate.Length(1, 300))
    mandatory = StrictBoolean(load_default=True)


def printable(value: str) -> None:
    # isprintable() is False for control characters (tab, newline, DEL, C1) and lone surrogates.
    if not value.isprintable():
        raise ma.ValidationError("Printable text only, on one line.")


NAME: list[Callable[[Any], Any]] = [validate.Length(2, 300), printable]


class ProcedurePatchSchema(ma.Schema):
    name = fields.String(validate=NAME)
    name_en = fields.String(allow_none=True, validate=NAME, metadata={
        "description": "the English name, shown under `Accept-Language: en` and in English notifications; "
                       "null: none (Vietnamese everywhere)",
        "example": "Certificate of marital status"})
    field = fields.String(validate=validate.Length(1, 120))
    agency_code = fields.String(validate=validate.Length(1, 40))
    processing_days = WholeNumber(validate=validate.Range(0, 365))
    fee_vnd = WholeNumber(validate=validate.Range(0, 100_000_000))
    online_level = Word(OnlineLevel)
    min_eid_level = WholeNumber(validate=validate.OneOf((1, 2)))
    description = fields.String(validate=validate.Length(max=4000))
    form_schema = fields.Dict(metadata={"description": "a JSON Schema (2020-12) for the dossier form"})
    required_documents = fields.List(fields.Nested(DocumentInSchema), validate=validate.Length(max=30))
    active = StrictBoolean(metadata={"description": "false: no new dossiers; existing ones go on"})


class ProcedureCreateSchema(ProcedurePatchSchema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[0-9A-Za-z.\-]{1,40}$"))
    name = fields.String(required=True, validate=NAME)
    field = fields.String(required=True, validate=validate.Length(1, 120))
    agency_code = fields.String(required=True, validate=validate.Length(1, 40))
    processing_days = WholeNumber(required=True, validate=validate.Range(0, 365))
    online_level = Word(OnlineLevel, required=True)
    form_schema = fields.Dict(required=True)
    required_documents = fields.List(fields.Nested(DocumentInSchema), required=True,
                                     validate=validate.Length(max=30))


class AdminProcedureSchema(ProcedureSchema):
    active = fields.Boolean(required=True)
    name_en = fields.String(required=True, allow_none=True, metadata={
        "description": "the English name (`name` is the Vietnamese one here); null when there is none"})


class AdminProcedurePageSchema(PageSchema):
    items = fields.List(fields.Nested(AdminProcedureSchema), required=True)


def distinct(values: list[str]) -> None:
    if len(set(values)) != len(values):
        raise ma.ValidationError("Each code once.")


class AgencyPatchSchema(ma.Schema):
    name = fields.String(validate=validate.Length(2, 200))
    level = Word(AgencyLevel)
    parent_code = fields.String(allow_none=True, validate=validate.Length(1, 40))
    active = StrictBoolean()
    is_centre = StrictBoolean()
    ward_codes = fields.List(fields.String(validate=validate.Regexp(r"^[0-9]{1,10}$")),
                             validate=[validate.Length(max=50), distinct],
                             metadata={"description": "the wards a commune serves (national codes)",
                                       "uniqueItems": True})


class AgencyCreateSchema(AgencyPatchSchema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[0-9A-Za-z.]{1,40}$"))
    name = fields.String(required=True, validate=validate.Length(2, 200))
    level = Word(AgencyLevel, required=True)


class AdminAgencySchema(AgencySchema):
    active = fields.Boolean(required=True)


class AdminAgencyListSchema(ma.Schema):
    items = fields.List(fields.Nested(AdminAgencySchema), required=True)


class AdminPageArgs(PageArgs):
    pass
