"""Every blueprint of the app and the guard it stands behind: who may call what, in one table."""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_smorest import Api

from api import (
    audit,
    auth,
    bundles,
    catalog,
    catalog_admin,
    dashboard,
    dossiers,
    dossiers_admin,
    events,
    health,
    lookup,
    notifications,
    payments,
    portal,
    staff,
    stats,
    webhooks,
)
from api.guards import ADMIN, CITIZEN, OFFICIAL, PUBLIC, STAFF_PAGE, Guard
from api.ratelimit import limit
from services.settings import Settings

# blueprint name → guard. A route in a blueprint missing here is refused (see api/guards.py).
GUARDS: dict[str, Guard] = {
    "health": PUBLIC,
    "metrics": PUBLIC,  # for the scraper: SMARTQN_METRICS_TOKEN when set (api/metrics.py)
    "api-docs": PUBLIC,  # the OpenAPI document and Swagger UI
    "swagger_assets": PUBLIC,
    "catalog": PUBLIC,
    "auth": PUBLIC,  # the token in the body is the credential
    "mock_eid": PUBLIC,  # standins/: stands in for an external provider
    "mock_gateway": PUBLIC,  # standins/: stands in for the payment gateway's page
    "vnpay": PUBLIC,  # the gateway's callbacks: signed with the shared secret, verified in services.money.payments
    "lookup": PUBLIC,  # rate-limited; answers nothing personal
    "me": CITIZEN,
    "notifications": CITIZEN,  # the caller's own devices and inbox; other people's answer 404
    "dossiers": CITIZEN,  # the services answer 404 for dossiers the caller may not see
    "bundles": CITIZEN,
    "payments": CITIZEN,  # a payment is visible to its payer only
    "admin_dossiers": OFFICIAL,  # an official sees their agency's dossiers only
    "admin_stats": OFFICIAL,  # an official sees their agency's figures only
    "admin_staff": ADMIN,
    "admin_audit": ADMIN,
    "admin_catalog": ADMIN,
    "admin_announcements": ADMIN,
    "admin_payments": ADMIN,
    "admin_webhooks": ADMIN,
    "me_events": CITIZEN,  # the caller's own events only (services.events.stream.Audience)
    "admin_events": OFFICIAL,  # the official's agency's events only
    "portal": PUBLIC,  # the admin portal's sign-in pages and its scripts and styles
    "dashboard": STAFF_PAGE,  # the same scope as admin_stats, signed in by the portal's cookie
}


def register(app: Flask, api: Api, limiter: Limiter | None, settings: Settings) -> None:
    for blueprint in (health.blp, catalog.blp, auth.blp, auth.me_blp, dossiers.blp, bundles.blp, lookup.blp,
                      payments.blp, payments.gateway_blp, payments.admin_blp, dossiers_admin.blp, stats.blp, staff.blp,
                      audit.blp, catalog_admin.blp, notifications.blp, notifications.admin_blp,
                      webhooks.blp, events.me_blp, events.admin_blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(portal.blp)
    app.register_blueprint(dashboard.blp)
    limit(app, limiter, settings.ratelimit_auth, blueprints=(auth.blp,),
          endpoints=("portal.login", "portal.callback"))
    limit(app, limiter, settings.ratelimit_lookup, blueprints=(lookup.blp,))
    limit(app, limiter, settings.ratelimit_ipn, endpoints=("vnpay.ipn",))
    if settings.eid_mock_enabled or settings.payment_mock_enabled:
        import standins  # here, not at the top: a production process never imports the stand-ins

        standins.register(app, settings)
    if settings.eid_mock_enabled:
        limit(app, limiter, settings.ratelimit_auth, endpoints=("mock_eid.token",))
