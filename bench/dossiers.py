"""Dossier benchmarks on PostgreSQL: submit and detail-read throughput as ratios to the bare app, and
the officials' queue p99 with 10 thousand versus 1 million dossiers.

Creates a scratch database (dropped afterwards), migrates and seeds it, serves the project and
bench/bare.py with gunicorn (2 sync workers each), signs a citizen and an official in through the
mock eID provider, prepares drafts in bulk, and drives everything with wrk.
Usage: `.venv/bin/python bench/dossiers.py [--seconds 10] [--rows 1000000]`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from common import BIN, ROOT, free_port, gunicorn, post_json, scratch_database, sign_in, table, wrk

sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from services.db import make_engine  # noqa: E402
from services.models import Attachment, Dossier, Procedure, StoredFile, User  # noqa: E402

TARGETS = {"detail": 0.50, "submit": 0.25}
CITIZEN = {"cccd": "049085001234", "full_name": "Nguyễn Văn An", "date_of_birth": "1985-03-12", "gender": "male",
           "eid_level": 2}
ADMIN = {"cccd": "049180003456", "full_name": "Võ Thị Hà", "date_of_birth": "1980-09-09", "gender": "female",
         "eid_level": 2}
OFFICIAL = {"cccd": "048078002345", "full_name": "Phạm Quốc Dũng", "date_of_birth": "1978-05-05",
            "gender": "male", "eid_level": 2}
AGENCY = "000.20.24.H15"
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
  return wrk.format("POST", "/api/v1/dossiers/" .. id .. "/submit", headers)
end
"""


def prepare_drafts(engine, applicant_id: str, count: int) -> list[str]:
    sha = "0" * 64
    with Session(engine) as session, session.begin():
        procedure = session.scalar(select(Procedure).where(Procedure.code == "1.004873"))
        if session.get(StoredFile, sha) is None:
            session.add(StoredFile(sha256=sha, size=10, content_type="application/pdf"))
            session.flush()
        rows = [{"procedure_id": procedure.id, "agency_id": procedure.agency_id, "applicant_id": applicant_id,
                 "status": "draft", "form": {"purpose": "Kết hôn"}, "fee_vnd": 0} for _ in range(count)]
        ids = list(session.scalars(insert(Dossier).returning(Dossier.id), rows))
        session.execute(insert(Attachment), [{"dossier_id": i, "document_type": "to_khai_tthn",
                                              "filename": "to-khai.pdf", "sha256": sha, "uploaded_by": applicant_id}
                                             for i in ids])
    return ids


FILL = text("""
INSERT INTO dossiers (id, code, procedure_id, agency_id, applicant_id, status, form, fee_vnd, created_at,
                      status_changed_at, submitted_at, received_at, due_at, queue_at, supplement_count, version,
                      completed_at, closed_at, processing_days, rating_score, rated_at)
SELECT gen_random_uuid()::text, 'BENCH-' || g, (CAST(:procedures AS text[]))[1 + g % :n],
       (CAST(:agencies AS text[]))[1 + g % :n], :applicant,
       s.status, '{}'::json, 0, t.at, t.at, t.at,
       CASE WHEN s.status = 'submitted' THEN NULL ELSE t.at END,
       CASE WHEN s.status = 'submitted' THEN NULL ELSE t.at + interval '5 days' END,
       CASE WHEN s.status = 'submitted' THEN t.at ELSE t.at + interval '5 days' END, 0, 1,
       CASE WHEN s.status = 'completed' THEN t.at + (g % 8) * interval '1 day' END,
       CASE WHEN s.status IN ('completed', 'rejected') THEN t.at + (g % 8) * interval '1 day' END,
       CASE WHEN s.status = 'completed' THEN g % 8 END,
       CASE WHEN s.status = 'completed' AND g % 3 = 0 THEN 1 + g % 5 END,
       CASE WHEN s.status = 'completed' AND g % 3 = 0 THEN t.at + interval '9 days' END
FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS g
CROSS JOIN LATERAL (SELECT (ARRAY['submitted','received','in_progress','approved','completed','rejected',
                                  'completed','completed'])[1 + g % 8] AS status) AS s
CROSS JOIN LATERAL (SELECT now() - (g % 1500) * interval '1 day' / 4 AS at) AS t
""")


def fill(engine, applicant_id: str, first: int, last: int) -> None:
    with Session(engine) as session, session.begin():
        procedures = session.execute(select(Procedure.id, Procedure.agency_id).order_by(Procedure.code)).all()
        columns = {"procedures": [p.id for p in procedures], "agencies": [p.agency_id for p in procedures],
                   "n": len(procedures), "applicant": applicant_id}
        for start in range(first, last + 1, 200_000):
            session.execute(FILL, {**columns, "first": start, "last": min(last, start + 199_999)})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE dossiers"))


