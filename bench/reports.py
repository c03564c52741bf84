"""Field-report benchmarks on PostgreSQL: the public map for a 5 km box with 100,000 reports (p99, and
requests/s as a ratio to the bare app), the duplicate search (p99), and the agency queue at 10 thousand
vs a large number of reports (p99 within 1.5×).

Databases are kept between runs (smartqn_bench_reports_<n>): migrated, seeded (catalog and report
categories) and filled by COPY with reports: 60 % in Đà Nẵng's urban core, 40 % anywhere in the
province's outline, routed as filing routes them (the ward's commune for commune-level categories),
statuses by age (recent ones open, older ones mostly resolved, a few stuck and overdue). A database
that already holds the right number is reused. The map, the duplicate search and the queue are timed
in process (Flask test client); the map's throughput also with gunicorn and wrk against bench/bare.py.
Usage: `.venv/bin/python bench/reports.py [--big 1000000] [--samples 500] [--seconds 10]`; `--drop`.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import (
    BIN,
    ROOT,
    app_bearer,
    copy,
    drop_database,
    gunicorn,
    kept_database,
    percentiles,
    table,
    timed_get,
    wrk,
)

sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from services.db import make_engine  # noqa: E402
from services.models import Agency, AgencyWard, Report, ReportCategory  # noqa: E402
from services.reports import geo  # noqa: E402

CITIZEN = {"cccd": "049085001234", "full_name": "Nguyễn Văn An", "date_of_birth": "1985-03-12", "gender": "male",
           "eid_level": 2}
OFFICIAL = {"cccd": "048078002345", "full_name": "Phạm Quốc Dũng", "date_of_birth": "1978-05-05",
            "gender": "male", "eid_level": 2}
AGENCY = "000.20.05.H15"  # phường Hải Châu: the official's ward
CENTRE = (16.0678, 108.2208)  # Hải Châu
BOX_KM = 5.0
CORE = (15.98, 108.14, 16.10, 108.26)  # south, west, north, east of the urban core
STATUSES = ("new", "accepted", "in_progress", "resolved", "rejected", "reopened")
BY_AGE = ((3, (40, 25, 25, 8, 2, 0)), (30, (5, 10, 15, 60, 7, 3)), (366, (1, 1, 2, 88, 7, 1)))
COLUMNS = ("id", "code", "category_id", "agency_id", "description", "lat", "lon", "cell", "ward_code", "urgent",
           "status", "created_at", "status_changed_at", "due_at", "resolved_at", "closed_at", "reopen_count",
           "rating_score", "rated_at", "version")
WORDS = ["Ổ gà", "Đèn hỏng", "Rác tồn đọng", "Ngập nước", "Cây đổ", "Lấn chiếm vỉa hè", "Cống nghẹt", "Biển báo mờ"]


def _where(r: random.Random) -> tuple[float, float]:
    if r.random() < 0.6:
        return r.uniform(CORE[0], CORE[2]), r.uniform(CORE[1], CORE[3])
    outline = geo.areas().outline
    south, north = min(p[0] for p in outline), max(p[0] for p in outline)
    west, east = min(p[1] for p in outline), max(p[1] for p in outline)
    while True:
        lat, lon = r.uniform(south, north), r.uniform(west, east)
        if geo.in_province(lat, lon):
            return lat, lon


def rows(count: int, categories: list[Any], ward_agency: dict[str, str], now: datetime):
    r = random.Random(count)
    day = now.strftime("%y%m%d")
    for n in range(count):
        category = r.choice(categories)
        lat, lon = _where(r)
        ward = geo.ward_at(lat, lon)
        agency = ward_agency.get(ward or "", category.agency_id) if category.by_ward else category.agency_id
        age = timedelta(days=r.random() ** 2 * 365)
        created = now - age
        status = r.choices(STATUSES, next(w for limit, w in BY_AGE if age.days < limit))[0]
        due = created + timedelta(days=category.sla_days * 1.4)
        resolved = min(now, created + timedelta(days=r.uniform(0.2, category.sla_days * 2))) \
            if status == "resolved" else None
        closed = resolved or (min(now, created + timedelta(days=1)) if status == "rejected" else None)
        rated = resolved if resolved and r.random() < 0.3 else None
        yield (str(uuid.UUID(int=r.getrandbits(128))), f"PB-{day}-{n:07d}", category.id, agency,
               f"{r.choice(WORDS)} (bench {n})", lat, lon, geo.cell_of(lat, lon), ward, r.random() < 0.05, status,
               created, closed or created, due, resolved, closed, int(status == "reopened"),
               r.randint(1, 5) if rated else None, rated, 1)


def environment(url: str, tmp: str) -> dict[str, str]:
    return {**os.environ, "SMARTQN_INSTANCE_DIR": tmp, "SMARTQN_DATABASE_URL": url,
            "SMARTQN_RATELIMIT_ENABLED": "false", "SMARTQN_BASE_URL": "http://127.0.0.1:5000",
            "SMARTQN_ACCESS_TOKEN_TTL": "3600", "SMARTQN_LOG_LEVEL": "WARNING"}


def prepare(count: int, tmp: str, name: str) -> str:
    url = kept_database(name)
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    for command in (["db", "upgrade"], ["seed"],
                    ["staff", "grant", OFFICIAL["cccd"], "--role", "official", "--agency", AGENCY]):
        subprocess.run([*flask, *command], cwd=ROOT, env=environment(url, tmp), check=True, capture_output=True)
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            have = session.scalar(select(func.count()).select_from(Report))
            categories = list(session.execute(select(ReportCategory.id, ReportCategory.agency_id,
                                                     ReportCategory.by_ward, ReportCategory.sla_days)))
            ward_agency = dict(session.execute(select(AgencyWard.ward_code, Agency.id).join(
                Agency, Agency.id == AgencyWard.agency_id)).all())
        if have != count:
            started = time.perf_counter()
            with Session(engine) as session, session.begin():
                session.execute(text("TRUNCATE reports CASCADE"))
            copy(engine, "reports", COLUMNS, rows(count, categories, ward_agency, datetime.now(UTC)))
            print(f"{name}: filled {count:,} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        with Session(engine) as session, session.begin():  # the map's cell revisions (migration 0018 does this)
            session.execute(text("INSERT INTO report_cells (cell, revision) SELECT DISTINCT cell, 1 FROM reports "
                                 "ON CONFLICT (cell) DO NOTHING"))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE reports"))
            connection.execute(text("VACUUM ANALYZE report_cells"))
    finally:
        engine.dispose()
    return url


def box_around(lat: float, lon: float, km: float) -> str:
    south, west, north, east = geo.around(lat, lon, km * 500)  # half the side each way
    return f"{west:.6f},{south:.6f},{east:.6f},{north:.6f}"


def in_process(url: str, tmp: str) -> Any:
    """A test client of an app on this database, and bearer headers for the official and the citizen."""
    os.environ.update(environment(url, tmp))
    from api import create_app

    app = create_app()
    return app, app_bearer(app, OFFICIAL), app_bearer(app, CITIZEN)


def measure(apps: dict[int, Any], samples: int, only: set[str]) -> dict[int, dict[str, dict[str, float]]]:
    """Each path on every database, the databases' requests interleaved sample by sample (so a burst of
    other load on the machine falls on all of them alike)."""
    from api.context import state_of

    r = random.Random(7)

    def moving() -> str:  # a phone panning around the city: 5 km boxes anywhere in the urban core
        centre = r.uniform(CORE[0], CORE[2]), r.uniform(CORE[1], CORE[3])
        return f"/api/v1/public/reports?bbox={box_around(*centre, BOX_KM)}"

    paths = {
        "map_5km": lambda: f"/api/v1/public/reports?bbox={box_around(*CENTRE, BOX_KM)}",
        "map_5km_moving": moving,
        "map_5km_cold": lambda: f"/api/v1/public/reports?bbox={box_around(*CENTRE, BOX_KM)}",
        "nearby_50m": lambda: (f"/api/v1/reports/nearby?lat={r.uniform(CORE[0], CORE[2]):.6f}"
                               f"&lon={r.uniform(CORE[1], CORE[3]):.6f}&category_code=road_damage"),
        "queue": lambda: "/api/v1/admin/reports?limit=20",
        "queue_overdue": lambda: "/api/v1/admin/reports?limit=20&overdue=true",
    }
    clients = {count: (app.test_client(), official, citizen) for count, (app, official, citizen) in apps.items()}
    results: dict[int, dict[str, dict[str, float]]] = {count: {} for count in apps}
    for name, path in paths.items():
        if only and name not in only:
            continue
        for app, _, _ in apps.values():  # the cold map: nothing kept between requests (the old way's cost)
            state_of(app).map_cells.size = 0 if name == "map_5km_cold" else 20_000
            state_of(app).map_answers.size = 0 if name == "map_5km_cold" else 32
        times: dict[int, list[float]] = {count: [] for count in apps}
        cold = name == "map_5km_cold"
        warm, runs = (1, min(samples, 10)) if cold else (20, samples)  # cold: ~10 s each at 1M (23,000 pins)
        for i in range(warm + runs):
            for count, (client, official, citizen) in clients.items():
                if cold:
                    state_of(apps[count][0]).map_cells.clear()
                    state_of(apps[count][0]).map_answers.clear()
                elapsed = timed_get(client, path(), official if name.startswith("queue") else citizen)
                if i >= warm:
                    times[count].append(elapsed)
        for count, (client, official, citizen) in clients.items():
            results[count][name] = percentiles(times[count])
            headers = official if name.startswith("queue") else citizen
            results[count][name]["items"] = len(client.get(path(), headers=headers).json["items"])
    return results


def throughput(url: str, tmp: str, seconds: int) -> dict[str, dict[str, float]]:
    """The map for the 5 km box through gunicorn: plain and gzipped, against the bare app's small JSON and
    the bare app serving the same bytes as our answer (a 300 KB answer costs its bytes anywhere)."""
    env = {**environment(url, tmp), "BARE_BODY": str(Path(tmp) / "map.json")}
    path = f"/api/v1/public/reports?bbox={box_around(*CENTRE, BOX_KM)}"
    results: dict[str, dict[str, float]] = {}
    with gunicorn("wsgi:app", env, ROOT) as ours:
        with urllib.request.urlopen(f"{ours}{path}") as response:
            (Path(tmp) / "map.json").write_bytes(response.read())
        with gunicorn("bare:app", env, ROOT / "bench") as bare:
            first = wrk(f"{bare}/bare", seconds, 8)
            results["bare_same_bytes"] = wrk(f"{bare}/bare-bytes", seconds, 8)
            results["map_5km"] = wrk(f"{ours}{path}", seconds, 8)
            results["map_5km_gzip"] = wrk(f"{ours}{path}", seconds, 8, {"Accept-Encoding": "gzip"})
            last = wrk(f"{bare}/bare", seconds, 8)
    return {"bare": {k: (first[k] + last[k]) / 2 for k in first}, **results}


def show(name: str, figures: dict[str, float]) -> None:
    print(f"{name:<16}{figures['p50_ms']:>9.2f}{figures['p99_ms']:>9.2f}{int(figures.get('items', 0)):>7}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big", type=int, default=1_000_000, help="reports in the large queue database")
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--short", action="store_true", help="CI smoke: 1,000 and 3,000 reports in scratch "
                        "databases, a few samples, no targets")
    parser.add_argument("--throughput-only", action="store_true", help="only the map through gunicorn")
    parser.add_argument("--paths", default="", help="in-process measures to run, by name (default: all), "
                        "e.g. queue,queue_overdue")
    parser.add_argument("--drop", action="store_true")
    args = parser.parse_args()
    small, mapped, big = (1_000, 3_000, 3_000) if args.short else (10_000, 100_000, args.big)
    sizes = sorted({small, mapped, big})
    prefix = f"smartqn_bench_reports_short{os.getpid()}_" if args.short else "smartqn_bench_reports_"
    if args.drop:
        for count in sizes:
            drop_database(f"{prefix}{count}")
        return 0
    if args.short:
        args.samples, args.seconds = 20, 1
    with tempfile.TemporaryDirectory() as tmp:
        urls = {count: prepare(count, tmp, f"{prefix}{count}") for count in sizes}
        apps = {} if args.throughput_only else {count: in_process(urls[count], tmp) for count in sizes}
        measured = measure(apps, args.samples, set(filter(None, args.paths.split(","))))
        for count in apps:
            print(f"\n{count:,} reports (in process, ms){'':<4}p50      p99  items")
            for name, figures in measured[count].items():
                show(name, figures)
        ok = True
        if not args.paths:
            print(f"\nThe public map ({BOX_KM:.0f} km box) with {mapped:,} reports, gunicorn 2 workers, wrk -c8:")
            results = throughput(urls[mapped], tmp, args.seconds)
            ok = table(results, {})
            same = results["map_5km"]["rps"] / results["bare_same_bytes"]["rps"]
            print(f"map_5km against the bare app serving the same {len((Path(tmp) / 'map.json').read_bytes()):,} "
                  f"bytes: {same:.0%}")
    for name in [n for n in ("queue", "queue_overdue") if apps and n in measured[small]]:
        ratio = measured[big][name]["p99_ms"] / measured[small][name]["p99_ms"]
        print(f"{name} p99 at {big:,} vs {small:,}: {ratio:.2f}x (target ≤ 1.5x) {'ok' if ratio <= 1.5 else 'MISS'}")
        ok &= ratio <= 1.5
    if args.short:
        for count in sizes:
            drop_database(f"{prefix}{count}")
    return 0 if ok or args.short else 1


if __name__ == "__main__":
    sys.exit(main())
