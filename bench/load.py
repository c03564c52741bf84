"""Load benchmark: our catalog endpoints against a bare Flask endpoint, same gunicorn setup, one run.

Starts gunicorn (2 sync workers) on the project (a fresh SQLite database, migrated and seeded) and on
bench/bare.py, drives each endpoint with wrk, and prints requests/s and p50/p99 latency, each as a
ratio to the bare app. Usage: `make bench` or `.venv/bin/python bench/load.py --seconds 10`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGETS = {"list": 0.40, "detail": 0.40, "revalidate_304": 0.80}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app: str, env: dict[str, str], cwd: Path):
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning", app],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.1)
                continue
            break
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(url: str, seconds: int, connections: int, headers: dict[str, str] | None = None) -> dict[str, float]:
    cmd = ["wrk", "--latency", "-t2", f"-c{connections}", f"-d{seconds}s", url]
    for name, value in (headers or {}).items():
        cmd[1:1] = ["-H", f"{name}: {value}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    percentiles = {}
    for pct, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        percentiles[pct] = float(value) * UNITS[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} error responses\n{out}")
    return {"rps": rps, "p50_ms": percentiles["50"], "p99_ms": percentiles["99"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SMARTQN_INSTANCE_DIR": tmp, "SMARTQN_DATABASE_URL": f"sqlite:///{tmp}/bench.db",
               "SMARTQN_RATELIMIT_ENABLED": "false"}
        flask = [str(BIN / "flask"), "--app", "wsgi"]
        subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run([*flask, "seed"], cwd=ROOT, env=env, check=True, capture_output=True)

        results: dict[str, dict[str, float]] = {}
        # Both servers run at once and the bare app is measured before and after ours, so a drift
        # of the machine during the run shows in the yardstick instead of skewing a ratio.
        with gunicorn("bare:app", env, ROOT / "bench") as bare, gunicorn("wsgi:app", env, ROOT) as ours:
            list_url = f"{ours}/api/v1/procedures"
            etag = urllib.request.urlopen(list_url).headers["ETag"]
            first = wrk(f"{bare}/bare", args.seconds, args.connections)
            results["list"] = wrk(list_url, args.seconds, args.connections)
            results["detail"] = wrk(f"{ours}/api/v1/procedures/1.001193", args.seconds, args.connections)
            results["revalidate_304"] = wrk(list_url, args.seconds, args.connections, {"If-None-Match": etag})
            last = wrk(f"{bare}/bare", args.seconds, args.connections)
        results = {"bare": {k: (first[k] + last[k]) / 2 for k in first}, **results}

    base = results["bare"]
    print(f"{'endpoint':<16}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'rps ratio':>11}{'target':>8}")
    failed = False
    for name, r in results.items():
        ratio = r["rps"] / base["rps"]
        target = TARGETS.get(name)
        mark = "" if target is None else (f"{target:.0%}" + (" ok" if ratio >= target else " MISS"))
        failed |= target is not None and ratio < target
        print(f"{name:<16}{r['rps']:>10.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{ratio:>10.0%} {mark:>8}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
