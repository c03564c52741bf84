"""The flask-smorest Api, documenting every error as problem+json, and Swagger UI served locally."""

from __future__ import annotations

import http
from pathlib import Path

import swagger_ui_bundle
from flask import Blueprint, Flask, send_from_directory
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from api.errors import PROBLEM_JSON
from schemas.common import ProblemSchema

SWAGGER_STATIC = Path(swagger_ui_bundle.swagger_ui_path)


class ProblemApi(Api):
    ERROR_SCHEMA = ProblemSchema

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
