"""Each benchmark's short mode runs (seconds, no targets), so the scripts cannot rot between the runs that
measure. PostgreSQL only (the benchmarks use it; CI's PostgreSQL pass runs these), and wrk where needed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
URL = os.environ.get("SMARTQN_TEST_DATABASE_URL", "")

pytestmark = pytest.mark.skipif(not URL.startswith("postgresql") or not shutil.which("psql"),
                                reason="the benchmarks run against PostgreSQL")


def run(*args: str, timeout: int = 300) -> str:
    env = {**os.environ, "SMARTQN_BENCH_PG": URL.rsplit("/", 1)[0]}
    done = subprocess.run([sys.executable, *args], cwd=ROOT / "bench", env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_mixed_smoke() -> None:
    out = run("mixed.py", "--short")
    assert "offered/s" in out and "load average" in out


def test_push_smoke() -> None:
    out = run("push.py", "--short")
    assert "2 worker processes" in out


def test_dossiers_smoke() -> None:
    out = run("dossiers.py", "--short", "--samples", "20")
    assert "officials' queue" in out
    if shutil.which("wrk"):  # the throughput runs, with the submits' physical reference (bench/submit_floor.py)
        assert "submit_spread_floor" in out and "of what its statements alone do" in out


@pytest.mark.skipif(not shutil.which("wrk"), reason="bench/load.py drives wrk")
def test_load_smoke() -> None:
    out = run("load.py", "--short")
    assert "revalidate_304" in out


@pytest.mark.skipif(not shutil.which("wrk"), reason="bench/reports.py drives wrk for the map's throughput")
def test_reports_smoke() -> None:
    out = run("reports.py", "--short")
    assert "map_5km_moving" in out and "queue_overdue p99" in out


@pytest.mark.skipif(not shutil.which("wrk"), reason="bench/wallet.py drives wrk for the attach throughput")
def test_wallet_smoke() -> None:
    out = run("wallet.py", "--short")
    assert "ratio wallet/upload" in out and "20 dossiers submitted" in out and "one copy: True" in out


@pytest.mark.skipif(not shutil.which("wrk"), reason="bench/events.py drives wrk for the detail read")
def test_events_smoke() -> None:
    out = run("events.py", "--short")
    assert "event → webhook arrival" in out and "commit → SSE with 20 streams open" in out and "detail read" in out


def test_desk_pdf_smoke() -> None:
    out = run("desk_pdf.py", "--short")
    assert "receipt slip (" in out and "cpu  ms" in out


def test_drops_smoke() -> None:
    """Also a fault test in small: any 500 while the app's connections are terminated fails it."""
    out = run("drops.py", "--seconds", "4", "--every", "1")
    assert "requests" in out
