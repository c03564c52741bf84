"""Load benchmark: our catalog endpoints against a bare Flask endpoint, same gunicorn setup, one run.

Starts gunicorn (2 sync workers) on the project (a fresh SQLite database, migrated and seeded) and on
bench/bare.py, drives each endpoint with wrk, and prints requests/s and p50/p99 latency, each as a
ratio to the bare app. Usage: `make bench` or `.venv/bin/python bench/load.py --seconds 10`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request

from common import BIN, ROOT, gunicorn, table, wrk

TARGETS = {"list": 0.80, "detail": 0.40, "revalidate_304": 0.90}  # issue 18: list 80 %, 304 90 %


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds; ratios as min/median/max")
    parser.add_argument("--short", action="store_true", help="CI smoke: 1 s runs, one round, no targets")
    args = parser.parse_args()
    if args.short:
        args.seconds, args.rounds = 1, 1
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SMARTQN_INSTANCE_DIR": tmp, "SMARTQN_DATABASE_URL": f"sqlite:///{tmp}/bench.db",
               "SMARTQN_RATELIMIT_ENABLED": "false"}
        flask = [str(BIN / "flask"), "--app", "wsgi"]
        subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run([*flask, "seed"], cwd=ROOT, env=env, check=True, capture_output=True)

        rounds: list[dict[str, dict[str, float]]] = []
        # Both servers run at once and the bare app is measured before and after ours in every round, so a
        # drift of the machine during the run shows in the yardstick instead of skewing a ratio.
        with gunicorn("bare:app", env, ROOT / "bench") as bare, gunicorn("wsgi:app", env, ROOT) as ours:
            list_url = f"{ours}/api/v1/procedures"
            etag = urllib.request.urlopen(list_url).headers["ETag"]
            for _ in range(args.rounds):
                results: dict[str, dict[str, float]] = {}
                first = wrk(f"{bare}/bare", args.seconds, args.connections)
                results["list"] = wrk(list_url, args.seconds, args.connections)
                results["detail"] = wrk(f"{ours}/api/v1/procedures/1.001193", args.seconds, args.connections)
                results["revalidate_304"] = wrk(list_url, args.seconds, args.connections, {"If-None-Match": etag})
                last = wrk(f"{bare}/bare", args.seconds, args.connections)
                rounds.append({"bare": {k: (first[k] + last[k]) / 2 for k in first}, **results})
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    results = rounds[len(rounds) // 2]
    if args.rounds > 1:
        print(f"rps ratio to the bare app, {args.rounds} interleaved rounds of {args.seconds} s: min / median / max")
        for name in ("list", "detail", "revalidate_304"):
            ratios = sorted(r[name]["rps"] / r["bare"]["rps"] for r in rounds)
            print(f"  {name:<16}{ratios[0]:>6.0%}{statistics.median(ratios):>6.0%}{ratios[-1]:>6.0%}"
                  f"   target {TARGETS[name]:.0%}")
        print("a middle round in full:")
    if args.short:
        table(results, TARGETS)
        return 0
    return 0 if table(results, TARGETS) else 1


if __name__ == "__main__":
    sys.exit(main())
