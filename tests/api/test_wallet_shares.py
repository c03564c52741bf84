"""Sharing a wallet paper: a single-use link valid 5 minutes, listed to its owner, revoked by deleting."""

from __future__ import annotations

import secrets
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.context import state_of
from services.clock import clock
from services.errors import NotFound
from services.models import StoredFile, User, WalletItem, WalletShare
from services.wallet import shares
from tests.helpers import OTHER, bearer, sign_in
from tests.wallet_helpers import keep, paper


@pytest.fixture
def citizen(client):
    return sign_in(client)


def share(client, tokens, item_id):
    response = client.post(f"/api/v1/me/wallet/{item_id}/shares", headers=bearer(tokens))
    assert response.status_code == 201, response.json
    return response.json


def path_of(url: str) -> str:
    return url[url.index("/api/v1/shared/"):]


def test_a_link_gives_the_file_once_then_404(client, citizen):
    data = paper()
    item = keep(client, citizen, data=data).json
    clock.freeze(clock.now())
    link = share(client, citizen, item["id"])
    assert link["url"].startswith("http") and link["expires_at"] == (clock.now() + timedelta(minutes=5)).isoformat()
    first = client.get(path_of(link["url"]), environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert first.status_code == 200 and first.data == data and first.mimetype == "application/pdf"
    assert first.headers["Cache-Control"] == "no-store"
    second = client.get(path_of(link["url"]))
    assert second.status_code == 404 and second.json["code"] == "not_found"
    listed = client.get(f"/api/v1/me/wallet/{item['id']}/shares", headers=bearer(citizen)).json["items"]
    assert [(s["id"], s["used_at"], s["used_from"]) for s in listed] == [
        (link["id"], clock.now().isoformat(), "203.0.113.7")]


def test_a_link_expires_after_five_minutes(client, citizen):
    item = keep(client, citizen).json
    clock.freeze(clock.now())
    link = share(client, citizen, item["id"])
    clock.freeze(clock.now() + timedelta(minutes=5))
    assert client.get(path_of(link["url"])).status_code == 404
    listed = client.get(f"/api/v1/me/wallet/{item['id']}/shares", headers=bearer(citizen)).json["items"]
    assert listed[0]["used_at"] is None and listed[0]["used_from"] is None


def test_a_link_works_until_its_last_second(client, citizen):
    item = keep(client, citizen).json
    clock.freeze(clock.now())
    link = share(client, citizen, item["id"])
    clock.freeze(clock.now() + timedelta(minutes=5) - timedelta(seconds=1))
    assert client.get(path_of(link["url"])).status_code == 200


def test_revoking_is_deleting(client, citizen):
    item = keep(client, citizen).json
    link, kept = share(client, citizen, item["id"]), share(client, citizen, item["id"])
    url = f"/api/v1/me/wallet/{item['id']}/shares/{link['id']}"
    assert client.delete(url, headers=bearer(citizen)).status_code == 204
    assert client.delete(url, headers=bearer(citizen)).status_code == 404
    assert client.get(path_of(link["url"])).status_code == 404
    listed = client.get(f"/api/v1/me/wallet/{item['id']}/shares", headers=bearer(citizen)).json["items"]
    assert [s["id"] for s in listed] == [kept["id"]]
    assert client.get(path_of(kept["url"])).status_code == 200


def test_someone_elses_shares_are_404(client, citizen):
    item = keep(client, citizen).json
    link = share(client, citizen, item["id"])
    other = sign_in(client, OTHER)
    mine = keep(client, other).json
    assert client.get(f"/api/v1/me/wallet/{item['id']}/shares", headers=bearer(other)).status_code == 404
    # Their own item's path with my share's id: not theirs either.
    assert client.delete(f"/api/v1/me/wallet/{mine['id']}/shares/{link['id']}", headers=bearer(other)).status_code \
        == 404
    assert client.delete(f"/api/v1/me/wallet/{item['id']}/shares/{link['id']}", headers=bearer(other)).status_code \
        == 404


def test_a_deleted_paper_takes_its_links_along(client, citizen):
    item = keep(client, citizen).json
    link = share(client, citizen, item["id"])
    assert client.delete(f"/api/v1/me/wallet/{item['id']}", headers=bearer(citizen)).status_code == 204
    assert client.get(path_of(link["url"])).status_code == 404


def test_only_the_tokens_hash_is_stored_and_forged_tokens_are_404(client, citizen, session):
    item = keep(client, citizen).json
    link = share(client, citizen, item["id"])
    token = link["url"].rsplit("/", 1)[1]
    assert len(token) >= 43
    stored = session.scalars(select(WalletShare.token_hash)).all()
    assert token not in stored and len(stored) == 1 and len(stored[0]) == 64
    for forged in ("x", token[:-1] + ("A" if token[-1] != "A" else "B"), "a" * 200, stored[0]):
        assert client.get(f"/api/v1/shared/{forged}").status_code == 404
    assert client.get(path_of(link["url"])).status_code == 200


@pytest.fixture
def committed_share(app):
    """A committed wallet item with one share whose token is known; removed afterwards."""
    engine = state_of(app).runtime.engine
    token, sha = secrets.token_urlsafe(32), "d" * 64
    with Session(engine) as session, session.begin():
        owner = User(cccd="001090054322", full_name="Người chia sẻ", date_of_birth=date(1990, 1, 1), gender="female",
                     eid_level=2, eid_subject="share-race")
        session.add(owner)
        if session.get(StoredFile, sha) is None:
            session.add(StoredFile(sha256=sha, size=1, content_type="application/pdf", created_at=clock.now()))
        session.flush()
        item = WalletItem(owner_id=owner.id, document_type="to_khai_tthn", title="Thử", source="upload", sha256=sha,
                          filename="t.pdf", created_at=clock.now())
        session.add(item)
        session.flush()
        session.add(WalletShare(item_id=item.id, token_hash=shares.token_hash(token), created_at=clock.now(),
                                expires_at=clock.now() + timedelta(minutes=5)))
        ids = (item.id, owner.id)
    yield engine, token, ids[0]
    with Session(engine) as session, session.begin():
        session.execute(delete(WalletItem).where(WalletItem.id == ids[0]))  # its share goes with it
        session.execute(delete(User).where(User.id == ids[1]))
        session.execute(delete(StoredFile).where(StoredFile.sha256 == sha))


def test_downloads_racing_with_one_link_get_one_file(committed_share):
    """Four requests at once, each with its own connection: the conditional UPDATE lets one through."""
    engine, token, item_id = committed_share
    barrier, got, errors = threading.Barrier(4), [], []

    def redeem(n: int) -> None:
        barrier.wait()
        try:
            with Session(engine) as session:
                got.append(shares.redeem(session, token, origin=f"198.51.100.{n}").id)
        except NotFound:
            got.append(None)
        except Exception as exc:  # noqa: BLE001 (collected and asserted)
            errors.append(exc)

    threads = [threading.Thread(target=redeem, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and sorted(got, key=lambda x: x is None) == [item_id, None, None, None]
    with Session(engine) as session:
        used = session.scalars(select(WalletShare.used_from).where(WalletShare.item_id == item_id)).all()
    assert len(used) == 1 and used[0].startswith("198.51.100.")
