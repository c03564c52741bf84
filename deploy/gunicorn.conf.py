"""gunicorn's configuration (`gunicorn -c deploy/gunicorn.conf.py wsgi:app`; the Docker image's command).

Everything comes from the environment so one image serves every deployment:
GUNICORN_BIND (default 0.0.0.0:8000), GUNICORN_WORKERS (default 2; WEB_CONCURRENCY is honoured too),
GUNICORN_THREADS (default 1), GUNICORN_TIMEOUT (default 30 s). No access log: the app writes one JSON line
per request itself (logger `smartqn.access`), so gunicorn's would say everything twice.
"""

from __future__ import annotations

import gc
import os
import shutil
from pathlib import Path
from typing import Any


def _int(name: str, default: int, *fallbacks: str) -> int:
    for key in (name, *fallbacks):
        raw = os.environ.get(key, "").strip()
        if raw:
            value = int(raw)
            if value < 1:
                raise ValueError(f"{key} must be at least 1, not {value}")
            return value
    return default


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# 2 sync workers for 2 cores: the work is CPU in Python (threads measured worse), and 3 or 4 workers
# served less of bench/mixed.py's workload on a busy 2-core box (bench/README.md, round 3). Overload is
# answered by the proxy in front, which admits at most max_conns requests into the app
# (deploy/nginx/smartqn-app.conf, README), then shed by the app (api/shedding.py) from the proxy's
# X-Request-Start, not by a short backlog.
workers = _int("GUNICORN_WORKERS", 2, "WEB_CONCURRENCY")
threads = _int("GUNICORN_THREADS", 1)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 20
keepalive = 5
# The app logs each request as JSON; gunicorn's own errors and lifecycle lines go to stderr.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# Heartbeat files on a tmpfs, not on the container's overlay disk (a slow disk makes workers look dead).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")


def clear_multiproc_dir(directory: str | None) -> None:
    """Empty PROMETHEUS_MULTIPROC_DIR (creating it when missing): counts left by a previous run's
    workers would otherwise be added to this run's."""
    if not directory:
        return
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for entry in path.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def on_starting(server: Any) -> None:
    clear_multiproc_dir(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def post_worker_init(worker: Any) -> None:
    """What the worker loaded (the app, its models, schemas and routes: about 200,000 objects) lives as long
    as the worker: move it out of the garbage collector's sight. Otherwise each full collection walks it
    all, a 70 ms pause in which a sync worker serves nothing and requests queue past the shedding limit
    (bench/README.md, round 3, session 9). The forms' faces are read first, so that the first form a
    worker issues does not pay for them (80 ms) and they are frozen with the rest."""
    from services.dossiers.pdf import faces

    faces()
    gc.collect()
    gc.freeze()


def child_exit(server: Any, worker: Any) -> None:
    # A dead worker's live gauges must not be summed any more (prometheus_client's multiprocess mode).
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
