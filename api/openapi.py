"""The flask-smorest Api, documenting every error as problem+json, and Swagger UI served locally."""

from __future__ import annotations

import http
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import marshmallow as ma
import swagger_ui_bundle
from apispec import BasePlugin
from flask import Blueprint, Flask, send_from_directory
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from werkzeug.routing import BaseConverter

from api.errors import PROBLEM_JSON, STATUS_OF_CODE
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

F = TypeVar("F", bound=Callable[..., Any])

DESCRIPTION = (
    "REST API of the provincial citizen app. Errors are RFC 9457 application/problem+json with a stable "
    "`code` (the responses of each operation list the ones it can answer). Every answer carries "
    "`X-Request-ID`. Text fields, in the query, a form or a JSON body, never hold NUL (U+0000): a "
    "request with one is refused with 422 `validation_failed`, as is a JSON body with NaN, Infinity, "
    "a lone UTF-16 surrogate or deep nesting."
)

SWAGGER_STATIC = Path(swagger_ui_bundle.swagger_ui_path)


def tidy_field(converter: object, field: ma.fields.Field, ret: dict, **kwargs: object) -> dict:
    """The last attribute function of every field: shape what apispec emits so generators type it.

    Runs after apispec's own functions and edits their result in place: a nullable nested object is
    `allOf: [$ref]` + `nullable` (apispec writes an `anyOf` with an untyped object); an optional
    field loaded as None has no `default: null`; enums and constants get their `type`.
    """
    any_of = ret.get("anyOf")
    if isinstance(any_of, list) and len(any_of) == 2 and any_of[0] == {"type": "object", "nullable": True}:
        del ret["anyOf"]
        # No `type: object` beside them: openapi-python-client then drops `nullable` (and fails on null).
        ret.update(allOf=[any_of[1]], nullable=True)
    if "default" in ret and ret["default"] is None:
        del ret["default"]
    if "type" not in ret and "enum" in ret and all(isinstance(v, str) for v in ret["enum"] if v is not None):
        ret["type"] = "string"
    if isinstance(field, ma.fields.Constant) and isinstance(field.constant, str):
        ret.update(type="string", enum=[field.constant])
    return {}


# Response headers, each documented once under components/headers and referred to by name.
HEADERS: dict[str, dict[str, object]] = {
    "X-Request-ID": {"description": "the request's id (the caller's own when it sent a valid one); "
                                    "also in problem+json as `request_id` and in the logs",
                     "schema": {"type": "string"}},
    "ETag": {"description": "the representation's tag: send it back in If-Match (dossiers) or "
                            "If-None-Match (catalog reads, 304 when unchanged)",
             "schema": {"type": "string", "example": '"v3"'}},
    "Location": {"description": "the URL of the created resource",
                 "schema": {"type": "string", "format": "uri-reference"}},
    "Retry-After": {"description": "seconds to wait before trying again", "schema": {"type": "integer", "minimum": 0}},
    "Cache-Control": {"description": "how long a phone or a proxy may keep this answer (it is the same for "
                                     "everyone)", "schema": {"type": "string", "example": "public, max-age=15"}},
}
IF_NONE_MATCH = {"in": "header", "name": "If-None-Match", "required": False,
                 "description": "the ETag of the copy you hold: 304 with no body when it is still current",
                 "schema": {"type": "string"}}
CONTRACT = "_contract_doc"  # the attribute documented() sets on a view


def header_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def documented(status: int, *, headers: tuple[str, ...] = (), content: dict[str, dict] | None = None,
               if_none_match: bool = False, codes: tuple[str, ...] = ()) -> Callable[[F], F]:
    """What flask-smorest cannot say about a view's answer, for ContractDocs: the headers it sends
    with `status`, the media types of a body that is not JSON, whether it honours If-None-Match, and
    the problem `codes` of an error status that only some operations answer (OPT_IN_CODES).
    Put it anywhere under the route decorator."""

    def decorate(view: F) -> F:
        doc = dict(getattr(view, CONTRACT, {}))
        response = dict(doc.get(status, {}))
        response["headers"] = (*response.get("headers", ()), *headers)
        response["codes"] = (*response.get("codes", ()), *codes)
        if content:
            response["content"] = content
        doc[status] = response
        if if_none_match:
            doc["if_none_match"] = True
        setattr(view, CONTRACT, doc)
        return view

    return decorate


BINARY = {"schema": {"type": "string", "format": "binary"}}

# Problem codes an operation answers only when its view says so (documented(codes=...)); every other
# code is listed on each operation that declares its status. idempotency_key_reused goes with the
# Idempotency-Key header.
OPT_IN_CODES = frozenset({"eid_level_insufficient", "missing_documents", "idempotency_key_reused"})


