"""The flask-smorest Api, documenting every error as problem+json, and Swagger UI served locally."""

from __future__ import annotations

import http
from pathlib import Path

import marshmallow as ma
import swagger_ui_bundle
from flask import Blueprint, Flask, send_from_directory
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from werkzeug.routing import BaseConverter

from api.errors import PROBLEM_JSON
from schemas.common import ProblemSchema
from services.people.cccd import PROVINCE_CODES

# A citizen number in a path: a known province code, a century-and-gender digit, 8 more digits.
CCCD_PATTERN = f"(?:{'|'.join(sorted(PROVINCE_CODES))})[0-7][0-9]{{8}}"


class CccdConverter(BaseConverter):
    regex = CCCD_PATTERN


def register_converters(app: Flask, api: Api) -> None:
    """Path converters, each documented with its pattern (a URL that does not match is a 404)."""
    app.url_map.converters["cccd"] = CccdConverter
    api.register_converter(CccdConverter, lambda _c: {"type": "string", "pattern": f"^{CCCD_PATTERN}$"})

SWAGGER_STATIC = Path(swagger_ui_bundle.swagger_ui_path)


def no_nul(converter: object, field: ma.fields.Field, ret: dict, **kwargs: object) -> dict:
    """Document what the parser enforces: text fields hold no NUL (api/blueprint.py)."""
    if isinstance(field, ma.fields.String) and "pattern" not in ret and "format" not in ret and "enum" not in ret:
        return {"pattern": "^[^\\u0000]*$"}
    return {}


# The named responses views refer to (`alt_response(404, response="NOT_FOUND")`), by status. The names
# and phrases are ours, not `http.HTTPStatus`'s: Python 3.13 renamed 413 and 422 (CONTENT_TOO_LARGE,
# UNPROCESSABLE_CONTENT), and the document must not change with the interpreter.
RESPONSES: dict[int, tuple[str, str]] = {
    304: ("NOT_MODIFIED", "Not Modified"),
    400: ("BAD_REQUEST", "Bad Request"),
    401: ("UNAUTHORIZED", "Unauthorized"),
    402: ("PAYMENT_REQUIRED", "Payment Required"),
    403: ("FORBIDDEN", "Forbidden"),
    404: ("NOT_FOUND", "Not Found"),
    409: ("CONFLICT", "Conflict"),
    412: ("PRECONDITION_FAILED", "Precondition Failed"),
    413: ("REQUEST_ENTITY_TOO_LARGE", "Request Entity Too Large"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "Unsupported Media Type"),
    422: ("UNPROCESSABLE_ENTITY", "Unprocessable Entity"),
    428: ("PRECONDITION_REQUIRED", "Precondition Required"),
    429: ("TOO_MANY_REQUESTS", "Too Many Requests"),
    500: ("INTERNAL_SERVER_ERROR", "Internal Server Error"),
    503: ("SERVICE_UNAVAILABLE", "Service Unavailable"),
}


def stable_response_names(doc: dict, doc_info: dict, **kwargs: object) -> dict:
    """A Blueprint doc callback: flask-smorest names the responses it adds itself (422 of arguments,
    304/412/428 of ETags) after the running Python's `HTTPStatus`; name them from RESPONSES."""
    responses = doc.get("responses", {})
    for status, response in responses.items():
        if isinstance(response, str) and str(status).isdigit() and response == http.HTTPStatus(int(status)).name:
            responses[status] = RESPONSES[int(status)][0]
    return doc


class ProblemApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def init_app(self, app: Flask, *args: object, **kwargs: object) -> None:
        super().init_app(app, *args, **kwargs)
        self.ma_plugin.converter.add_attribute_function(no_nul)

    def _register_responses(self) -> None:
        for status, (name, phrase) in RESPONSES.items():
            response: dict[str, object] = {"description": phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(name, response, lazy=True)
        default = {"description": "An error, as RFC 9457 problem details", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)


def configure(app: Flask) -> None:
    app.config.update(
        API_TITLE="smartqn-backend",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="api/v1/openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/docs/assets/",
        API_SPEC_OPTIONS={
            "info": {"description": "REST API of the provincial citizen app. Errors are RFC 9457 "
                                    "application/problem+json with a stable `code`."},
        },
    )
    assets = Blueprint("swagger_assets", __name__)

    @assets.get("/docs/assets/<path:filename>")
    def swagger_asset(filename: str):  # noqa: ANN202
        return send_from_directory(SWAGGER_STATIC, filename, max_age=86400)

    app.register_blueprint(assets)
