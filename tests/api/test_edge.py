"""The WSGI edge (api/edge.py, api/edge_reads.py) answers a rendered catalog read, a citizen's kept dossier and
their unread count before Flask: the same status, body and headers as Flask's own answer, counted and logged
the same, and nothing it has not seen rendered or allowed."""

from __future__ import annotations

import logging
from contextlib import contextmanager

import pytest
from flask import request_started

from api.context import state_of
from api.edge_reads import DOSSIER_ROUTE, UNREAD_ROUTE
from api.metrics import REQUESTS
from services.clock import clock
from services.dossiers.glimpse import glimpse
from services.people.identity import grant_staff
from tests.api.test_payments import pay
from tests.dossier_helpers import FEE, act, draft, official_of, submitted
from tests.helpers import ADMIN, CITIZEN, OTHER, bearer, sign_in


@pytest.fixture(autouse=True)
def _nothing_kept_from_other_tests(app):
    """The app lives for the whole run: what other tests' reads kept would let the edge answer a first read."""
    state = state_of(app)
    for kept in (state.queue_queries, state.inbox_queries, state.notice_views, state.dossier_views,
                 state.queue_pages):
        kept.clear()


@contextmanager
def edge_on(app):
    """The tests read the catalog revision on every request (ttl 0), which keeps the edge out; here it
    is kept for a minute, as a server keeps it for a second."""
    revision = state_of(app).catalog_revision
    revision.expire()  # what an earlier test's rolled-back catalog edit left
    state_of(app).catalog_cache.clear()
    ttl, revision.ttl = revision.ttl, 60.0
    try:
        yield
    finally:
        revision.ttl = ttl


@contextmanager
def reaching_flask(app):
    seen: list[str] = []

    def started(sender, **_):
        seen.append("flask")

    request_started.connect(started, app)
    try:
        yield seen
    finally:
        request_started.disconnect(started, app)


def test_the_edge_answers_as_flask_does(app, client, caplog):
    url = "/api/v1/procedures?limit=3"
    headers = {"X-Request-ID": "edge-test-1", "Accept-Language": "en"}
    with edge_on(app), reaching_flask(app) as seen:
        by_flask = client.get(url, headers=headers)
        assert seen == ["flask"] and by_flask.status_code == 200
        before = REQUESTS.labels("/api/v1/procedures", "GET", "200")._value.get()
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="smartqn.access"):
            by_edge = client.get(url, headers=headers)
        assert seen == ["flask"], "the second read never reached Flask"
        assert by_edge.get_data() == by_flask.get_data()
        assert sorted(by_edge.headers.items()) == sorted(by_flask.headers.items())
        assert REQUESTS.labels("/api/v1/procedures", "GET", "200")._value.get() == before + 1
        logged = [r for r in caplog.records if r.name == "smartqn.access"]
        assert [(r.method, r.path, r.status) for r in logged] == [("GET", "/api/v1/procedures", 200)]

        conditional = {**headers, "If-None-Match": by_flask.headers["ETag"]}
        not_modified = client.get(url, headers=conditional)
        assert seen == ["flask"] and not_modified.status_code == 304 and not_modified.get_data() == b""
        state_of(app).catalog_revision.ttl = 0.0  # now Flask answers the same 304
        flask_304 = client.get(url, headers=conditional)
        assert seen == ["flask", "flask"] and flask_304.status_code == 304
        assert sorted(not_modified.headers.items()) == sorted(flask_304.headers.items())


def test_the_edge_serves_only_what_was_rendered_for_that_language_and_url(app, client):
    with edge_on(app), reaching_flask(app) as seen:
        client.get("/api/v1/procedures?limit=3")
        client.get("/api/v1/procedures?limit=3")
        assert seen == ["flask"]
        english = client.get("/api/v1/procedures?limit=3", headers={"Accept-Language": "en"})
        other = client.get("/api/v1/procedures?limit=4")
        head = client.head("/api/v1/procedures?limit=3")
        assert seen == ["flask"] * 4 and {english.status_code, other.status_code, head.status_code} == {200}
        client.get("/api/v1/procedures/%C4%91")  # "đ", a 404: not rendered, never cached
        assert client.get("/api/v1/procedures/%C4%91").status_code == 404 and seen.count("flask") == 6
        assert client.get("/api/v1/procedures/%C3%84%C2%91").status_code == 404  # "Ä\x91": another URL


