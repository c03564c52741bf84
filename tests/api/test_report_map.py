"""The public map serves each cell's pins from the app server's memory until the cell moves: every change
a pin shows must reach the next map read, and a warm read is one small query."""

from __future__ import annotations

import dataclasses
import gzip
import io
from datetime import timedelta

from api.context import state_of
from services.clock import clock
from services.people.identity import grant_staff
from services.reports.table import RECENT_DAYS
from tests.api.test_statement_budget import counted
from tests.helpers import ADMIN, OFFICIAL, OTHER, bearer, sign_in
from tests.report_helpers import HAI_CHAU, act, filed, photo

SO_XAY_DUNG = "000.00.15.H15"
BOX = f"{HAI_CHAU[1] - 0.02},{HAI_CHAU[0] - 0.02},{HAI_CHAU[1] + 0.02},{HAI_CHAU[0] + 0.02}"


def shown(client, **args):
    response = client.get("/api/v1/public/reports", query_string={"bbox": BOX, **args})
    assert response.status_code == 200, response.json
    assert response.headers["Cache-Control"] == "public, max-age=15"
    return response.json


def pin(client, report_id, **args):
    return next((p for p in shown(client, **args)["items"] if p["id"] == report_id), None)


def test_every_change_a_pin_shows_reaches_the_next_map_read(client, session):
    reporter, follower = sign_in(client), sign_in(client, OTHER)
    grant_staff(session, OFFICIAL["cccd"], role="official", agency_code=SO_XAY_DUNG)
    report = filed(client, reporter)
    assert pin(client, report["id"])["status"] == "new"  # now cached
    assert pin(client, report["id"])["followers"] == 0

    client.post(f"/api/v1/reports/{report['id']}/follow", headers=bearer(follower))
    assert pin(client, report["id"])["followers"] == 1
    client.delete(f"/api/v1/reports/{report['id']}/follow", headers=bearer(follower))
    assert pin(client, report["id"])["followers"] == 0

    client.post(f"/api/v1/reports/{report['id']}/photos", headers=bearer(reporter),
                data={"file": (io.BytesIO(photo()), "p.jpg")}, content_type="multipart/form-data")
    assert len(pin(client, report["id"])["photos"]) == 1

    staff = sign_in(client, OFFICIAL)
    assert act(client, staff, report["id"], "accept").status_code == 200
    assert pin(client, report["id"])["status"] == "accepted"

    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    admin = sign_in(client, ADMIN)
    assert client.put("/api/v1/admin/report-categories/street_light", headers=bearer(admin),
                      json={"name": "Đèn chiếu sáng công cộng"}).status_code == 200
    assert pin(client, report["id"])["category_name"] == "Đèn chiếu sáng công cộng"
    assert client.patch(f"/api/v1/admin/agencies/{SO_XAY_DUNG}", headers=bearer(admin),
                        json={"name": "Sở Xây dựng (tên mới)"}).status_code == 200
    assert pin(client, report["id"])["agency_name"] == "Sở Xây dựng (tên mới)"  # the catalog moved

    second = filed(client, reporter)
    assert pin(client, second["id"]) is not None  # a new pin in a cached cell

    assert act(client, staff, report["id"], "resolve", note="Đã thay bóng").status_code == 200
    resolved = pin(client, report["id"])
    assert resolved["status"] == "resolved" and resolved["resolution_note"] == "Đã thay bóng"
    # Nothing moves when a resolved pin's time is up: the read itself drops it.
    clock.freeze(clock.now() + timedelta(days=RECENT_DAYS, hours=1))
    assert pin(client, report["id"]) is None and pin(client, second["id"]) is not None


def test_a_warm_map_read_is_one_query_and_filters_apply_to_cached_pins(client, session):
    reporter = sign_in(client)
    lights = [filed(client, reporter) for _ in range(3)]
    waste = filed(client, reporter, category="waste", photos=[photo()])
    clock.freeze(clock.now())  # the map's answer and ETag move on with the minute: these reads share one
    everything = shown(client)
    assert [p["id"] for p in everything["items"]] == [waste["id"], *[r["id"] for r in reversed(lights)]]
    assert everything["truncated"] is False and everything["clusters"] == []
    with counted(session) as statements:
        assert shown(client) == everything
    # BEGIN (SAVEPOINT), the catalog revision (the tests read it every time; a server once a second),
    # the cells' revisions, COMMIT (RELEASE)
    assert len(statements) <= 4, statements
    first = client.get("/api/v1/public/reports", query_string={"bbox": BOX})
    again = client.get("/api/v1/public/reports", query_string={"bbox": BOX},
                       headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.headers["ETag"] == first.headers["ETag"]
    filed(client, reporter)  # the box moved: a new ETag, a full answer
    moved = client.get("/api/v1/public/reports", query_string={"bbox": BOX},
                       headers={"If-None-Match": first.headers["ETag"]})
    assert moved.status_code == 200 and moved.headers["ETag"] != first.headers["ETag"]
    assert len(moved.json["items"]) == 5
    packed = client.get("/api/v1/public/reports", query_string={"bbox": BOX}, headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip" and packed.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(packed.get_data()) == moved.get_data()
    waste_only = shown(client, category_code="waste")["items"]
    assert [p["id"] for p in waste_only] == [waste["id"]]
    english = client.get("/api/v1/public/reports", query_string={"bbox": BOX},
                         headers={"Accept-Language": "en"}).json["items"]
    assert english[0]["status_label"] != everything["items"][0]["status_label"]

    two = shown(client, limit=2)
    assert [p["id"] for p in two["items"]][1:] == [waste["id"]]
    assert two["truncated"] is True and sum(c["count"] for c in two["clusters"]) == 5
    cluster = two["clusters"][0]
    assert abs(cluster["lat"] - HAI_CHAU[0]) < 1e-6 and abs(cluster["lon"] - HAI_CHAU[1]) < 1e-6
    for bad in ("0", "501", "1.5", "x"):
        response = client.get("/api/v1/public/reports", query_string={"bbox": BOX, "limit": bad})
        assert response.status_code == 422 and "limit" in response.json["errors"]


def test_a_server_trusts_the_box_revisions_it_read_for_map_revision_ttl(app, client, session):
    """With a time-to-live (a second in production) the same box asked again reads nothing at all; a
    change shows once the time is up."""
    reporter = sign_in(client)
    first = filed(client, reporter)
    clock.freeze(clock.now())  # a new minute would be a new answer (the map's ETag moves on with it)
    runtime = state_of(app).runtime
    settings = runtime.settings
    runtime.settings = dataclasses.replace(settings, map_revision_ttl=3600.0)
    catalog = state_of(app).catalog_revision
    catalog.expire()  # what an earlier test's rolled-back catalog edit left
    catalog.ttl = 3600.0
    try:
        assert [p["id"] for p in shown(client)["items"]] == [first["id"]]
        with counted(session) as statements:
            assert [p["id"] for p in shown(client)["items"]] == [first["id"]]
        assert statements == []  # no database at all
        second = filed(client, reporter)
        assert [p["id"] for p in shown(client)["items"]] == [first["id"]]  # within the time-to-live
        state_of(app).map_revisions.clear()  # the time is up
        assert [p["id"] for p in shown(client)["items"]] == [second["id"], first["id"]]
    finally:
        runtime.settings, catalog.ttl = settings, 0.0