def queue_p99(base: str, token: str, seconds: int, connections: int) -> dict[str, dict[str, float]]:
    headers = {"Authorization": f"Bearer {token}"}
    return {name: wrk(f"{base}/api/v1/admin/dossiers?limit=20{query}", seconds, connections, headers)
            for name, query in (("queue", ""), ("queue_received", "&status=received"),
                                ("queue_overdue", "&overdue=true"))}


def stats_latency(base: str, token: str, runs: int = 7) -> float:
    """Median milliseconds of the province-wide statistics over the last year (all agencies)."""
    import statistics
    import time
    from datetime import date, timedelta

    today = date.today()
    url = f"{base}/api/v1/admin/stats?from={today - timedelta(days=365)}&to={today}"
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})) as r:
            r.read()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    with scratch_database() as url:
        return run(args, url)


def run(args: argparse.Namespace, url: str) -> int:
    engine = make_engine(url)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            port = free_port()
            env = {**os.environ, "SMARTQN_INSTANCE_DIR": tmp, "SMARTQN_DATABASE_URL": url,
                   "SMARTQN_RATELIMIT_ENABLED": "false", "SMARTQN_BASE_URL": f"http://127.0.0.1:{port}",
                   "SMARTQN_ACCESS_TOKEN_TTL": "3600"}
            flask = [str(BIN / "flask"), "--app", "wsgi"]
            for command in (["db", "upgrade"], ["seed"], ["staff", "grant", OFFICIAL["cccd"], "--role", "official",
                                                          "--agency", AGENCY],
                            ["staff", "grant", ADMIN["cccd"], "--role", "admin"]):
                subprocess.run([*flask, *command], cwd=ROOT, env=env, check=True, capture_output=True)
            with gunicorn("bare:app", env, ROOT / "bench") as bare, gunicorn("wsgi:app", env, ROOT, port) as ours:
                citizen, official = sign_in(ours, CITIZEN), sign_in(ours, OFFICIAL)
                with Session(engine) as session:
                    applicant = session.scalar(select(User.id).where(User.cccd == CITIZEN["cccd"]))
                # The queue at 10 thousand dossiers, then at a province's million.
                fill(engine, applicant, 1, 10_000)
                small = queue_p99(ours, official, args.seconds, args.connections)
                fill(engine, applicant, 10_001, args.rows)
                large = queue_p99(ours, official, args.seconds, args.connections)
                stats_ms = stats_latency(ours, sign_in(ours, ADMIN))

                # Throughput, on the full table.
                ids = prepare_drafts(engine, applicant, 30_000)
                id_file = Path(tmp) / "ids.txt"
                id_file.write_text("\n".join(ids[1:]) + "\n")
                script = Path(tmp) / "submit.lua"
                script.write_text(SUBMIT_LUA % {"ids": id_file})
                post_json(f"{ours}/api/v1/dossiers/{ids[0]}/submit", {}, citizen)
                auth = {"Authorization": f"Bearer {citizen}"}
                first = wrk(f"{bare}/bare", args.seconds, args.connections)
                results = {"detail": wrk(f"{ours}/api/v1/dossiers/{ids[0]}", args.seconds, args.connections, auth),
                           "submit": wrk(ours, args.seconds, args.connections, auth, script)}
                last = wrk(f"{bare}/bare", args.seconds, args.connections)
                results = {"bare": {k: (first[k] + last[k]) / 2 for k in first}, **results}
                if results["submit"]["requests"] > len(ids) - 1:
                    sys.exit("not enough drafts prepared for the submit run")
        throughput_ok = table(results, TARGETS)
        total = args.rows
        print(f"\nofficials' queue, first page (agency {AGENCY}), p99 by table size")
        print(f"{'query':<16}{'p99 @10k':>10}{'p99 @' + format(total, ','):>16}{'ratio':>8}{'target':>8}")
        scale_ok = True
        for name in small:
            ratio = large[name]["p99_ms"] / small[name]["p99_ms"]
            scale_ok &= ratio <= 1.5
            print(f"{name:<16}{small[name]['p99_ms']:>9.2f}ms{large[name]['p99_ms']:>14.2f}ms{ratio:>8.2f}"
                  f"{'≤1.5 ' + ('ok' if ratio <= 1.5 else 'MISS'):>9}")
        print(f"\nprovince-wide statistics over a year, {total:,} dossiers: median {stats_ms:.0f} ms "
              f"(target < 1000 ms: {'ok' if stats_ms < 1000 else 'MISS'})")
        return 0 if throughput_ok and scale_ok and stats_ms < 1000 else 1
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
