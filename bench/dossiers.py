"""Dossier benchmarks on PostgreSQL with a province's data: the officials' queue at 10 thousand and at
1 million dossiers, the province-wide statistics over a year, and draft creation, detail read and submit
throughput as ratios to the bare app.

Two databases are kept between runs, smartqn_bench_10k and smartqn_bench_1m: migrated, seeded with the
Đà Nẵng catalog and filled by COPY (bench/province_fill.py) with dossiers of the commune-level procedures
spread over every commune of the seed, one applicant per ten dossiers, received over the last year, ~5 %
received at another commune's desk and transferred. A database that already holds the right number is reused.
The queue and the statistics are timed in process (Flask test client); throughput with gunicorn and
wrk as bench/load.py does. Submits run twice: all at the official's commune (`submit`, the target: every
one waits for the one before it to commit, on the commune's gap-free code counter and its officials'
unread counts) and spread over every commune, each with one signed-up official (`submit_spread`, as a
province's submits are). Each has a physical reference (`submit_floor`, `submit_spread_floor`): the bare app
replays the statements a real submit sent, for drafts like the run's, through psycopg (bench/submit_floor.py).
Usage: `.venv/bin/python bench/dossiers.py [--seconds 10] [--samples 1000] [--rounds 3]`; `--drop` drops the
databases.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from common import (
    BIN,
    ROOT,
    app_bearer,
    drop_database,
    free_port,
    gunicorn,
    kept_database,
    percentiles,
    post_json,
    sign_in,
    table,
    timed_get,
    wrk,
)

sys.path.insert(0, str(ROOT))

from province_fill import analyze, fill  # noqa: E402
from sqlalchemy import Engine, func, insert, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from submit_floor import capture  # noqa: E402

from services.db import make_engine  # noqa: E402
from services.models import (  # noqa: E402
    Agency,
    Attachment,
    Dossier,
    Notification,
    Procedure,
    StaffRole,
    StoredFile,
    User,
)

SIZES = {"smartqn_bench_10k": 10_000, "smartqn_bench_1m": 1_000_000}
TARGETS = {"detail": 0.50, "inbox": 0.40, "unread_count": 0.55, "queue": 0.30, "submit": 0.15}  # issue 18
CITIZEN = {"cccd": "049085001234", "full_name": "Nguyễn Văn An", "date_of_birth": "1985-03-12", "gender": "male",
           "eid_level": 2}
ADMIN = {"cccd": "049180003456", "full_name": "Võ Thị Hà", "date_of_birth": "1980-09-09", "gender": "female",
         "eid_level": 2}
OFFICIAL = {"cccd": "048078002345", "full_name": "Phạm Quốc Dũng", "date_of_birth": "1978-05-05",
            "gender": "male", "eid_level": 2}
AGENCY = "000.20.24.H15"  # the official's commune
QUEUES = {"queue": "", "queue_received": "&status=received", "queue_overdue": "&overdue=true"}


def environment(url: str, tmp: str, port: int | None = None) -> dict[str, str]:
    return {**os.environ, "SMARTQN_INSTANCE_DIR": tmp, "SMARTQN_DATABASE_URL": url,
            "SMARTQN_RATELIMIT_ENABLED": "false", "SMARTQN_BASE_URL": f"http://127.0.0.1:{port or 5000}",
            "SMARTQN_ACCESS_TOKEN_TTL": "3600"}


def prepare(name: str, rows: int, tmp: str) -> str:
    """Migrate, seed and grant staff; remove what an earlier run's citizen filed; fill unless already full."""
    url = kept_database(name)
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    for command in (["db", "upgrade"], ["seed"],
                    ["staff", "grant", OFFICIAL["cccd"], "--role", "official", "--agency", AGENCY],
                    ["staff", "grant", ADMIN["cccd"], "--role", "admin"]):
        subprocess.run([*flask, *command], cwd=ROOT, env=environment(url, tmp), check=True, capture_output=True)
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            session.execute(text("DELETE FROM dossiers WHERE applicant_id IN (SELECT id FROM users WHERE cccd = :c)"),
                            {"c": CITIZEN["cccd"]})
            count = session.scalar(select(func.count()).select_from(Dossier))
        if count != rows:
            started = time.perf_counter()
            fill(engine, rows)
            print(f"{name}: filled in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        analyze(engine)
    finally:
        engine.dispose()
    return url


def app_in_process(url: str, tmp: str) -> Any:
    """The app on `url` in this process, configured as the served one is (quiet logs)."""
    os.environ.update({**environment(url, tmp), "SMARTQN_LOG_LEVEL": "WARNING"})
    from api import create_app

    return create_app()


def in_process(url: str, tmp: str, samples: int, limits: dict[str, int] | None = None
               ) -> tuple[dict[str, dict[str, float]], list[float]]:
    """The official's queue (first page, three filters) timed in process, and the admin's statistics
    over the last year (7 runs). `limits`: each filter's page size (20 unless said), so the large table is
    read in pages as long as the small one's: the ratio then compares table sizes, not page lengths."""
    app = app_in_process(url, tmp)
    client = app.test_client()

    def timed(path: str, headers: dict[str, str]) -> float:
        return timed_get(client, path, headers)

    official, queue = app_bearer(app, OFFICIAL), {}
    for name, query in QUEUES.items():
        path = f"/api/v1/admin/dossiers?limit={(limits or {}).get(name, 20)}{query}"
        for _ in range(50):
            timed(path, official)
        queue[name] = {**percentiles([timed(path, official) for _ in range(samples)]),
                       "items": len(client.get(path, headers=official).json["items"])}
    today, admin = date.today(), app_bearer(app, ADMIN)
    stats = [timed(f"/api/v1/admin/stats?from={today - timedelta(days=365)}&to={today}", admin) for _ in range(7)]
    return queue, stats


CREATE_LUA = """
local agencies, n = {%(agencies)s}, 0
function request()
  n = n + 1
  local headers = {["Content-Type"] = "application/json"}
  for name, value in pairs(wrk.headers) do headers[name] = value end  -- keeps -H Authorization
  return wrk.format("POST", "/api/v1/dossiers", headers, '{"procedure_code": "1.004873", "agency_code": "'
    .. agencies[n %% #agencies + 1] .. '", "form": {"purpose": "Kết hôn"}}')
end
"""
SUBMIT_LUA = """
local ids, counter, thread_no = {}, 0, 0
local threads = 0
function setup(thread) thread:set("no", threads); threads = threads + 1 end
function init(args)
  for line in io.lines("%(ids)s") do ids[#ids + 1] = line end
  thread_no = tonumber(no)
end
function request()
  counter = counter + 1
  local id = ids[(counter - 1) * 2 + thread_no + 1]
  local headers = {["Idempotency-Key"] = "bench-" .. id}
  for name, value in pairs(wrk.headers) do headers[name] = value end  -- keeps -H Authorization
  return wrk.format("POST", (string.gsub("%(path)s", "{id}", id)), headers)
end
"""
SUBMIT_PATH = "/api/v1/dossiers/{id}/submit"


def prepare_drafts(engine: Engine, applicant_id: str, count: int, agencies: list[str] | None = None) -> list[str]:
    """Drafts ready to submit, at the official's commune or, given `agencies` (ids), at each in turn."""
    sha = "0" * 64
    with Session(engine) as session, session.begin():
        procedure = session.scalar(select(Procedure).where(Procedure.code == "1.004873"))
        agencies = agencies or [session.scalar(select(Agency.id).where(Agency.code == AGENCY))]
        if session.get(StoredFile, sha) is None:
            session.add(StoredFile(sha256=sha, size=10, content_type="application/pdf"))
            session.flush()
        rows = [{"procedure_id": procedure.id, "agency_id": agencies[n % len(agencies)], "applicant_id": applicant_id,
                 "status": "draft", "form": {"purpose": "Kết hôn"}, "fee_vnd": 0} for n in range(count)]
        ids = list(session.scalars(insert(Dossier).returning(Dossier.id), rows))
        session.execute(insert(Attachment), [{"dossier_id": i, "document_type": "to_khai_tthn",
                                              "filename": "to-khai.pdf", "sha256": sha, "uploaded_by": applicant_id}
                                             for i in ids])
    return ids


def commune_officials(engine: Engine) -> list[str]:
    """The ids of the communes, each with one signed-up official (the official's own, and one made here for
    every other commune, CCCD 098…): submits spread over them tell as many people as submits at one."""
    with Session(engine) as session, session.begin():
        communes = session.execute(select(Agency.id, Agency.code).where(Agency.level == "commune")
                                   .order_by(Agency.code)).all()
        staffed = set(session.scalars(select(StaffRole.agency_id).join(User, User.cccd == StaffRole.cccd)
                                      .where(StaffRole.role == "official")))
        for n, (agency_id, code) in enumerate(communes):
            if agency_id not in staffed:
                cccd = f"098{n:09d}"
                session.add(User(cccd=cccd, full_name=f"Cán bộ {code}", date_of_birth=date(1980, 1, 1),
                                 gender="male", eid_level=2, eid_subject=f"bench-{cccd}"))
                session.add(StaffRole(cccd=cccd, role="official", agency_id=agency_id, granted_by="bench"))
    return [agency_id for agency_id, _code in communes]


INBOX = 30  # the citizen's notices at the start of every round's reads: a busy inbox, always the same


def reset_inbox(engine: Engine, applicant_id: str, dossier_id: str) -> None:
    """The citizen's inbox as INBOX unread notices of their first dossier: each round's submits add hundreds,
    which would make every later round's inbox and unread count read a different (and unreal) inbox."""
    with Session(engine) as session, session.begin():
        session.execute(text("DELETE FROM notifications WHERE user_id = :u"), {"u": applicant_id})
        now = datetime.now(UTC)
        session.execute(insert(Notification), [
            {"id": str(uuid.uuid4()), "user_id": applicant_id, "kind": "dossier.received", "dossier_id": dossier_id,
             "params": {"code": f"BENCH-{n}", "procedure": "Đăng ký kết hôn", "status": "received"},
             "created_at": now - timedelta(minutes=n)} for n in range(INBOX)])
    # What autovacuum would do in time: the deleted notices' index entries no longer cost the reads.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE notifications"))


def submit_floor(url: str, tmp: str, engine: Engine) -> Path:
    """Drafts submitted through the app in this process, the last one's statements kept for bench/bare.py to
    replay (bench/submit_floor.py): the submit's physical reference."""
    app = app_in_process(url, tmp)
    headers = app_bearer(app, CITIZEN)
    with Session(engine) as session:
        applicant = session.scalar(select(User.id).where(User.cccd == CITIZEN["cccd"]))
    return capture(app, headers, tuple(prepare_drafts(engine, applicant, 3)), Path(tmp) / "submit.pickle")


def throughput(url: str, tmp: str, seconds: int, connections: int, rounds: int = 1) -> dict[str, dict[str, float]]:
    """Draft creation, detail read, inbox, unread count, the officials' queue and submit on the full table,
    against the bare app before and after; `rounds` times over (each round submits its own drafts), each
    figure the median of its rounds (the ratios of one run move by several points on a 2-core box)."""
    port = free_port()
    engine = make_engine(url)
    try:
        floor = submit_floor(url, tmp, engine)
        env = {**environment(url, tmp, port), "BARE_SUBMIT": str(floor),
               "BARE_DATABASE_URL": url.replace("+psycopg", "")}
        with gunicorn("bare:app", env, ROOT / "bench") as bare, gunicorn("wsgi:app", env, ROOT, port) as ours:
            citizen, official = sign_in(ours, CITIZEN), sign_in(ours, OFFICIAL)
            with Session(engine) as session:
                applicant = session.scalar(select(User.id).where(User.cccd == CITIZEN["cccd"]))
                communes = session.scalars(select(Agency.code).where(Agency.level == "commune")).all()
            per_round = 15_000
            ids = prepare_drafts(engine, applicant, 1 + per_round * rounds)
            staffed = commune_officials(engine)
            spread = prepare_drafts(engine, applicant, per_round * rounds, staffed)
            # The same submits replayed by the bare app (bench/submit_floor.py): each one's physical reference.
            floors = {"submit_floor": prepare_drafts(engine, applicant, per_round * rounds),
                      "submit_spread_floor": prepare_drafts(engine, applicant, per_round * rounds, staffed)}
            analyze(engine)
            create = Path(tmp) / "create.lua"
            create.write_text(CREATE_LUA % {"agencies": ", ".join(f'"{c}"' for c in communes)})
            post_json(f"{ours}/api/v1/dossiers/{ids[0]}/submit", {}, citizen)
            auth = {"Authorization": f"Bearer {citizen}"}
            staff = {"Authorization": f"Bearer {official}"}
            runs: list[dict[str, dict[str, float]]] = []
            for n in range(rounds):
                reset_inbox(engine, applicant, ids[0])
                submits = {}
                for name, first, these in (("submit", 1, ids), ("submit_spread", 0, spread),
                                           *((name, 0, these) for name, these in floors.items())):
                    drafts, submits[name] = Path(tmp) / f"{name}-{n}.txt", Path(tmp) / f"{name}-{n}.lua"
                    drafts.write_text("\n".join(these[first + n * per_round:first + (n + 1) * per_round]) + "\n")
                    path = "/bare-submit/{id}" if name in floors else SUBMIT_PATH
                    submits[name].write_text(SUBMIT_LUA % {"ids": drafts, "path": path})
                first = wrk(f"{bare}/bare", seconds, connections)
                results = {"create_draft": wrk(ours, seconds, connections, auth, create),
                           "detail": wrk(f"{ours}/api/v1/dossiers/{ids[0]}", seconds, connections, auth),
                           "inbox": wrk(f"{ours}/api/v1/me/notifications?limit=20", seconds, connections, auth),
                           "unread_count": wrk(f"{ours}/api/v1/me/notifications/unread-count", seconds,
                                               connections, auth),
                           "queue": wrk(f"{ours}/api/v1/admin/dossiers?limit=20", seconds, connections, staff),
                           **{name: wrk(bare if name in floors else ours, seconds, connections, auth, lua)
                              for name, lua in submits.items()}}
                last = wrk(f"{bare}/bare", seconds, connections)
                if max(results[name]["requests"] for name in submits) > per_round:
                    sys.exit("not enough drafts prepared for the submit runs")
                runs.append({"bare": {k: (first[k] + last[k]) / 2 for k in first}, **results})
        if rounds > 1:
            for name in runs[0]:
                ratios = ", ".join(f"{run[name]['rps'] / run['bare']['rps']:.0%}" for run in runs)
                print(f"{name:<18}rounds: {ratios}")
        return {name: {k: statistics.median(run[name][k] for run in runs) for k in runs[0][name]}
                for name in runs[0]}
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1, help="wrk runs of every endpoint, medians reported")
    parser.add_argument("--samples", type=int, default=1000, help="requests per queue filter, in process")
    parser.add_argument("--drop", action="store_true", help="drop the kept databases and exit")
    parser.add_argument("--throughput-only", action="store_true",
                        help="only the wrk runs on the 1M database (no queue samples, no statistics)")
    parser.add_argument("--in-process-only", action="store_true",
                        help="only the queue samples and the statistics (no wrk runs)")
    parser.add_argument("--short", action="store_true", help="CI smoke: the 10k database on both sides, a few "
                        "samples, 1 s wrk runs (skipped without wrk), no targets")
    args = parser.parse_args()
    if args.drop:
        for name in SIZES:
            drop_database(name)
        return 0
    if not shutil.which("wrk") and not args.short:
        sys.exit("wrk is not installed: apt-get install wrk")
    (small_db, small_rows), (large_db, large_rows) = SIZES.items()
    if args.short:
        (large_db, large_rows), args.samples, args.seconds = (small_db, small_rows), 20, 1
    with tempfile.TemporaryDirectory() as tmp:
        small_url = prepare(small_db, small_rows, tmp)
        large_url = small_url if args.short else prepare(large_db, large_rows, tmp)
        if not args.throughput_only:
            small, _ = in_process(small_url, tmp, args.samples)
            large, stats_ms = in_process(large_url, tmp, args.samples,
                                         {name: max(1, int(seen["items"])) for name, seen in small.items()})
        wrk_runs = shutil.which("wrk") and not args.in_process_only
        results = throughput(large_url, tmp, args.seconds, args.connections, args.rounds) if wrk_runs else {}

    throughput_ok = table(results, TARGETS) if results else True
    for name in ("submit", "submit_spread") if results else ():
        print(f"{name} does {results[name]['rps'] / results[name + '_floor']['rps']:.0%} of what its statements "
              f"alone do from the bare app ({name}_floor: the physical reference)")
    if args.throughput_only:
        return 0 if throughput_ok else 1
    print(f"\nofficials' queue, first page of one commune ({AGENCY}), in process, by table size")
    print(f"{'query':<16}{'items':>8}{'p50 @10k':>10}{'p99 @10k':>10}{'p50 @1M':>10}{'p99 @1M':>10}{'p99 ratio':>11}"
          f"{'target':>10}")
    scale_ok = True
    for name in small:
        ratio = large[name]["p99_ms"] / small[name]["p99_ms"]
        scale_ok &= ratio <= 1.5
        items = f"{small[name]['items']:.0f}/{large[name]['items']:.0f}"
        print(f"{name:<16}{items:>8}{small[name]['p50_ms']:>8.2f}ms{small[name]['p99_ms']:>8.2f}ms"
              f"{large[name]['p50_ms']:>8.2f}ms{large[name]['p99_ms']:>8.2f}ms{ratio:>11.2f}"
              f"{'≤1.5 ' + ('ok' if ratio <= 1.5 else 'MISS'):>10}")
    median = statistics.median(stats_ms)
    print(f"\nprovince-wide statistics over a year, {large_rows:,} dossiers, in process: median {median:.0f} ms, "
          f"max {max(stats_ms):.0f} ms of 7 (target < 1000 ms: {'ok' if median < 1000 else 'MISS'})")
    return 0 if args.short or (throughput_ok and scale_ok and median < 1000) else 1


if __name__ == "__main__":
    sys.exit(main())