def test_a_citizens_own_dossier_and_unread_count_from_the_edge_as_flask_answers_them(app, client, session, caplog):
    citizen = sign_in(client)
    dossier = submitted(client, citizen)
    headers = {**bearer(citizen), "X-Request-ID": "edge-test-2", "Accept-Language": "en"}
    for url, route in ((f"/api/v1/dossiers/{dossier['id']}", DOSSIER_ROUTE), (UNREAD_ROUTE, UNREAD_ROUTE)):
        state_of(app).dossier_views.clear()
        clock.advance(seconds=61)  # past revocation_check_seconds: Flask looks at the session again
        with reaching_flask(app) as seen:
            by_flask = client.get(url, headers=headers)  # and renders and keeps the dossier
            assert seen == ["flask"] and by_flask.status_code == 200
            before = REQUESTS.labels(route, "GET", "200")._value.get()
            caplog.clear()
            with caplog.at_level(logging.INFO, logger="smartqn.access"):
                by_edge = client.get(url, headers=headers)
            assert seen == ["flask"], f"{url}: the second read reached Flask"
        assert by_edge.get_data() == by_flask.get_data()
        assert sorted(by_edge.headers.items()) == sorted(by_flask.headers.items())
        assert REQUESTS.labels(route, "GET", "200")._value.get() == before + 1
        logged = [r for r in caplog.records if r.name == "smartqn.access"]
        assert [(r.path, r.status, r.request_id) for r in logged] == [(url, 200, "edge-test-2")]
    assert client.get(UNREAD_ROUTE, headers=headers).json == {"count": 1}  # the submit's notice
    note = client.get("/api/v1/me/notifications", headers=headers).json["items"][0]
    client.post(f"/api/v1/me/notifications/{note['id']}/read", headers=headers)
    with reaching_flask(app) as seen:
        assert client.get(UNREAD_ROUTE, headers=headers).json == {"count": 0} and seen == []


def test_the_edge_leaves_to_flask_whatever_it_has_not_seen_allowed(app, client, session):
    citizen, other = sign_in(client), sign_in(client, OTHER)
    mine, editable = submitted(client, citizen), draft(client, citizen)
    official = official_of(client, session)
    url = f"/api/v1/dossiers/{mine['id']}"
    assert client.get(url, headers=bearer(citizen)).status_code == 200  # kept from now on
    with reaching_flask(app) as seen:
        assert client.get(url, headers=bearer(other)).status_code == 404
        assert client.get(url, headers=bearer(official)).status_code == 200  # an official's own view
        assert client.get(url, headers={"Authorization": "Bearer nonsense"}).status_code == 401
        assert client.get(url).status_code == 401
        assert client.get(url.upper().replace("/API/V1/DOSSIERS", "/api/v1/dossiers"),
                          headers=bearer(citizen)).status_code in (200, 404)
        assert client.get(f"/api/v1/dossiers/{editable['id']}", headers=bearer(citizen)).status_code == 200
        assert client.get(f"{url}?x=1", headers=bearer(citizen)).status_code == 200
        assert seen == ["flask"] * 7
        fresh_token = sign_in(client)  # a new session (two requests): not looked at by the full path yet
        before = len(seen)
        assert client.get(url, headers=bearer(fresh_token)).status_code == 200 and len(seen) == before + 1
        assert client.get(url, headers=bearer(fresh_token)).status_code == 200 and len(seen) == before + 1
        client.post("/api/v1/auth/logout", json={"refresh_token": fresh_token["refresh_token"]},
                    headers=bearer(fresh_token))
        clock.advance(seconds=61)  # past revocation_check_seconds: the full path looks at the session again
        assert client.get(url, headers=bearer(fresh_token)).status_code == 401 and seen[-1] == "flask"


