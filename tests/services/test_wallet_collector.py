"""The collector of stored bytes: a file goes when no row refers to it any more (and it is older than the
grace period), never while a dossier or a wallet keeps it; on the local disk and in S3 alike."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from api.context import state_of
from services.clock import clock
from services.models import StoredFile
from services.wallet import collector
from tests.dossier_helpers import draft, upload
from tests.helpers import bearer, sign_in
from tests.wallet_helpers import from_wallet, keep, paper


def on_disk(settings, sha256: str) -> bool:
    return any(Path(settings.storage_dir).rglob(sha256))


def test_every_reference_to_stored_bytes_is_known():
    names = {f"{c.table.name}.{c.name}" for c in collector.reference_columns()}
    assert {"attachments.sha256", "wallet_items.sha256"} <= names


def test_bytes_stay_while_referenced_and_go_when_nothing_refers_to_them(app, client, session, settings):
    storage = state_of(app).runtime.storage
    citizen = sign_in(client)
    kept, dropped = keep(client, citizen).json, keep(client, citizen).json
    dossier = draft(client, citizen, papers=False)
    from_wallet(client, citizen, dossier["id"], kept["id"], "to_khai_tthn")
    assert client.post(f"/api/v1/dossiers/{dossier['id']}/submit", headers=bearer(citizen)).status_code == 200
    for item in (kept, dropped):
        assert client.delete(f"/api/v1/me/wallet/{item['id']}", headers=bearer(citizen)).status_code == 204

    # (Counts are at least this test's own: files another test committed and left may go too.)
    collector.collect(session, storage)  # within the grace period: nothing of ours goes
    assert session.get(StoredFile, dropped["sha256"]) is not None and on_disk(settings, dropped["sha256"])
    clock.freeze(clock.now() + timedelta(hours=2))
    freed = collector.collect(session, storage)
    assert freed.files >= 1 and freed.bytes >= dropped["size"]
    assert session.get(StoredFile, dropped["sha256"]) is None and not on_disk(settings, dropped["sha256"])
    # The submitted dossier still holds the other one.
    assert session.get(StoredFile, kept["sha256"]) is not None and on_disk(settings, kept["sha256"])
    assert collector.collect(session, storage) == collector.Collected(0, 0)


def test_an_uploaded_paper_and_a_wallet_item_of_the_same_bytes_each_keep_them(app, client, session, settings):
    storage = state_of(app).runtime.storage
    citizen = sign_in(client)
    data = paper()
    item = keep(client, citizen, data=data).json
    dossier = draft(client, citizen, papers=False)
    upload(client, citizen, dossier["id"], "to_khai_tthn", data)
    client.delete(f"/api/v1/me/wallet/{item['id']}", headers=bearer(citizen))
    clock.freeze(clock.now() + timedelta(hours=2))
    collector.collect(session, storage)
    assert on_disk(settings, item["sha256"])
    client.delete(f"/api/v1/dossiers/{dossier['id']}", headers=bearer(sign_in(client)))  # the draft, papers too
    collector.collect(session, storage)
    assert not on_disk(settings, item["sha256"])
    assert session.scalar(select(StoredFile).where(StoredFile.sha256 == item["sha256"])) is None


def test_the_cli_collects_and_reports(app, client, session, settings):
    citizen = sign_in(client)
    item = keep(client, citizen).json
    client.delete(f"/api/v1/me/wallet/{item['id']}", headers=bearer(citizen))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["storage", "collect", "--grace-minutes", "0"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("collected: ")
    assert not on_disk(settings, item["sha256"])
    usage = runner.invoke(args=["storage", "usage"])
    assert usage.exit_code == 0 and usage.output.startswith("stored: ")


def test_with_the_s3_backend_the_object_is_collected(make_app, s3, session):
    bucket = s3.new_bucket()
    app = make_app(storage_backend="s3", s3_bucket=bucket, s3_endpoint_url=s3.endpoint_url, s3_region=s3.region,
                   s3_prefix="papers")
    client = app.test_client()
    citizen = sign_in(client)
    kept, dropped = keep(client, citizen).json, keep(client, citizen).json
    assert s3.keys(bucket) == sorted(f"papers/{i['sha256']}" for i in (kept, dropped))
    client.delete(f"/api/v1/me/wallet/{dropped['id']}", headers=bearer(citizen))
    freed = collector.collect(session, state_of(app).runtime.storage, grace=timedelta(0))
    assert freed.files >= 1 and s3.keys(bucket) == [f"papers/{kept['sha256']}"]


def dropped_paper(client, citizen) -> dict:
    """A paper kept and deleted again: stored bytes nothing refers to."""
    item = keep(client, citizen).json
    assert client.delete(f"/api/v1/me/wallet/{item['id']}", headers=bearer(citizen)).status_code == 204
    return item


def test_the_worker_collects_once_a_night_within_its_window(app, client, session, settings):
    from dataclasses import replace
    from datetime import datetime, time

    from api.push import make_worker
    from services.calendar import TZ

    nightly = replace(settings, storage_collect_every_hours=24.0, storage_collect_window="02:00-05:00",
                      storage_collect_grace_minutes=60)
    worker = make_worker(replace(state_of(app).runtime, settings=nightly))
    citizen = sign_in(client)
    first = dropped_paper(client, citizen)
    day = (clock.now().astimezone(TZ) + timedelta(days=2)).date()

    def at(hour: int, minute: int = 0, days: int = 0) -> None:
        clock.freeze(datetime.combine(day + timedelta(days=days), time(hour, minute), TZ))

    def kept(item: dict) -> bool:
        session.expire_all()
        return session.get(StoredFile, item["sha256"]) is not None and on_disk(settings, item["sha256"])

    at(1, 30)
    worker.drain()  # before the window: nothing
    assert kept(first)
    at(2, 30)
    worker.drain()
    assert not kept(first)
    second = dropped_paper(client, sign_in(client))  # (a new sign-in: the clock moved on)
    at(4)  # past the grace, still in the window, but this worker collected tonight already
    worker.drain()
    assert kept(second)
    at(2, 30, days=1)  # the next night
    worker.drain()
    assert not kept(second)


def test_the_collector_chore_can_be_turned_off(app, settings):
    from dataclasses import replace

    from api.push import periodic_tasks

    runtime = state_of(app).runtime

    def chores(hours: float) -> list:
        changed = replace(runtime, settings=replace(settings, storage_collect_every_hours=hours))
        return [t for t in periodic_tasks(changed) if isinstance(t, collector.Chore)]

    assert len(chores(24.0)) == 1 and chores(0) == []


def test_the_window_may_cross_midnight():
    from datetime import time

    from services.calendar import in_window, parse_window

    window = parse_window("23:00-04:00")
    assert [in_window(window, time(h)) for h in (22, 23, 0, 3, 4, 12)] == [False, True, True, True, False, False]
    assert parse_window("") is None and in_window(None, time(12))
