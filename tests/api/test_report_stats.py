"""Figures of field reports per agency and category, in the API, the CSV and the dashboard."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from services.calendar import TZ
from services.clock import clock
from services.people.identity import grant_staff
from tests.api.test_dashboard import consent
from tests.helpers import ADMIN, MONDAY_MORNING, OFFICIAL, OTHER, bearer, sign_in
from tests.report_helpers import act, filed

SO_XAY_DUNG = "000.00.15.H15"


def test_figures_per_agency_and_category_in_api_csv_and_dashboard(client, session):
    # Filed on a Monday morning, the street light (3 working days) and the flooding (2) are late 10 days
    # later; filed on the afternoon before Tết 2027 (4-10/2), they would still be on time.
    clock.freeze(MONDAY_MORNING)
    grant_staff(session, OFFICIAL["cccd"], role="official", agency_code=SO_XAY_DUNG)
    reporter = sign_in(client)
    quick, slow, open_late, reopened = (filed(client, reporter, category=c) for c in
                                        ("street_light", "street_light", "flooding", "street_light"))
    staff = sign_in(client, OFFICIAL)
    for report in (quick, reopened):
        act(client, staff, report["id"], "accept")
        act(client, staff, report["id"], "resolve", note="Đã sửa")
    client.post(f"/api/v1/reports/{quick['id']}/rating", headers=bearer(reporter), json={"score": 4})
    client.post(f"/api/v1/reports/{reopened['id']}/reopen", headers=bearer(reporter), json={"reason": "Chưa sửa"})
    clock.freeze(clock.now() + timedelta(days=10))
    staff = sign_in(client, OFFICIAL)
    act(client, staff, slow["id"], "accept")
    act(client, staff, slow["id"], "resolve", note="Trễ")
    today = clock.now().astimezone(TZ).date().isoformat()
    start = (clock.now() - timedelta(days=20)).astimezone(TZ).date().isoformat()
    response = client.get("/api/v1/admin/stats/reports", headers=bearer(staff),
                          query_string={"from": start, "to": today})
    assert response.status_code == 200, response.json
    rows = {(r["agency_code"], r["category_code"]): r for r in response.json["items"]}
    light = rows[(SO_XAY_DUNG, "street_light")]
    assert (light["received"], light["resolved_on_time"], light["resolved_late"]) == (3, 1, 1)
    assert light["reopened"] == 1 and light["open_overdue"] == 1 and light["satisfaction_avg"] == 4.0
    assert rows[(SO_XAY_DUNG, "flooding")]["open_overdue"] == 1
    assert response.json["total"]["received"] == 4
    other = client.get("/api/v1/admin/stats/reports", headers=bearer(staff),
                       query_string={"agency_code": "000.20.05.H15"})
    assert other.status_code == 404
    assert client.get("/api/v1/admin/stats/reports", headers=bearer(sign_in(client, OTHER))).status_code == 403
    sheet = client.get("/api/v1/admin/stats/reports.csv", headers=bearer(staff),
                       query_string={"from": start, "to": today})
    assert sheet.status_code == 200 and sheet.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(sheet.get_data(as_text=True).lstrip("\ufeff"))))
    assert {"street_light", "flooding", ""} == {r["category_code"] for r in table}
    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    consent(client, ADMIN)
    page = client.get(f"/admin/dashboard?from={start}&to={today}").get_data(as_text=True)
    assert 'id="report-table"' in page and 'data-category="street_light"' in page
    assert client.get(f"/admin/dashboard/reports.csv?from={start}&to={today}").status_code == 200
