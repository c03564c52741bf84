"""The flask-smorest Blueprint every API blueprint uses: strict arguments and whole multipart bodies.

- Unknown query, form or body fields are refused (422), as the OpenAPI document says
  (`additionalProperties: false`), so a misspelt filter never silently returns everything.
- An operation that takes a JSON body refuses a request without one (422), even when every field
  is optional (a PATCH with nothing to change is a client bug).
- Strings holding NUL are refused (422): PostgreSQL cannot store them. A JSON body is read by
  api/strict_json.py (NaN, huge numbers, lone surrogates, NUL anywhere, deep nesting: 422) and is
  at most SMARTQN_MAX_JSON_KB (413).
- flask-smorest documents one request body per operation, so an upload with a field beside its
  file (`document_type`) is one multipart schema, loaded from request.files and request.form.
"""

from __future__ import annotations

from typing import Any

import flask
import flask_smorest
import marshmallow as ma
from marshmallow import fields
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from api import strict_json
from api.context import settings
from api.openapi import stable_response_names


def nul_paths(data: Any, schema: ma.Schema | None, path: str = "") -> list[str]:
    """Text fields holding NUL, at any depth of the schema's nested objects and lists. Free-form
    objects (`fields.Dict`, such as a dossier's `form`) are stored as JSON, which keeps a NUL
    escaped, so they are left to their own JSON Schema."""
    found: list[str] = []
    if isinstance(data, str):
        return [path] if "\x00" in data else []
    if isinstance(data, list):
        for i, item in enumerate(data):
            found += nul_paths(item, schema, f"{path}[{i}]")
        return found
    if not isinstance(data, dict):
        return []
    for key, value in data.items():
        field = schema.fields.get(str(key)) if schema is not None else None
        if isinstance(field, fields.Dict):
            continue
        inner = field.inner if isinstance(field, fields.List) else field
        nested = inner.schema if isinstance(inner, fields.Nested) else None
        found += nul_paths(value, nested, f"{path}.{key}" if path else str(key))
    return found


class Parser(FlaskParser):
    def _raw_load_json(self, req: flask.Request) -> Any:
        if not is_json_request(req):
            return core.missing
        data = req.get_data(cache=True)
        if len(data) > settings().max_json_kb * 1024:
            raise RequestEntityTooLarge(f"a JSON body is at most {settings().max_json_kb} KB")
        return strict_json.loads(data)

    def load_files(self, req: flask.Request, schema: ma.Schema) -> Any:
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)

    def _load_location_data(self, *, schema: ma.Schema, req: flask.Request, location: str) -> Any:
        if location == "json" and not req.get_data(cache=True):
            raise ma.ValidationError({"_schema": ["A JSON body is required."]})
        data = super()._load_location_data(schema=schema, req=req, location=location)
        # NUL cannot be stored in PostgreSQL text (nor means anything in a form): refuse it upfront.
        plain = dict(data) if location in ("query", "form", "files") else data
        found = nul_paths(plain, schema)
        if found:
            raise ma.ValidationError({p: ["NUL characters are not allowed."] for p in found})
        return data


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser(unknown=ma.RAISE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(stable_response_names)