def test_an_officials_queue_page_from_the_edge_as_flask_answers_it(app, client, session):
    citizen = sign_in(client)
    first, second = submitted(client, citizen), submitted(client, citizen)
    official = official_of(client, session)
    headers = {**bearer(official), "X-Request-ID": "edge-test-3"}
    url = "/api/v1/admin/dossiers?limit=1"
    with reaching_flask(app) as seen:
        by_flask = client.get(url, headers=headers)  # parses the query, renders and keeps the page's dossiers
        assert seen == ["flask"] and [d["id"] for d in by_flask.json["items"]] == [first["id"]]
        by_edge = client.get(url, headers=headers)
        assert seen == ["flask"], "the second read reached Flask"
        assert by_edge.get_data() == by_flask.get_data()
        assert sorted(by_edge.headers.items()) == sorted(by_flask.headers.items())
        after = client.get(f"/api/v1/admin/dossiers?limit=1&cursor={by_flask.json['next_cursor']}", headers=headers)
        assert [d["id"] for d in after.json["items"]] == [second["id"]] and len(seen) == 2  # a query not parsed yet
        for query in (f"limit=1&cursor={by_flask.json['next_cursor']}", "status=submitted", "overdue=false",
                      "due_before=2099-01-01T00:00:00Z", f"q={CITIZEN['cccd']}", "q=Nguy%E1%BB%85n"):
            before = len(seen)
            first_read = client.get(f"/api/v1/admin/dossiers?{query}", headers=headers)
            again = client.get(f"/api/v1/admin/dossiers?{query}", headers=headers)
            assert again.get_data() == first_read.get_data(), query
            assert first_read.json["items"] or query.startswith("due_before"), query  # not received: no due date
            assert len(seen) == before + (query.startswith("limit") is False), query  # each parsed once

        both = "/api/v1/admin/dossiers?limit=2"
        kept = client.get(both, headers=headers)
        assert act(client, official, first["id"], "receive").status_code == 200
        moved = len(seen)
        served = client.get(both, headers=headers)  # one of its dossiers moved: Flask renders the page again
        assert len(seen) == moved + 1 and served.get_data() != kept.get_data()
        assert client.get(both, headers=headers).get_data() == served.get_data() and len(seen) == moved + 1
        state_of(app).dossier_views.clear()
        assert client.get(both, headers=headers).get_data() == served.get_data()

        grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
        admin = sign_in(client, ADMIN)
        before = len(seen)
        assert client.get(url, headers=bearer(admin)).status_code == 200 and len(seen) == before + 1
        assert client.get(url, headers=bearer(admin)).status_code == 200 and len(seen) == before + 2
        elsewhere = official_of(client, session, agency="000.20.14.H15", person=OTHER)
        before = len(seen)
        assert client.get(url, headers=bearer(elsewhere)).json["items"] == [] and len(seen) == before + 1
        assert client.get(url, headers=bearer(citizen)).status_code == 403 and len(seen) == before + 2


def test_the_inbox_from_the_edge_as_flask_answers_it(app, client, session):
    citizen = sign_in(client)
    for _ in range(3):
        submitted(client, citizen)
    headers = {**bearer(citizen), "Accept-Language": "en", "X-Request-ID": "edge-test-4"}
    url = "/api/v1/me/notifications?limit=2"
    clock.advance(seconds=61)  # past revocation_check_seconds: Flask looks at the session again
    with reaching_flask(app) as seen:
        by_flask = client.get(url, headers=headers)  # parses the query string, renders and keeps each notice
        assert seen == ["flask"] and len(by_flask.json["items"]) == 2 and by_flask.json["next_cursor"]
        by_edge = client.get(url, headers=headers)
        assert seen == ["flask"], "the second read reached Flask"
        assert by_edge.get_data() == by_flask.get_data()
        assert sorted(by_edge.headers.items()) == sorted(by_flask.headers.items())
        assert by_edge.json["items"][0]["title"].startswith("Dossier")  # English, as asked
        newest = by_edge.json["items"][0]["id"]
        client.post(f"/api/v1/me/notifications/{newest}/read", headers=headers)
        read = client.get(url, headers=headers)
        assert len(seen) == 2 and read.json["items"][0]["read_at"] and read.json["items"][1] == by_edge.json["items"][1]
        state_of(app).notice_views.clear()
        assert client.get(url, headers=headers).get_data() == read.get_data() and len(seen) == 2
        unread = client.get("/api/v1/me/notifications?unread=true", headers=headers)
        assert len(seen) == 3 and newest not in {n["id"] for n in unread.json["items"]}
        assert client.get("/api/v1/me/notifications?unread=true", headers=headers).json == unread.json
        assert len(seen) == 3
        other = sign_in(client, OTHER)
        assert client.get(url, headers=bearer(other)).json["items"] == []  # their own inbox, empty
        next_page = f"{url}&cursor={read.json['next_cursor']}"  # a cursor: a time bound into the statement
        before = len(seen)
        by_flask, by_edge = client.get(next_page, headers=headers), client.get(next_page, headers=headers)
        assert len(seen) == before + 1 and by_edge.get_data() == by_flask.get_data()
        assert [n["id"] for n in by_edge.json["items"]] and newest not in {n["id"] for n in by_edge.json["items"]}


