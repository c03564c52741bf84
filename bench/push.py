"""Push benchmarks against the FCM emulator, on PostgreSQL.

1. Throughput of one worker (`notifications.worker.PushWorker.drain`) over an outbox of N messages,
   next to the bare ceiling of the same machine: firebase-admin's `send_each` of the same messages
   to the same emulator with no database at all. Target: at least 1,000 messages/s.
2. Latency from an official's action to the message at the emulator, with the inline worker
   (SMARTQN_PUSH_WORKER=inline under gunicorn): p50/p95 over many actions. Target: p95 under 1 s.

The emulator runs in its own process (`flask notifications emulator`), as FCM would be elsewhere.
Usage: `.venv/bin/python bench/push.py [--messages 5000] [--samples 40] [--workers 3] [--rounds 3]`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date
from pathlib import Path

from common import BIN, ROOT, free_port, gunicorn, post_json, scratch_database, sign_in

sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from notifications.fcm import FcmSender  # noqa: E402
from notifications.senders import Push  # noqa: E402
from notifications.worker import PushWorker  # noqa: E402
from services.clock import clock  # noqa: E402
from services.db import make_engine  # noqa: E402
from services.models import Attachment, Device, Dossier, Procedure, StoredFile, User  # noqa: E402
from services.notices.inbox import notify  # noqa: E402
from services.settings import Settings  # noqa: E402

CITIZEN = {"cccd": "049085001234", "full_name": "Nguyễn Văn An", "date_of_birth": "1985-03-12", "gender": "male",
           "eid_level": 2}
OFFICIAL = {"cccd": "048078002345", "full_name": "Phạm Quốc Dũng", "date_of_birth": "1978-05-05",
            "gender": "male", "eid_level": 2}
PROCEDURE, AGENCY = "1.004873", "000.20.24.H15"
DEVICES_EACH = 5


def get_json(url: str, token: str | None = None) -> tuple[dict, dict[str, str]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as response:
        return json.loads(response.read()), dict(response.headers)


def emulator_messages(fcm: str) -> list[dict]:
    return get_json(f"{fcm}/messages")[0]["messages"]


def clear(fcm: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{fcm}/messages", method="DELETE")).read()


_FILLS = iter(range(100))


def fill_outbox(engine, count: int) -> None:
    """`count` message jobs: count/5 people with 5 devices each, one notification per person."""
    people, fill = count // DEVICES_EACH, next(_FILLS)
    with Session(engine) as session, session.begin():
        ids = list(session.scalars(insert(User).returning(User.id), [
            {"cccd": f"00{fill:02d}{i:08d}", "full_name": f"Người {i}", "date_of_birth": date(1990, 1, 1),
             "gender": "male", "eid_level": 2, "eid_subject": f"bench-{fill}-{i}"} for i in range(people)]))
        session.execute(insert(Device), [{"user_id": u, "token": f"bench-{u}-{n}", "platform": "android",
                                          "locale": "vi"} for u in ids for n in range(DEVICES_EACH)])
        notify(session, ids, "staff.overdue", {"code": "H47-BENCH", "procedure": "Đo tải",
                                               "due_time": "17:00 01/12/2026"})


def _bare_pushes(count: int) -> list[Push]:
    return [Push(token=f"bare-{i}", title="Hồ sơ H47-BENCH đã quá hạn", body="Đo tải", data={"kind": "bench"},
                 collapse_key="bench", badge=1) for i in range(count)]


def bare_rate(fcm: str, credentials: str, count: int, *, firebase_admin_path: bool) -> float:
    """Messages/s with no database: firebase-admin's own `messaging.send_each` (a thread per message),
    or our sender's path (firebase-admin's encoding and credential, kept-alive connections)."""
    from firebase_admin import messaging

    from notifications.fcm import build_message

    pushes = _bare_pushes(count)
    sender = FcmSender(credentials, endpoint=fcm)
    sender.send_each(pushes[:10])  # the OAuth token and the connections, as a running worker has them
    started = time.perf_counter()
    for start in range(0, count, 500):
        chunk = pushes[start:start + 500]
        if firebase_admin_path:
            batch = messaging.send_each([build_message(p) for p in chunk], app=sender.app)
            assert batch.success_count == len(chunk)
        else:
            assert all(o.ok for o in sender.send_each(chunk))
    rate = count / (time.perf_counter() - started)
    sender.close()
    clear(fcm)
    return rate


def _drain(url: str, env: dict[str, str], fcm: str, credentials: str, ready: object, go: object) -> None:
    engine = make_engine(url)
    settings = Settings.from_env(env)
    worker = PushWorker(sessionmaker(engine, expire_on_commit=False), FcmSender(credentials, endpoint=fcm),
                        dataclasses.replace(settings, push_periodic_seconds=3600), now=clock.now)
    worker.sender.send_each([Push(token="warm", title="t", body="b", data={}, collapse_key=None, badge=None)])
    ready.set()  # type: ignore[attr-defined]
    go.wait()  # type: ignore[attr-defined]
    while worker.run_batch().sent:
        pass
    engine.dispose()


def workers_rate(url: str, env: dict[str, str], fcm: str, credentials: str, count: int, processes: int) -> float:
    """Messages/s of `processes` worker processes draining one outbox of `count` jobs (FOR UPDATE SKIP LOCKED)."""
    import multiprocessing

    engine = make_engine(url)
    fill_outbox(engine, count)
    engine.dispose()
    clear(fcm)
    context = multiprocessing.get_context("fork")
    go = context.Event()
    children = []
    for _ in range(processes):
        ready = context.Event()
        child = context.Process(target=_drain, args=(url, env, fcm, credentials, ready, go))
        child.start()
        ready.wait(60)
        children.append(child)
    clear(fcm)  # the warm-up messages
    started = time.perf_counter()
    go.set()
    for child in children:
        child.join(600)
    rate = count / (time.perf_counter() - started)
    delivered = len(emulator_messages(fcm))
    if delivered != count:
        sys.exit(f"the workers delivered {delivered} messages, expected {count}")
    clear(fcm)
    return rate


def prepared_dossiers(url: str, citizen_cccd: str, count: int) -> list[str]:
    engine = make_engine(url)
    sha = "0" * 64
    with Session(engine) as session, session.begin():
        applicant = session.scalar(select(User.id).where(User.cccd == citizen_cccd))
        procedure = session.scalar(select(Procedure).where(Procedure.code == PROCEDURE))
        session.add(StoredFile(sha256=sha, size=10, content_type="application/pdf"))
        session.flush()
        ids = list(session.scalars(insert(Dossier).returning(Dossier.id), [
            {"procedure_id": procedure.id, "agency_id": procedure.agency_id, "applicant_id": applicant,
             "status": "draft", "form": {"purpose": "Kết hôn"}, "fee_vnd": 0} for _ in range(count)]))
        session.execute(insert(Attachment), [{"dossier_id": i, "document_type": "to_khai_tthn", "filename": "a.pdf",
                                              "sha256": sha, "uploaded_by": applicant} for i in ids])
    engine.dispose()
    return ids


def latency(url: str, env: dict[str, str], fcm: str, samples: int) -> list[float]:
    port = free_port()
    env = {**env, "SMARTQN_BASE_URL": f"http://127.0.0.1:{port}", "SMARTQN_PUSH_WORKER": "inline"}
    with gunicorn("wsgi:app", env, ROOT, port) as base:
        citizen, official = sign_in(base, CITIZEN), sign_in(base, OFFICIAL)
        post_json(f"{base}/api/v1/me/devices", {"token": "latency-phone", "platform": "android"}, citizen)
        ids = prepared_dossiers(url, CITIZEN["cccd"], samples)
        for dossier_id in ids:
            post_json(f"{base}/api/v1/dossiers/{dossier_id}/submit", {}, citizen)
        time.sleep(1)
        seen = len(emulator_messages(fcm))
        timings = []
        for dossier_id in ids:
            _, headers = get_json(f"{base}/api/v1/admin/dossiers/{dossier_id}", official)
            request = urllib.request.Request(
                f"{base}/api/v1/admin/dossiers/{dossier_id}/actions", data=b'{"action": "receive"}', method="POST",
                headers={"Authorization": f"Bearer {official}", "If-Match": headers["ETag"],
                         "Content-Type": "application/json"})
            acted = time.time()
            urllib.request.urlopen(request).read()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                arrived = [m for m in emulator_messages(fcm)[seen:]
                           if m["body"]["message"]["data"].get("dossier_id") == dossier_id
                           and m["body"]["message"]["data"]["kind"] == "dossier.received"]
                if arrived:
                    timings.append((arrived[0]["received_at"] - acted) * 1000)
                    break
                time.sleep(0.005)
            else:
                sys.exit(f"no push for {dossier_id} within 10 s")
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--workers", type=int, default=3, help="worker processes draining one outbox")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--short", action="store_true", help="CI smoke: 100 messages, 2 workers, 1 round, no targets")
    args = parser.parse_args()
    if args.short:
        args.messages, args.samples, args.rounds, args.workers = 100, 3, 1, 2
    with scratch_database() as url, tempfile.TemporaryDirectory() as tmp:
        fcm_port = free_port()
        fcm = f"http://127.0.0.1:{fcm_port}"
        credentials = str(Path(tmp) / "fcm.json")
        env = {**os.environ, "SMARTQN_INSTANCE_DIR": tmp, "SMARTQN_DATABASE_URL": url,
               "SMARTQN_RATELIMIT_ENABLED": "false", "SMARTQN_ACCESS_TOKEN_TTL": "3600", "SMARTQN_LOG_LEVEL": "WARNING",
               "SMARTQN_PUSH_SENDER": "fcm", "SMARTQN_FCM_CREDENTIALS": credentials, "SMARTQN_FCM_ENDPOINT": fcm}
        flask = [str(BIN / "flask"), "--app", "wsgi"]
        for command in (["db", "upgrade"], ["seed"], ["staff", "grant", OFFICIAL["cccd"], "--role", "official",
                                                      "--agency", AGENCY]):
            subprocess.run([*flask, *command], cwd=ROOT, env=env, check=True, capture_output=True)
        emulator = subprocess.Popen([*flask, "notifications", "emulator", "--port", str(fcm_port), "--credentials",
                                     credentials], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    emulator_messages(fcm)
                    break
                except OSError:
                    time.sleep(0.1)
            figures: dict[str, list[float]] = {}
            for _round in range(args.rounds):  # interleaved, so a change in the machine's load hits every figure
                for name, measure in (
                        ("firebase-admin send_each, no database", lambda: bare_rate(
                            fcm, credentials, args.messages, firebase_admin_path=True)),
                        ("our sender, no database", lambda: bare_rate(
                            fcm, credentials, args.messages, firebase_admin_path=False)),
                        ("1 worker process (outbox → FCM → marks)", lambda: workers_rate(
                            url, env, fcm, credentials, args.messages, 1)),
                        (f"{args.workers} worker processes", lambda: workers_rate(
                            url, env, fcm, credentials, args.messages, args.workers))):
                    figures.setdefault(name, []).append(measure())
            clear(fcm)
            timings = latency(url, env, fcm, args.samples) if args.samples else [0.0]
        finally:
            emulator.terminate()
            emulator.wait(timeout=10)
    p50 = statistics.median(timings)
    p95 = statistics.quantiles(timings, n=20)[-1] if len(timings) > 1 else timings[0]
    reference = statistics.median(figures["firebase-admin send_each, no database"])
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {args.messages} messages, "
          f"{args.rounds} interleaved rounds")
    print(f"{'push throughput (msg/s)':<42}{'min':>7}{'median':>8}{'max':>7}{'ratio':>7}")
    for name, values in figures.items():
        print(f"{name:<42}{min(values):>7.0f}{statistics.median(values):>8.0f}{max(values):>7.0f}"
              f"{statistics.median(values) / reference:>7.0%}")
    ours = statistics.median(figures[f"{args.workers} worker processes"])
    print(f"target ≥1000/s from the box's workers: {'ok' if ours >= 1000 else 'MISS'}")
    if args.samples:
        print(f"\naction → message at the emulator, inline worker, {len(timings)} actions: "
              f"p50 {p50:.0f} ms, p95 {p95:.0f} ms (target p95 < 1000 ms: {'ok' if p95 < 1000 else 'MISS'})")
    return 0 if args.short or (ours >= 1000 and p95 < 1000) else 1


if __name__ == "__main__":
    sys.exit(main())
