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


class ProblemApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def init_app(self, app: Flask, *args: object, **kwargs: object) -> None:
        super().init_app(app, *args, **kwargs)
        self.ma_plugin.converter.add_attribute_function(no_nul)

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, object] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
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
