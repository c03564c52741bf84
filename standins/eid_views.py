"""The mock eID provider's HTTP face: discovery, JWKS, token endpoint, consent page.

A stand-in for an external provider (like the FCM emulator), so it is kept out of our OpenAPI
document; README documents it. Mounted by `standins.register` unless SMARTQN_EID_MOCK_ENABLED=false.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import marshmallow as ma
from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request
from marshmallow import ValidationError
from werkzeug.wrappers import Response as BaseResponse

from api import strict_json
from api.blueprint import nul_paths
from api.context import get_session, settings
from schemas.identity import MockTokenRequestSchema
from services.errors import ValidationFailed
from standins import eid as mock_eid

blp = Blueprint("mock_eid", __name__, url_prefix="/mock-eid", template_folder="templates")

AUTHORIZE_PARAMS = ("response_type", "client_id", "redirect_uri", "state", "nonce", "code_challenge",
                    "code_challenge_method", "scope")
_person_schema = MockTokenRequestSchema()


def mock_keys() -> mock_eid.KeyStore:
    return current_app.extensions[mock_eid.KEYS]


def _load_person(data: dict[str, Any]) -> dict[str, Any]:
    try:
        person = _person_schema.load(data)
    except ValidationError as exc:
        raise ValidationFailed("invalid person", errors=exc.normalized_messages()) from exc
    nonce = person.pop("nonce", None)
    return {"claims": mock_eid.person_claims(**person), "nonce": nonce}


def _token_response(id_token: str) -> Response:
    response = jsonify(id_token=id_token, token_type="Bearer", expires_in=settings().eid_mock_token_ttl)
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.get("/.well-known/openid-configuration")
def discovery() -> Response:
    issuer = settings().eid_issuer
    return jsonify({
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/jwks.json",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "claims_supported": ["sub", "iss", "aud", "iat", "exp", "nonce", "name", "birthdate", "gender", "cccd",
                             "eid_level"],
    })


@blp.get("/jwks.json")
def jwks() -> Response:
    response = jsonify(mock_keys().jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@blp.post("/token")
def token() -> Response:
    """JSON {cccd, full_name, …}: a token for that person (tests, demos); form-encoded: the code flow."""
    config = settings()
    if request.mimetype == "application/x-www-form-urlencoded":
        form = request.form
        if form.get("grant_type") != "authorization_code":
            raise mock_eid.InvalidRequest("grant_type must be authorization_code")
        grant = mock_eid.redeem_code(get_session(), code=form.get("code", ""), client_id=form.get("client_id", ""),
                                     redirect_uri=form.get("redirect_uri", ""),
                                     code_verifier=form.get("code_verifier", ""), state=form.get("state"))
        return _token_response(mock_eid.mint_id_token(
            mock_keys(), issuer=config.eid_issuer, audience=grant.client_id, claims=grant.claims,
            ttl=config.eid_mock_token_ttl, nonce=grant.nonce))
    try:
        body = strict_json.loads(request.get_data(cache=True))
    except (ValueError, ma.ValidationError) as exc:  # not JSON, or JSON no claim can hold (NUL, surrogates…)
        messages = exc.messages if isinstance(exc, ma.ValidationError) else {"_schema": ["Not JSON."]}
        raise ValidationFailed("a JSON object is expected", errors=messages) from exc  # type: ignore[arg-type]
    if not isinstance(body, dict):
        raise ValidationFailed("a JSON object is expected", errors={"_schema": ["Expected a JSON object."]})
    if found := nul_paths(body, None):
        raise ValidationFailed("NUL in a claim", errors={p: ["NUL characters are not allowed."] for p in found})
    person = _load_person(body)
    return _token_response(mock_eid.mint_id_token(
        mock_keys(), issuer=config.eid_issuer, audience=config.eid_audience[0], claims=person["claims"],
        ttl=config.eid_mock_token_ttl, nonce=person["nonce"]))


def _params(source: Any) -> dict[str, str]:
    return {name: source[name] for name in AUTHORIZE_PARAMS if source.get(name)}


def _redirect_back(redirect_uri: str, **params: str) -> BaseResponse:
    parts = urlsplit(redirect_uri)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return redirect(urlunsplit(parts._replace(query=query)), code=302)


@blp.get("/authorize")
def authorize() -> str:
    params = _params(request.args)
    mock_eid.check_authorization_request(params, clients=settings().eid_audience)
    return render_template("mock_eid/authorize.html", params=params, demo=mock_eid.DEMO_CITIZENS,
                           person=mock_eid.DEMO_CITIZENS[0], errors=None)


@blp.post("/authorize")
def authorize_submit() -> Any:
    params = _params(request.form)
    clients = settings().eid_audience
    mock_eid.check_authorization_request(params, clients=clients)
    if request.form.get("decision") != "approve":
        return _redirect_back(params["redirect_uri"], error="access_denied", state=params["state"])
    fields = {k: request.form.get(k, "") for k in ("cccd", "full_name", "date_of_birth", "gender", "eid_level")}
    try:
        person = _load_person(fields)
    except ValidationFailed as exc:
        page = render_template("mock_eid/authorize.html", params=params, demo=mock_eid.DEMO_CITIZENS,
                               person=fields, errors=exc.errors)
        return page, 422
    code = mock_eid.issue_code(get_session(), params, person["claims"], clients=clients)
    return _redirect_back(params["redirect_uri"], code=code, state=params["state"])
