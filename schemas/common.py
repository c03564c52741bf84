"""Shapes shared by every endpoint: problem+json, list arguments, the opaque cursor."""

from __future__ import annotations

import base64
import binascii
import json
from enum import StrEnum
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

MAX_LIMIT = 100


class Word(fields.Enum):
    """A vocabulary word (vocab.py) by its value: documented as an enum, loaded as the enum member,
    dumped from the member or its plain string."""

    def __init__(self, enum: type[StrEnum], **kwargs: Any) -> None:
        super().__init__(enum, by_value=True, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else self.enum(value).value


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, with the contract's stable `code` and the `request_id`."""

    type = fields.String(required=True, metadata={"example": "about:blank"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(allow_none=True)
    code = fields.String(required=True, metadata={"example": "validation_failed"})
    request_id = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "422 only: field → messages"})


def encode_cursor(key: tuple[Any, ...] | None) -> str | None:
    if key is None:
        return None
    raw = json.dumps(list(key), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class Cursor(fields.String):
    """An opaque keyset cursor: base64url of the last row's key, decoded back into a list.

    Documented as `format: cursor` so that clients (and schemathesis) know only a `next_cursor`
    handed out by the same list is valid; an empty value means the first page.
    """

    default_error_messages = {"invalid": "Not a cursor issued by this list."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).setdefault("format", "cursor")
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any,  # type: ignore[override]
                     **kwargs: Any) -> list[Any] | None:  # a String on the wire, a list once read
        text = super()._deserialize(value, attr, data, **kwargs)
        if text == "":
            return None
        try:
            decoded = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
            raise self.make_error("invalid") from exc
        if not isinstance(decoded, list) or not decoded or len(decoded) > 4:
            raise self.make_error("invalid")
        if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in decoded):
            raise self.make_error("invalid")
        return decoded


class PageArgs(ma.Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(1, MAX_LIMIT),
                           metadata={"description": f"1–{MAX_LIMIT}, default 20"})
    cursor = Cursor(metadata={"description": "next_cursor of the previous page"})


class PageSchema(ma.Schema):
    next_cursor = fields.String(allow_none=True, required=True)


class HealthSchema(ma.Schema):
    status = fields.String(required=True)
    checks = fields.Dict(keys=fields.String(), values=fields.String())


class StrictBoolean(fields.Boolean):
    """true or false only: 0, 1 and "yes" are refused (in Python 0 == False, so sets cannot tell)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class WholeNumber(fields.Integer):
    """An integer as JSON Schema's `integer` means it: 3 and 3.0, never 2.5 (marshmallow would truncate
    it to 2) nor true."""

    def _validated(self, value: Any) -> int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)
