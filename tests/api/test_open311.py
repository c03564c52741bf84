"""Open311 GeoReport v2, checked against the specification's field lists with a small client written
from the specification (https://wiki.open311.org/GeoReport_v2), not from our code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from services.people.identity import grant_staff
from tests.helpers import ADMIN, OFFICIAL, bearer, sign_in
from tests.report_helpers import HAI_CHAU, HANOI, act, filed, photo

# The specification's lists, verbatim.
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
DEFINITION_FIELDS = {"service_code", "attributes"}
REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"}
POST_RESPONSE_FIELDS = {"service_request_id", "service_notice", "account_id"}
ERROR_FIELDS = {"code", "description"}


@dataclass
class GeoReportClient:
    """What an Open311 client does: GET {endpoint}/{resource}.json with query parameters, POST
    form-encoded, read a JSON array (or an error array) back."""

    http: Any
    endpoint: str = "/open311/v2"
    jurisdiction_id: str | None = None

    def _params(self, **params: Any) -> dict[str, Any]:
        if self.jurisdiction_id:
            params["jurisdiction_id"] = self.jurisdiction_id
        return {k: v for k, v in params.items() if v is not None}

    def get(self, resource: str, **params: Any) -> tuple[int, Any]:
        response = self.http.get(f"{self.endpoint}/{resource}.json", query_string=self._params(**params))
        assert response.mimetype == "application/json"
        return response.status_code, response.json

    def services(self) -> list[dict[str, Any]]:
        status, body = self.get("services")
        assert status == 200
        return body

    def service_definition(self, code: str) -> tuple[int, Any]:
        return self.get(f"services/{code}")

    def post_request(self, **fields: Any) -> tuple[int, Any]:
        response = self.http.post(f"{self.endpoint}/requests.json", data=urlencode(self._params(**fields)),
                                  content_type="application/x-www-form-urlencoded")
        assert response.mimetype == "application/json"
        return response.status_code, response.json

    def requests(self, **params: Any) -> tuple[int, Any]:
        return self.get("requests", **params)

    def request(self, service_request_id: str) -> tuple[int, Any]:
        return self.get(f"requests/{service_request_id}")


def api_key(client, session) -> str:
    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    issued = client.post("/api/v1/admin/open311-keys", headers=bearer(sign_in(client, ADMIN)),
                         json={"name": "Đối tác 1022"})
    assert issued.status_code == 201 and issued.json["api_key"]
    return issued.json["api_key"]


def test_services_and_definitions_have_the_specifications_fields(client):
    open311 = GeoReportClient(client)
    services = open311.services()
    assert services and all(set(s) == SERVICE_FIELDS for s in services)
    assert {"road_damage", "street_light"} <= {s["service_code"] for s in services}
    assert all(s["type"] in ("realtime", "batch", "blackbox") and s["metadata"] is False for s in services)
    status, definition = open311.service_definition("street_light")
    assert status == 200 and set(definition) == DEFINITION_FIELDS and definition["attributes"] == []
    status, errors = open311.service_definition("nope")
    assert status == 404 and all(set(e) == ERROR_FIELDS for e in errors) and errors[0]["code"] == 404


def test_a_client_files_and_follows_a_request(client, session):
    key = api_key(client, session)
    open311 = GeoReportClient(client, jurisdiction_id="danang.gov.vn")
    status, created = open311.post_request(api_key=key, service_code="street_light", lat=HAI_CHAU[0],
                                           long=HAI_CHAU[1], address_string="12 Trần Phú",
                                           description="Đèn đường tắt cả tuần", email="a@example.com",
                                           first_name="An", last_name="Nguyễn", phone="0905123456")
    assert status == 200 and len(created) == 1 and set(created[0]) == POST_RESPONSE_FIELDS
    request_id = created[0]["service_request_id"]
    status, found = open311.request(request_id)
    assert status == 200 and len(found) == 1 and set(found[0]) == REQUEST_FIELDS
    one = found[0]
    assert one["status"] == "open" and one["service_code"] == "street_light" and one["long"] == HAI_CHAU[1]
    assert one["requested_datetime"].endswith("+07:00") and one["expected_datetime"]
    text = str(found)
    assert "0905123456" not in text and "Nguyễn" not in text and "a@example.com" not in text
    status, listed = open311.requests(service_code="street_light", status="open")
    assert status == 200 and request_id in {r["service_request_id"] for r in listed}
    assert all(set(r) == REQUEST_FIELDS for r in listed)
    status, by_ids = open311.requests(service_request_id=f"{request_id},PA-000000-00000")
    assert [r["service_request_id"] for r in by_ids] == [request_id]
    # The agency closes it in the app; the Open311 client sees it closed, with the notes.
    grant_staff(session, OFFICIAL["cccd"], role="official", agency_code="000.00.15.H15")  # street lights
    staff = sign_in(client, OFFICIAL)
    report_id = client.get("/api/v1/admin/reports", headers=bearer(staff)).json["items"][0]["id"]
    act(client, staff, report_id, "accept")
    act(client, staff, report_id, "resolve", note="Đã thay bóng")
    closed = open311.request(request_id)[1][0]
    assert closed["status"] == "closed" and closed["status_notes"] == "Đã thay bóng"
    assert request_id in {r["service_request_id"] for r in open311.requests(status="closed")[1]}


def test_media_url_points_at_the_public_photo(client):
    report = filed(client, sign_in(client), category="road_damage", photos=[photo()])
    status, found = GeoReportClient(client).request(report["code"])
    assert status == 200 and found[0]["media_url"].endswith(report["photos"][0]["url"])
    assert client.get(report["photos"][0]["url"]).status_code == 200


def test_post_without_a_valid_api_key_is_403_in_the_specifications_format(client, session):
    open311 = GeoReportClient(client)
    fields = {"service_code": "street_light", "lat": HAI_CHAU[0], "long": HAI_CHAU[1],
              "description": "Đèn hỏng lâu rồi"}
    for key in (None, "", "o311_wrong"):
        status, errors = open311.post_request(api_key=key, **fields)
        assert status == 403 and isinstance(errors, list) and set(errors[0]) == ERROR_FIELDS
        assert errors[0]["code"] == 403
    key = api_key(client, session)
    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    admin = sign_in(client, ADMIN)
    keys_id = client.post("/api/v1/admin/open311-keys", headers=bearer(admin), json={"name": "x"}).json
    assert client.delete(f"/api/v1/admin/open311-keys/{keys_id['id']}", headers=bearer(admin)).status_code == 204
    assert open311.post_request(api_key=keys_id["api_key"], **fields)[0] == 403
    status, errors = open311.post_request(api_key=key, **{**fields, "lat": HANOI[0], "long": HANOI[1]})
    assert status == 400 and errors[0]["code"] == 400
    assert open311.post_request(api_key=key, **{**fields, "service_code": "nope"})[0] == 404
    assert open311.post_request(api_key=key, **{**fields, "lat": "abc"})[0] == 400
    assert open311.post_request(api_key=key, **{**fields, "service_code": "road_damage"})[0] == 400  # a photo
    ok = open311.post_request(api_key=key, **{**fields, "service_code": "road_damage",
                                               "media_url": "https://partner.example/p.jpg"})
    assert ok[0] == 200


def test_jurisdiction_id_is_accepted_and_another_is_404(client):
    assert GeoReportClient(client, jurisdiction_id="danang.gov.vn").requests()[0] == 200
    status, errors = GeoReportClient(client, jurisdiction_id="elsewhere.example").requests()
    assert status == 404 and errors[0]["code"] == 404
    assert GeoReportClient(client).requests(status="pending")[0] == 400
    assert GeoReportClient(client).requests(start_date="yesterday")[0] == 400
    assert GeoReportClient(client).request("PA-000000-00000")[0] == 404
