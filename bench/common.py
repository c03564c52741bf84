"""What the benchmarks share: gunicorn servers on free ports, wrk runs parsed, ratio tables."""

from __future__ import annotations

import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The same server setup for the project and the bare app; SMARTQN_BENCH_GUNICORN adds options to both.
GUNICORN_EXTRA = os.environ.get("SMARTQN_BENCH_GUNICORN", "").split()
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}
PG = os.environ.get("SMARTQN_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
PSQL = ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c"]


@contextmanager
def scratch_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one run, dropped afterwards."""
    database = f"smartqn_bench_{os.getpid()}"
    subprocess.run([*PSQL, f"CREATE DATABASE {database}"], check=True)
    try:
        yield f"{PG}/{database}"
    finally:
        subprocess.run([*PSQL, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"], check=False)


def kept_database(name: str) -> str:
    """A PostgreSQL database kept between runs, created when missing."""
    found = subprocess.run([*PSQL, f"SELECT 1 FROM pg_database WHERE datname = '{name}'", "-tA"],
                           capture_output=True, text=True, check=True).stdout.strip()
    if not found:
        subprocess.run([*PSQL, f"CREATE DATABASE {name}"], check=True)
    return f"{PG}/{name}"


def drop_database(name: str) -> None:
    subprocess.run([*PSQL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=True)


def copy(engine: Any, table_name: str, columns: tuple[str, ...], rows: Any) -> None:
    """Rows into a PostgreSQL table by COPY, in one transaction (the benchmarks' fills)."""
    raw = engine.raw_connection()
    try:
        sql = f"COPY {table_name} ({', '.join(columns)}) FROM STDIN"
        with raw.driver_connection.cursor() as cursor, cursor.copy(sql) as stream:
            for row in rows:
                stream.write_row(row)
        raw.commit()
    finally:
        raw.close()


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    """p50 and p99 of latencies measured in process."""
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return {"p50_ms": cuts[49], "p99_ms": cuts[98]}


def post_json(url: str, body: dict, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request) as response:
        body = response.read()
        return json.loads(body) if body else {}


def sign_in(base: str, person: dict) -> str:
    id_token = post_json(f"{base}/mock-eid/token", person)["id_token"]
    return post_json(f"{base}/api/v1/auth/eid", {"id_token": id_token})["access_token"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app: str, env: dict[str, str], cwd: Path, port: int | None = None) -> Iterator[str]:
    """gunicorn with 2 sync workers, as both the project and the bare app are served."""
    port = port or free_port()
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", "2", *GUNICORN_EXTRA, "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", app],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    with serving(proc, f"http://127.0.0.1:{port}/"):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def serving(proc: subprocess.Popen[bytes], url: str) -> Iterator[None]:
    """Wait (up to 30 s) until `url` answers at all (any HTTP status: the bare app has no `/`), then stop
    `proc` once the caller is done."""
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url, timeout=1).read()
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.1)
                continue
            break
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def wrk(url: str, seconds: int, connections: int, headers: dict[str, str] | None = None,
        script: Path | None = None, allow_errors: bool = False) -> dict[str, float]:
    cmd = ["wrk", "--latency", "-t2", f"-c{connections}", f"-d{seconds}s"]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    percentiles = {pct: float(value) * UNITS[unit]
                   for pct, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors and not allow_errors:
        raise RuntimeError(f"{url}: {errors.group(1)} error responses\n{out}")
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p50_ms": percentiles["50"], "p99_ms": percentiles["99"], "requests": requests}


def table(results: dict[str, dict[str, float]], targets: dict[str, float]) -> bool:
    """Print requests/s and latencies with each ratio to `bare`; True when every target is met."""
    base = results["bare"]
    print(f"{'endpoint':<18}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'rps ratio':>11}{'target':>8}")
    ok = True
    for name, r in results.items():
        ratio = r["rps"] / base["rps"]
        target = targets.get(name)
        mark = "" if target is None else (f"{target:.0%}" + (" ok" if ratio >= target else " MISS"))
        ok &= target is None or ratio >= target
        print(f"{name:<18}{r['rps']:>10.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{ratio:>10.0%} {mark:>8}")
    return ok


def app_bearer(app: Any, person: dict) -> dict[str, str]:
    """An Authorization header for a person, signed in inside the app as POST /auth/eid does once the eID
    token is verified (in-process benchmarks)."""
    from datetime import date

    from api.context import get_session, settings
    from services.people.eid import EidIdentity
    from services.people.identity import sign_in as sign_in_eid

    identity = EidIdentity(**{**person, "date_of_birth": date.fromisoformat(person["date_of_birth"])},
                           subject=f"bench-{person['cccd']}")
    with app.app_context():
        return {"Authorization": f"Bearer {sign_in_eid(get_session(), identity, settings=settings()).access_token}"}


def timed_get(client: Any, path: str, headers: dict[str, str]) -> float:
    """Milliseconds of one GET through a Flask test client; anything but a 200 stops the benchmark."""
    started = time.perf_counter()
    response = client.get(path, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{path}: {response.status_code} {response.get_data(as_text=True)[:500]}")
    return elapsed


def cpu_seconds(roots: dict[str, int]) -> dict[int, tuple[str, float]]:
    """CPU seconds each process has used so far, with who it is: one of `roots` (a name for a process and
    its children: the app server, the proxy), the database (any PostgreSQL process on the box) or this
    client. Two readings' difference over the elapsed time is each one's share of the cores (`cores`).
    Linux /proc; elsewhere an empty reading."""
    ticks = os.sysconf("SC_CLK_TCK")
    used: dict[int, tuple[str, float]] = {}
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return used
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # gone since the listing
        name, fields = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        ppid, seconds = int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks
        kind = next((k for k, root in roots.items() if root in (pid, ppid)), None)
        if kind is None and name.startswith("postgres"):
            kind = "database"
        elif kind is None and pid == os.getpid():
            kind = "client"
        if kind is not None:
            used[pid] = (kind, seconds)
    return used


def cores(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]], elapsed: float) -> str:
    """`app 0.91, database 0.28, client 0.38 cores`: what each used of the machine between two readings
    (a process that ended in between is left out, one that started counts from zero)."""
    if not after:
        return "cores: not read (no /proc)"
    total: dict[str, float] = {}
    for pid, (kind, seconds) in after.items():
        total[kind] = total.get(kind, 0.0) + seconds - before.get(pid, (kind, 0.0))[1]
    return "cores: " + ", ".join(f"{k} {v / elapsed:.2f}" for k, v in sorted(total.items()))