def codes_of(status: int, declared: tuple[str, ...], operation: dict) -> list[str]:
    idempotent = any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", ())
                     if isinstance(p, dict))
    return [code for code, code_status in STATUS_OF_CODE.items() if code_status == status and (
        code not in OPT_IN_CODES or code in declared or (code == "idempotency_key_reused" and idempotent))]


def error_response(status: int, codes: list[str], headers: dict[str, dict]) -> dict[str, Any]:
    """An operation's own copy of a named error response: its description lists the problem codes
    this operation can answer with `status`, and the example shows the first."""
    phrase = RESPONSES[status][1]
    listed = ", ".join(f"`{code}`" for code in codes)
    example = {"type": "about:blank", "title": phrase, "status": status, "code": codes[0],
               "detail": phrase, "request_id": "4bf92f3577b34da6a3ce929d0e0e4736"}
    return {"description": f"{phrase}; `code` is {'one of ' if len(codes) > 1 else ''}{listed}",
            "headers": headers,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}, "example": example}}}


def _link(operation_id: str, description: str, *, if_match: str | None = None, **parameters: str) -> dict[str, Any]:
    if if_match:
        parameters["header.If-Match"] = if_match
    return {"operationId": operation_id, "description": description, "parameters": parameters}


_BODY_ID = "$response.body#/id"
_ETAG = "$response.header.ETag"
# OpenAPI links of the main flows (draft -> papers -> submit -> the office's actions), so that a client
# generator or a stateful tester can follow an answer to the next request. By operationId and status.
LINKS: dict[str, dict[int, dict[str, dict[str, Any]]]] = {
    "dossiers_create": {201: {
        "GetDossier": _link("dossiers_get", "read the new draft", dossier_id=_BODY_ID),
        "UpdateDossier": _link("dossiers_update", "change its form", dossier_id=_BODY_ID),
        "AttachPaper": _link("dossiers_attach", "attach a paper", dossier_id=_BODY_ID),
        "SubmitDossier": _link("dossiers_submit", "submit it", dossier_id=_BODY_ID),
        "DeleteDraft": _link("dossiers_delete", "delete the draft", dossier_id=_BODY_ID),
    }},
    "dossiers_list_own": {200: {
        "GetFirstDossier": _link("dossiers_get", "open the first on the page", dossier_id="$response.body#/items/0/id"),
    }},
    "admin_dossiers_queue": {200: {
        "StaffGetFirst": _link("admin_dossiers_get", "open the first in the queue",
                               dossier_id="$response.body#/items/0/id"),
    }},
    "dossiers_attach": {201: {
        "DownloadPaper": _link("dossiers_download", "download the paper",
                               dossier_id="$request.path.dossier_id", attachment_id=_BODY_ID),
        "DetachPaper": _link("dossiers_detach", "remove the paper",
                             dossier_id="$request.path.dossier_id", attachment_id=_BODY_ID),
        "SubmitDossier": _link("dossiers_submit", "submit the dossier", dossier_id="$request.path.dossier_id"),
    }},
    "dossiers_submit": {200: {
        "GetDossier": _link("dossiers_get", "follow it", dossier_id=_BODY_ID),
        "WithdrawDossier": _link("dossiers_withdraw", "withdraw it before it is received", dossier_id=_BODY_ID),
        "PayFee": _link("payments_create", "pay its fee", dossier_id=_BODY_ID),
        "StaffGetDossier": _link("admin_dossiers_get", "the office reads it", dossier_id=_BODY_ID),
    }},
    "admin_dossiers_get": {200: {
        "StaffAct": _link("admin_dossiers_act", "the office acts on it", dossier_id=_BODY_ID, if_match=_ETAG),
        "UploadResult": _link("admin_dossiers_upload_result", "attach a result", dossier_id=_BODY_ID),
    }},
    "admin_dossiers_act": {200: {
        "StaffActAgain": _link("admin_dossiers_act", "the next action", dossier_id=_BODY_ID, if_match=_ETAG),
    }},
    "payments_create": {201: {"GetPayment": _link("payments_get", "follow the payment", payment_id=_BODY_ID)}},
    "bundles_create": {201: {
        "GetBundle": _link("bundles_get", "read the bundle", bundle_id=_BODY_ID),
        "UpdateBundle": _link("bundles_update", "change the shared form", bundle_id=_BODY_ID),
        "SubmitBundle": _link("bundles_submit", "submit every step", bundle_id=_BODY_ID),
    }},
    "notifications_register_device": {201: {
        "DeleteDevice": _link("notifications_delete_device", "unregister it", device_id=_BODY_ID),
    }},
    "admin_catalog_create_procedure": {201: {
        "UpdateProcedure": _link("admin_catalog_update_procedure", "change it", code="$response.body#/code"),
    }},
    "admin_catalog_create_agency": {201: {
        "UpdateAgency": _link("admin_catalog_update_agency", "change it", code="$response.body#/code"),
    }},
}