def test_a_glimpse_straight_from_the_driver_equals_sqlalchemys(app, client, session):
    """services.db.fetch_rows skips SQLAlchemy's result processing on PostgreSQL: the glimpse it makes must
    be the one the full path makes (same revision, so the same kept rendering), for every kind of dossier."""
    citizen = sign_in(client)
    ids = [draft(client, citizen)["id"], submitted(client, citizen)["id"], submitted(client, citizen, FEE)["id"]]
    official = official_of(client, session, FEE["agency"])
    act(client, official, ids[2], "receive")
    pay(client, citizen, ids[2])  # a pending payment: its expiry is a timestamp from a subquery
    connection = session.connection()
    for dossier_id in ids:
        direct, through = glimpse(connection, dossier_id), glimpse(session, dossier_id)
        assert direct == through and direct is not None and direct.revision() == through.revision()
        assert hash(direct.revision()) == hash(through.revision())
    assert glimpse(connection, "00000000-0000-0000-0000-000000000000") is None


def test_a_queue_page_kept_whole_holds_only_while_its_marks_and_the_clock_do(app, client, session):
    """The edge keeps a queue page it made from kept dossiers whole, and serves it again after one narrow
    read of its marks: never once a dossier on it moved, its papers or applicant changed, a dossier joined
    or left it, or a due date on it passed."""
    from sqlalchemy import update

    from services.models import User

    citizen = sign_in(client)
    first, second = submitted(client, citizen), submitted(client, citizen)
    official = official_of(client, session)
    headers = {**bearer(official), "Accept-Language": "en"}
    url = "/api/v1/admin/dossiers?limit=2"
    state = state_of(app)

    def served_whole(url: str = url) -> bytes:
        """Read until the edge serves the page kept whole (Flask first, then the edge's full read), proved by
        a read with no dossier kept; the answer is then a fresh one's."""
        with reaching_flask(app) as seen:
            client.get(url, headers=headers)
            client.get(url, headers=headers)
            state.dossier_views.clear()  # nothing left to make the page from: only the whole page can serve it
            before = len(seen)
            whole = client.get(url, headers=headers)
            assert len(seen) == before, "the page kept whole reached Flask"
        state.queue_pages.clear()
        fresh = client.get(url, headers=headers)
        assert whole.get_data() == fresh.get_data()
        return whole.get_data()

    kept = served_whole()
    assert [d["id"] for d in client.get(url, headers=headers).json["items"]] == [first["id"], second["id"]]

    def next_read_is_fresh(change: str, url: str = url) -> dict:
        """After a change, the next read is not the page kept whole: it is what a fresh read renders."""
        with reaching_flask(app) as seen:
            served = client.get(url, headers=headers)
        state.dossier_views.clear()
        state.queue_pages.clear()
        fresh = client.get(url, headers=headers)
        assert served.get_data() == fresh.get_data(), change
        assert seen == ["flask"] or served.get_data() != kept, change
        return served.json

    assert act(client, official, first["id"], "receive").status_code == 200  # a move: the version
    moved = next_read_is_fresh("a move")
    assert [d["status"] for d in moved["items"]] == ["submitted", "received"]  # its due date sorts it last

    kept = served_whole()
    session.execute(update(User).where(User.cccd == CITIZEN["cccd"]).values(full_name="Nguyễn Văn Ân"))
    renamed = next_read_is_fresh("the applicant's name")
    assert {d["applicant"]["full_name"] for d in renamed["items"]} == {"Nguyễn Văn Ân"}

    third = submitted(client, citizen)  # after the page's two: the page now has a next one
    assert next_read_is_fresh("a next page")["next_cursor"]
    kept = served_whole()
    fourth = submitted(client, citizen)  # after the page's two again, and it had a next page: no change
    with reaching_flask(app) as seen:
        assert client.get(url, headers=headers).get_data() == kept and seen == []
    assert act(client, official, second["id"], "receive").status_code == 200  # leaves it: the fourth joins
    joined = next_read_is_fresh("a dossier leaving the page")
    assert [d["id"] for d in joined["items"]] == [third["id"], fourth["id"]]

    received = "/api/v1/admin/dossiers?status=received&limit=2"
    kept = served_whole(received)
    page = client.get(received, headers=headers).json
    assert [d["due_at"] is not None and not d["overdue"] for d in page["items"]] == [True, True]
    clock.advance(days=400)  # past every due date on the page: the marks hold, the clock does not
    headers.update(bearer(official_of(client, session)))  # the token expired meanwhile: a new one, which
    assert client.get(UNREAD_ROUTE, headers=headers).status_code == 200  # Flask lets through for the edge
    late = next_read_is_fresh("the clock passing a due date", received)
    assert [d["overdue"] for d in late["items"]] == [True, True]
