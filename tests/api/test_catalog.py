"""The public catalog over HTTP: pagination, search, ETags, bad input."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import select

from services.db import transaction
from services.models import Procedure
from services.province import catalog_file
from services.province.catalog import bump_revision


def walk(client, url: str, limit: int) -> list[dict]:
    items, cursor = [], None
    while True:
        sep = "&" if "?" in url else "?"
        response = client.get(f"{url}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.json
        body = response.json
        assert len(body["items"]) <= limit
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


@pytest.mark.parametrize("limit", [1, 4, 100])
def test_keyset_pagination_walks_every_procedure_once_in_code_order(client, limit):
    codes = [p["code"] for p in walk(client, "/api/v1/procedures", limit)]
    assert codes == sorted(p["code"] for p in catalog_file.read()["procedures"])


def test_procedure_summary_has_the_contract_fields(client):
    item = client.get("/api/v1/procedures?limit=1").json["items"][0]
    assert set(item) == {"code", "name", "field", "agency_code", "processing_days", "fee_vnd",
                         "online_level", "min_eid_level"}


@pytest.mark.parametrize("q", ["thuong tru", "THƯỜNG TRÚ", "Đăng ký thường trú", "  dang   ky thuong  tru "])
def test_search_matches_names_with_or_without_diacritics(client, q):
    names = [p["name"] for p in client.get("/api/v1/procedures", query_string={"q": q}).json["items"]]
    assert "Đăng ký thường trú" in names
    assert all("thường trú" in n for n in names)


def test_search_treats_like_wildcards_literally(client):
    assert client.get("/api/v1/procedures", query_string={"q": "%"}).json["items"] == []
    assert client.get("/api/v1/procedures", query_string={"q": "_"}).json["items"] == []


def test_filters_by_agency_and_field(client):
    police = walk(client, "/api/v1/procedures?agency_code=000.00.23.H15", 2)
    assert {p["agency_code"] for p in police} == {"000.00.23.H15"} and len(police) >= 3
    civil = client.get("/api/v1/procedures", query_string={"field": "Hộ tịch"}).json["items"]
    assert {p["field"] for p in civil} == {"Hộ tịch"} and len(civil) >= 4
    assert client.get("/api/v1/procedures?agency_code=none").json == {"items": [], "next_cursor": None}


def test_procedure_detail(client):
    body = client.get("/api/v1/procedures/1.001193").json
    assert body["name"] == "Đăng ký khai sinh"
    assert body["min_eid_level"] == 2
    assert {"type": "giay_chung_sinh", "name": "Giấy chứng sinh", "mandatory": True} in body["required_documents"]
    assert body["form_schema"]["type"] == "object" and "child" in body["form_schema"]["properties"]
    assert body["description"]


def test_unknown_procedure_is_a_problem_404(client):
    response = client.get("/api/v1/procedures/9.999999")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert response.json["code"] == "not_found"


def test_groups_list_steps_in_order(client):
    groups = {g["code"]: g for g in client.get("/api/v1/procedure-groups").json["items"]}
    assert groups["LT-KS-TT-BHYT"]["procedure_codes"] == ["1.001193", "1.004194", "1.002800"]
    assert groups["LT-KT-XTT-MT"]["procedure_codes"] == ["1.000656", "1.004206", "9.000101"]


def test_agencies_have_levels_and_parents(client):
    items = client.get("/api/v1/agencies").json["items"]
    by_code = {a["code"]: a for a in items}
    assert by_code["000.00.00.H15"] == {"code": "000.00.00.H15", "name": "Ủy ban nhân dân thành phố Đà Nẵng",
                                        "level": "province", "parent_code": None, "is_centre": False,
                                        "ward_codes": []}
    assert by_code["000.20.17.H15"]["parent_code"] == "000.00.00.H15"
    assert sum(a["level"] == "commune" for a in items) >= 6


def forge(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize("query", [
    "limit=0", "limit=1000", "limit=-1", "limit=abc", "cursor=%21%21not-base64", "cursor=" + forge({"a": 1}),
    "cursor=" + forge([1]), "cursor=" + forge(["a", "b"]), "cursor=" + forge([]), "cursor=" + forge([True]),
])
def test_bad_list_arguments_are_422(client, query):
    response = client.get(f"/api/v1/procedures?{query}")
    assert response.status_code == 422, response.json
    assert response.json["code"] == "validation_failed"
    assert set(response.json["errors"]) <= {"limit", "cursor"} and response.json["errors"]


@pytest.mark.parametrize("url", ["/api/v1/procedures?limit=5", "/api/v1/procedures/1.001193",
                                 "/api/v1/agencies", "/api/v1/procedure-groups"])
def test_etag_revalidates_with_304_until_the_catalog_changes(client, session, url):
    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag

    with transaction(session):
        bump_revision(session)
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.json == first.json


def test_etags_differ_between_queries(client):
    a = client.get("/api/v1/procedures?limit=5").headers["ETag"]
    b = client.get("/api/v1/procedures?limit=6").headers["ETag"]
    assert a != b


def test_accept_language_en_names_procedures_in_english_where_the_catalog_has_it(client, session):
    en = {"Accept-Language": "en"}
    assert client.get("/api/v1/procedures/1.001193", headers=en).json["name"] == "Birth registration"
    assert client.get("/api/v1/procedures/1.001193").json["name"] == "Đăng ký khai sinh"
    assert client.get("/api/v1/procedures/1.001193", headers={"Accept-Language": "vi"}).json["name"] == (
        "Đăng ký khai sinh")
    listed = walk_with(client, "/api/v1/procedures", en)
    by_code = {p["code"]: p["name"] for p in listed}
    assert by_code["1.000894"] == "Marriage registration"
    english = {p["code"]: p["name_en"] for p in catalog_file.read()["procedures"]}
    assert by_code == english  # every procedure of the catalog has its English name

    # Without an English name, `name` stays Vietnamese in English too.
    with transaction(session):
        procedure = session.scalar(select(Procedure).where(Procedure.code == "1.001193"))
        procedure.name_en = None
        bump_revision(session)
    assert client.get("/api/v1/procedures/1.001193", headers=en).json["name"] == "Đăng ký khai sinh"


def walk_with(client, url: str, headers: dict[str, str]) -> list[dict]:
    items, cursor = [], None
    while True:
        body = client.get(url, query_string={"limit": 100, **({"cursor": cursor} if cursor else {})},
                          headers=headers).json
        items += body["items"]
        if (cursor := body["next_cursor"]) is None:
            return items


@pytest.mark.parametrize("url", ["/api/v1/procedures?limit=5", "/api/v1/procedures/1.001193"])
def test_each_language_has_its_own_etag_and_cached_body(client, url):
    vi = client.get(url)
    en = client.get(url, headers={"Accept-Language": "en"})
    assert vi.headers["ETag"] != en.headers["ETag"] and vi.json != en.json
    assert "Accept-Language" in vi.headers["Vary"] and "Accept-Language" in en.headers["Vary"]
    # The second read comes from the cache, and each language gets its own body back.
    assert client.get(url).json == vi.json
    assert client.get(url, headers={"Accept-Language": "en"}).json == en.json
    assert client.get(url, headers={"Accept-Language": "en", "If-None-Match": en.headers["ETag"]}).status_code == 304
    assert client.get(url, headers={"If-None-Match": en.headers["ETag"]}).status_code == 200
