"""The admin portal's browser sign-in: the eID authorization-code flow with PKCE, kept in cookies.

The access token and the refresh token live in HttpOnly, SameSite=Lax cookies scoped to /admin, so
page scripts never see them and the API (bearer tokens only) never accepts them. An expired access
token is renewed from the refresh token without a new trip to the provider.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from api.context import get_session, jwks, settings
from api.errors import status_of
from api.guards import ACCESS_COOKIE, REFRESH_COOKIE
from api.i18n import problem_text
from services.errors import DomainError, Forbidden, Unauthorized
from services.people import identity
from services.people.eid import redeem_code, s256, verify_id_token
from vocab import STAFF_ROLES

blp = Blueprint("portal", __name__, url_prefix="/admin", static_folder="static", static_url_path="/assets")
LOGIN_COOKIE = "smartqn_portal_login"
HOME = "/admin/dashboard"


def _safe_next(value: str | None) -> str:
    # Only pages of the portal itself: never an open redirect.
    if value and value.startswith("/admin/") and not value.startswith("//") and "\\" not in value:
        return value
    return HOME


def _cookie(response: BaseResponse, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/admin", httponly=True, samesite="Lax",
                        secure=settings().base_url.startswith("https://"))


def message(title: str, detail: str, status: int, *, sign_in: bool = True) -> tuple[str, int]:
    return render_template("admin/message.html", title=title, detail=detail, sign_in=sign_in), status


def _signed_in(signed: identity.SignedIn, next_url: str) -> BaseResponse:
    response = redirect(next_url, code=303)
    _cookie(response, ACCESS_COOKIE, signed.access_token, signed.expires_in)
    _cookie(response, REFRESH_COOKIE, signed.refresh_token, settings().refresh_token_ttl_days * 86400)
    response.delete_cookie(LOGIN_COOKIE, path="/admin")
    return response


def _signed_out(response: BaseResponse) -> BaseResponse:
    for name in (ACCESS_COOKIE, REFRESH_COOKIE, LOGIN_COOKIE):
        response.delete_cookie(name, path="/admin")
    return response


def _redirect_uri() -> str:
    return settings().base_url + url_for("portal.callback")


@blp.get("/login")
def login() -> Any:
    """Renew the session from the refresh cookie, or send the browser to the eID provider."""
    next_url = _safe_next(request.args.get("next"))
    refresh = request.cookies.get(REFRESH_COOKIE)
    if refresh:
        try:
            return _signed_in(identity.refresh(get_session(), refresh, settings=settings()), next_url)
        except Unauthorized:
            pass  # used, expired or revoked: sign in again
    config = settings()
    state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    query = urlencode({"response_type": "code", "client_id": config.eid_audience[0], "scope": "openid",
                       "redirect_uri": _redirect_uri(), "state": state, "code_challenge": s256(verifier),
                       "code_challenge_method": "S256"})
    response = redirect(f"{config.eid_authorize_url}?{query}", code=302)
    # The state and verifier are URL-safe base64 (no dots); what follows the second dot is the page.
    _cookie(response, LOGIN_COOKIE, f"{state}.{verifier}.{next_url}", 600)
    return response


@blp.get("/callback")
def callback() -> Any:
    """The provider sends the browser back here with a code: redeem it, check the role, set cookies."""
    state, verifier, next_url = (request.cookies.get(LOGIN_COOKIE, "").split(".", 2) + ["", "", ""])[:3]
    if request.args.get("error"):
        return message("Chưa đăng nhập", "Bạn đã từ chối chia sẻ thông tin định danh.", 401)
    if not state or not secrets.compare_digest(state, request.args.get("state", "")):
        return message("Phiên đăng nhập không hợp lệ", "Hãy bắt đầu đăng nhập lại từ trang quản trị.", 400)
    config = settings()
    id_token = redeem_code(config.eid_token_url, code=request.args.get("code", ""), client_id=config.eid_audience[0],
                           redirect_uri=_redirect_uri(), code_verifier=verifier)
    person = verify_id_token(id_token, jwks=jwks(), issuer=config.eid_issuer, audience=config.eid_audience,
                             leeway=config.eid_leeway_seconds)
    signed = identity.sign_in(get_session(), person, settings=config)
    if not any(role in signed.user.roles for role in STAFF_ROLES):
        identity.logout(get_session(), signed.refresh_token)  # a citizen keeps no portal session
        raise Forbidden("the portal is for officials and admins")
    return _signed_in(signed, _safe_next(next_url))


@blp.post("/logout")
def logout() -> Any:
    if refresh := request.cookies.get(REFRESH_COOKIE):
        identity.logout(get_session(), refresh)
    response = Response(*message("Đã đăng xuất", "Phiên làm việc trên trang quản trị đã kết thúc.", 200))
    return _signed_out(response)


def page_error(exc: DomainError) -> Any:
    """Errors on portal pages answer as pages: a missing or stale session goes to sign-in."""
    if isinstance(exc, Unauthorized):
        return redirect(url_for("portal.login", next=request.full_path.rstrip("?")), code=302)
    if isinstance(exc, Forbidden):
        body, status = message("Không có quyền truy cập", "Trang quản trị dành cho cán bộ và quản trị viên.", 403)
        return _signed_out(Response(body, status))
    title, detail = problem_text(exc.code, "vi")
    return message(title, detail, status_of(exc), sign_in=False)


blp.register_error_handler(DomainError, page_error)