class ContractDocs(BasePlugin):
    """Per operation: an `operationId` from the endpoint (`dossiers.submit` → `dossiers_submit`),
    X-Request-ID on every answer, and what `documented()` declared on the view."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def init_spec(self, spec: Any) -> None:
        super().init_spec(spec)
        for name, header in HEADERS.items():
            spec.components.header(name, header)

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        rule = kwargs.get("rule")
        if rule is None or not operations:
            return
        view = self.app.view_functions.get(rule.endpoint)
        contract: dict = getattr(view, CONTRACT, {})
        several = len(operations) > 1
        for method, operation in operations.items():
            base = rule.endpoint.replace(".", "_").replace("-", "_")
            operation.setdefault("operationId", f"{base}_{method}" if several else base)
            for status, links in LINKS.get(operation["operationId"], {}).items():
                response = operation.get("responses", {}).get(status) or operation["responses"][str(status)]
                response["links"] = links
            if contract.get("if_none_match"):
                operation.setdefault("parameters", []).append(IF_NONE_MATCH)
            responses = operation.get("responses", {})
            for status, response in list(responses.items()):
                if isinstance(response, str) or str(response.get("$ref", "")).startswith("#/components/responses/"):
                    self._name_codes(responses, status, contract, operation)
                    continue
                extra = contract.get(int(status), {}) if str(status).isdigit() else {}
                headers = response.setdefault("headers", {})
                for name in ("X-Request-ID", *extra.get("headers", ())):
                    headers.setdefault(name, header_ref(name))
                if "content" in extra:
                    response["content"] = extra["content"]

    @staticmethod
    def _name_codes(responses: dict, key: object, contract: dict, operation: dict) -> None:
        """Replace a shared error response by the operation's own, listing its problem codes."""
        status = int(str(key)) if str(key).isdigit() else 0
        if status < 400 or status not in RESPONSES:
            return
        codes = codes_of(status, tuple(contract.get(status, {}).get("codes", ())), operation)
        if not codes:
            return
        headers = {"X-Request-ID": header_ref("X-Request-ID")}
        if status == 429:
            headers["Retry-After"] = header_ref("Retry-After")
        responses[key] = error_response(status, codes, headers)


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
        self.ma_plugin.converter.add_attribute_function(tidy_field)

    def _register_responses(self) -> None:
        for status, (name, phrase) in RESPONSES.items():
            response: dict[str, object] = {"description": phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            headers = {"X-Request-ID": header_ref("X-Request-ID")}
            if status == 429:
                headers["Retry-After"] = header_ref("Retry-After")
            if status == 304:
                headers["ETag"] = header_ref("ETag")
            response["headers"] = headers
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(name, response, lazy=True)
        default = {"description": "An error, as RFC 9457 problem details", "schema": self.ERROR_SCHEMA,
                   "headers": {"X-Request-ID": header_ref("X-Request-ID")}}
        prepare_response(default, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)


def document_mock_eid(app: Flask, api: Api) -> None:
    """The mock eID provider's token endpoint (a development stand-in, mounted only where it is
    enabled) in the document, so an app developer can sign in without VNeID."""
    from schemas.identity import MockTokenRequestSchema, MockTokenResponseSchema

    api.spec.tag({"name": "development", "description": "stand-ins for remote systems; never in production"})
    api.spec.components.schema("MockTokenRequest", schema=MockTokenRequestSchema)
    api.spec.components.schema("MockTokenResponse", schema=MockTokenResponseSchema)
    headers = {"X-Request-ID": header_ref("X-Request-ID")}
    rule = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == "mock_eid.token")
    api.spec.path(rule=rule, operations={"post": {
        "operationId": "mock_eid_token", "tags": ["development"], "security": [],
        "summary": "Development only: an eID ID token for the person described, as VNeID would issue it.",
        "description": "Post it to /api/v1/auth/eid to sign in. Served only where the mock eID provider is "
                       "enabled (SMARTQN_EID_MOCK_ENABLED, never in production); each ID token opens one "
                       "session. The CCCD must agree with the birth date and gender.",
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/MockTokenRequest"},
            "example": {"cccd": "049085001234", "full_name": "Nguyễn Văn An", "date_of_birth": "1985-03-12",
                        "gender": "male", "eid_level": 2}}}},
        "responses": {
            "200": {"description": "OK", "headers": headers,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MockTokenResponse"}}}},
            "422": error_response(422, ["validation_failed"], headers),
            "429": error_response(429, ["rate_limited"], {**headers, "Retry-After": header_ref("Retry-After")}),
        },
    }})


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
            "info": {"description": DESCRIPTION},
            "servers": [{"url": "/", "description": "this server"}],
        },
    )
    assets = Blueprint("swagger_assets", __name__)

    @assets.get("/docs/assets/<path:filename>")
    def swagger_asset(filename: str):  # noqa: ANN202
        return send_from_directory(SWAGGER_STATIC, filename, max_age=86400)

    app.register_blueprint(assets)
