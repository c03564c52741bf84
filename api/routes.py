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
    desk,
    dossiers,
    dossiers_admin,
    events,
    health,
    lookup,
    notifications,
    open311,
    openapi,
    payments,
    portal,
    postal,
    reports,
    reports_admin,
    reports_public,
    staff,
    stats,
    wallet,
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
    "mock_carrier": PUBLIC,  # standins/: stands in for the postal carrier's API
    "vnpay": PUBLIC,  # the gateway's callbacks: signed with the shared secret, verified in services.money.payments
    "lookup": PUBLIC,  # rate-limited; answers nothing personal
    "me": CITIZEN,
    "notifications": CITIZEN,  # the caller's own devices and inbox; other people's answer 404
    "dossiers": CITIZEN,  # the services answer 404 for dossiers the caller may not see
    "bundles": CITIZEN,
    "payments": CITIZEN,  # a payment is visible to its payer only
    "wallet": CITIZEN,  # the caller's own papers; other people's answer 404
    "shared": PUBLIC,  # the unguessable single-use token is the credential; rate-limited
    "admin_dossiers": OFFICIAL,  # an official sees their agency's dossiers only
    "desk": OFFICIAL,  # officials of a one-stop centre only (services.dossiers.desk answers 403 to others)
    "dossier_documents": CITIZEN,  # the applicant's own dossiers' documents; others' are 404
    "admin_dossier_documents": OFFICIAL,
    "verify": PUBLIC,  # rate-limited; answers nothing personal
    "postal": PUBLIC,  # the carrier's callbacks: HMAC-signed, verified in api/postal.py before anything
    "admin_shipments": OFFICIAL,  # shipments of the official's agency's dossiers
    "admin_stats": OFFICIAL,  # an official sees their agency's figures only
    "admin_staff": ADMIN,
    "admin_audit": ADMIN,
    "admin_catalog": ADMIN,
    "admin_announcements": ADMIN,
    "admin_payments": ADMIN,
    "report_categories": PUBLIC,
    "public_reports": PUBLIC,  # the public map: nothing about the reporter
    "reports": CITIZEN,  # another person's report is its public view
    "admin_reports": OFFICIAL,  # an official sees their agency's reports only
    "admin_report_categories": ADMIN,
    "admin_report_stats": OFFICIAL,  # an official sees their agency's figures only
    "open311": PUBLIC,  # GeoReport v2: reads are public and anonymous; a POST checks its api_key
    "admin_open311": ADMIN,
    "admin_webhooks": ADMIN,
    "me_events": CITIZEN,  # the caller's own events only (services.events.stream.Audience)
    "admin_events": OFFICIAL,  # the official's agency's events only
    "portal": PUBLIC,  # the admin portal's sign-in pages and its scripts and styles
    "dashboard": STAFF_PAGE,  # the same scope as admin_stats, signed in by the portal's cookie
}


def register(app: Flask, api: Api, limiter: Limiter | None, settings: Settings) -> None:
    for blueprint in (health.blp, catalog.blp, auth.blp, auth.me_blp, dossiers.blp, bundles.blp, lookup.blp,
                      payments.blp, payments.gateway_blp, payments.admin_blp, dossiers_admin.blp, stats.blp, staff.blp,
                      audit.blp, catalog_admin.blp, notifications.blp, notifications.admin_blp, wallet.blp,
                      wallet.shared_blp, desk.blp, desk.documents_blp, desk.admin_documents_blp, desk.verify_blp,
                      postal.blp, postal.callback_blp, reports.blp, reports.categories_blp,
                      reports_public.public_blp, reports_admin.admin_blp, reports_admin.admin_categories_blp,
                      reports_admin.stats_blp, open311.blp,
                      open311.admin_blp, webhooks.blp, events.me_blp, events.admin_blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(portal.blp)
    app.register_blueprint(dashboard.blp)
    limit(app, limiter, settings.ratelimit_auth, blueprints=(auth.blp,),
          endpoints=("portal.login", "portal.callback"))
    limit(app, limiter, settings.ratelimit_lookup, blueprints=(lookup.blp, wallet.shared_blp, desk.verify_blp))
    limit(app, limiter, settings.ratelimit_ipn, endpoints=("vnpay.ipn", "postal.callback"))
    if settings.eid_mock_enabled or settings.payment_mock_enabled or settings.postal_mock_enabled:
        import standins  # here, not at the top: a production process never imports the stand-ins

        standins.register(app, settings)
    if settings.eid_mock_enabled:
        limit(app, limiter, settings.ratelimit_auth, endpoints=("mock_eid.token",))
        openapi.document_mock_eid(app, api)
