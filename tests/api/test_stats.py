"""The province's figures on a crafted data set with known answers, edges of the range included."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from services.calendar import TZ
from services.clock import clock
from services.db import transaction
from services.models import Dossier, Procedure, User
from tests.dossier_helpers import official_of
from tests.helpers import ADMIN, OFFICIAL, OTHER, bearer, sign_in

A, B = "000.20.24.H15", "000.00.23.H15"  # phường Hội An, Công an thành phố


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


@pytest.fixture
def crafted(session):
    """Dossiers whose figures for November 2026 are worked out by hand in the comments."""
    applicant = User(cccd="049190001111", full_name="Mai Thị Hoa", date_of_birth=date(1990, 1, 1), gender="female",
                     eid_level=2, eid_subject="stats")
    session.add(applicant)
    session.flush()
    procedures = {p.agency.code: p for p in session.scalars(select(Procedure))}

    def make(agency: str = A, **fields):
        dossier = Dossier(procedure=procedures[agency], agency_id=procedures[agency].agency_id,
                          applicant_id=applicant.id, form={}, **fields)
        session.add(dossier)
        return dossier

    # 1: received and completed on time in November; rated 4 in November.
    make(status="completed", received_at=at(11, 3), completed_at=at(11, 10), closed_at=at(11, 10),
         due_at=at(11, 12, 17), processing_days=5, rated_at=at(11, 11), rating_score=4)
    # 2: received in October, completed late in November, fee paid online; rated 1 in December.
    make(status="completed", received_at=at(10, 28), completed_at=at(11, 5), closed_at=at(11, 5),
         due_at=at(11, 3, 17), processing_days=6, fee_vnd=200_000, paid_at=at(10, 29),
         rated_at=at(12, 1, 1), rating_score=1)
    # 3: received in November, due in November, completed in December: overdue at the end of November.
    make(status="completed", received_at=at(11, 20), completed_at=at(12, 2), closed_at=at(12, 2),
         due_at=at(11, 25, 17), processing_days=9)
    # 4: received, in progress and past due: overdue.
    make(status="in_progress", received_at=at(11, 25), due_at=at(11, 28, 17))
    # 5: received, due in December: not overdue at the end of November.
    make(status="received", received_at=at(11, 29), due_at=at(12, 3, 17))
    # 6: received and rejected in November; rated 2.
    make(status="rejected", received_at=at(11, 14), closed_at=at(11, 15), rated_at=at(11, 16), rating_score=2)
    # 7: withdrawn half an hour before November: not counted. 8: half an hour before December: counted.
    make(status="withdrawn", closed_at=at(10, 31, 23, 30))
    make(status="withdrawn", closed_at=at(11, 30, 23, 30))
    # 9: received ten minutes into November, completed on its due day (on time), fee paid at the desk.
    make(status="completed", received_at=at(11, 1, 0, 10), completed_at=at(11, 12, 16), closed_at=at(11, 12, 16),
         due_at=at(11, 12, 17), processing_days=8, fee_vnd=100_000, paid_at=at(11, 1, 0, 20), paid_via="desk")
    # Agency B: received and completed late, paid online.
    make(B, status="completed", received_at=at(11, 10), completed_at=at(11, 20), closed_at=at(11, 20),
         due_at=at(11, 15, 17), processing_days=7, fee_vnd=200_000, paid_at=at(11, 11))
    session.flush()
    clock.freeze(datetime(2026, 12, 5, 3, 0, tzinfo=UTC))


EXPECTED_A = {"agency_code": A, "received": 6, "completed": 3, "completed_on_time": 2, "completed_late": 1,
              "overdue_open": 2, "rejected": 1, "withdrawn": 1, "on_time_rate": 0.6667, "online_payment_rate": 0.5,
              "avg_processing_days": 6.33, "satisfaction_avg": 3.0}
EXPECTED_B = {"agency_code": B, "received": 1, "completed": 1, "completed_on_time": 0, "completed_late": 1,
              "overdue_open": 0, "rejected": 0, "withdrawn": 0, "on_time_rate": 0.0, "online_payment_rate": 1.0,
              "avg_processing_days": 7.0, "satisfaction_avg": None}
NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture
def admin(client, session):
    from services.people.identity import grant_staff

    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    return lambda: sign_in(client, ADMIN)


def subset(item: dict, expected: dict) -> dict:
    return {k: item[k] for k in expected}


def test_figures_per_agency_and_for_the_province(client, crafted, admin):
    body = client.get("/api/v1/admin/stats", headers=bearer(admin()), query_string=NOVEMBER).json
    items = {i["agency_code"]: i for i in body["items"]}
    assert subset(items[A], EXPECTED_A) == EXPECTED_A
    assert subset(items[B], EXPECTED_B) == EXPECTED_B
    assert items["000.00.00.H15"]["received"] == 0 and items["000.00.00.H15"]["on_time_rate"] is None
    total = {k: v for k, v in body["total"].items() if k not in ("agency_code", "agency_name")}
    assert total == {"received": 7, "completed": 4, "completed_on_time": 2, "completed_late": 2, "overdue_open": 2,
                     "rejected": 1, "withdrawn": 1, "refunds_due": 0, "on_time_rate": 0.5,
                     "online_payment_rate": 0.6667, "avg_processing_days": 6.5, "satisfaction_avg": 3.0,
                     "submitted": 0, "submitted_reusing": 0, "reuse_rate": None,  # tests/api/test_wallet_stats.py
                     # Every crafted dossier is online (the default channel) and none was digitised.
                     "received_online": 7, "received_desk": 0, "received_postal": 0, "online_rate": 1.0,
                     "digitised": 0, "digitised_rate": 0.0, "desk_payment": 1, "desk_payment_rate": 0.3333,
                     "returned_by_post": 0}
    assert body["from"] == "2026-11-01" and body["to"] == "2026-11-30"


def test_an_official_sees_their_agency_only(client, session, crafted):
    official_of(client, session, agency=A)  # grants the role (tokens are taken at the frozen time below)
    official = sign_in(client, OFFICIAL)
    body = client.get("/api/v1/admin/stats", headers=bearer(official), query_string=NOVEMBER).json
    assert [i["agency_code"] for i in body["items"]] == [A]
    other = client.get("/api/v1/admin/stats", headers=bearer(official), query_string={**NOVEMBER, "agency_code": B})
    assert other.status_code == 404
    assert client.get("/api/v1/admin/stats", headers=bearer(sign_in(client, OTHER))).status_code == 403


@pytest.mark.parametrize(("query", "status"), [
    ({"from": "2026-12-01", "to": "2026-11-01"}, 422),
    ({"from": "2020-01-01", "to": "2026-11-30"}, 422),
    ({"from": "2026-13-01"}, 422),
    ({**NOVEMBER, "agency_code": "000.99.99.H15"}, 404),
])
def test_bad_ranges_and_unknown_agencies(client, admin, query, status):
    response = client.get("/api/v1/admin/stats", headers=bearer(admin()), query_string=query)
    assert response.status_code == status, response.json


def test_csv_export_opens_in_excel(client, crafted, admin):
    response = client.get("/api/v1/admin/stats.csv", headers=bearer(admin()),
                          query_string={**NOVEMBER, "agency_code": A})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff") and "thong-ke-20261101-20261130.csv" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0]["agency_name"] == "Ủy ban nhân dân phường Hội An" and rows[0]["received"] == "6"
    assert rows[0]["on_time_rate"] == "0.6667" and rows[-1]["agency_name"] == "Toàn tỉnh"


def test_the_overdue_list_is_most_late_first(client, crafted, admin):
    items = client.get("/api/v1/admin/overdue", headers=bearer(admin()), query_string={"agency_code": A}).json["items"]
    assert [(i["status"], i["days_late"]) for i in items] == [("in_progress", 5), ("received", 1)]
    assert items[0]["applicant_name"] == "Mai Thị Hoa"


def test_the_overdue_list_names_procedures_in_the_request_language(client, session, crafted, admin):
    token = admin()
    names = {d.id: (d.procedure.name, d.procedure.name_en) for d in session.scalars(select(Dossier))}
    for lang, pick in (("en", 1), ("vi", 0)):
        items = client.get("/api/v1/admin/overdue", headers={**bearer(token), "Accept-Language": lang},
                           query_string={"agency_code": A}).json["items"]
        assert items and all(names[i["id"]][1] for i in items)  # procedures with an English name
        assert [i["procedure_name"] for i in items] == [names[i["id"]][pick] for i in items], lang


def test_weekly_series_in_local_weeks(client, session, crafted, admin):
    # Two more arrivals around the last local week boundary of November: Sunday 29th 23:30 belongs to
    # the week of the 23rd, Monday 30th 00:10 to the week of the 30th (both are the 29th in UTC).
    applicant = session.scalars(select(User).where(User.cccd == "049190001111")).one()
    procedure = session.scalars(select(Procedure)).first()
    with transaction(session):  # committed, as the requests below end their own units of work
        for received in (at(11, 29, 23, 30), at(11, 30, 0, 10)):
            session.add(Dossier(procedure=procedure, agency_id=procedure.agency_id, applicant_id=applicant.id,
                                form={}, status="received", received_at=received, due_at=at(12, 10, 17)))
    body = client.get("/api/v1/admin/stats/weekly", headers=bearer(admin()), query_string=NOVEMBER).json
    # 1 November 2026 is a Sunday: the first week starts on Monday 26 October and holds that one day.
    assert body["items"] == [
        {"week_start": "2026-10-26", "received": 1, "completed": 0},  # #9 at 00:10 on the 1st (local)
        {"week_start": "2026-11-02", "received": 1, "completed": 1},
        {"week_start": "2026-11-09", "received": 2, "completed": 2},
        {"week_start": "2026-11-16", "received": 1, "completed": 1},
        {"week_start": "2026-11-23", "received": 3, "completed": 0},
        {"week_start": "2026-11-30", "received": 1, "completed": 0},
    ]
    assert sum(w["received"] for w in body["items"]) == 7 + 2


def test_weekly_series_follows_the_official_scope(client, session, crafted):
    official_of(client, session, agency=B)
    official = sign_in(client, OFFICIAL)
    body = client.get("/api/v1/admin/stats/weekly", headers=bearer(official), query_string=NOVEMBER).json
    assert [(w["received"], w["completed"]) for w in body["items"]] == [(0, 0), (0, 0), (1, 0), (0, 1), (0, 0),
                                                                         (0, 0)]
    bad = client.get("/api/v1/admin/stats/weekly", headers=bearer(official),
                     query_string={"from": "2026-12-01", "to": "2026-11-01"})
    assert bad.status_code == 422
