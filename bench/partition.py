"""Splitting this one box as if the client ran on another machine (bench/mixed.py --server-cpus, --client-cpus):
the app server and every PostgreSQL process on some cores, the client on the others."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def pinned(cpus: set[int] | None) -> Callable[[], None] | None:
    """A child's preexec_fn that pins it (and whatever it forks: gunicorn's workers) to `cpus`."""
    return None if cpus is None else lambda: os.sched_setaffinity(0, cpus)


def postgres_pids() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/comm") as f:
                if entry.isdigit() and f.read().startswith("postgres"):
                    pids.append(int(entry))
        except OSError:
            continue
    return pids


@contextmanager
def partitioned(server_cpus: set[int] | None, client_cpus: set[int] | None) -> Iterator[None]:
    """This client on `client_cpus`, every PostgreSQL process on `server_cpus` (new backends are forked by
    the postmaster, so they follow it); PostgreSQL's own affinity back afterwards."""
    if server_cpus is None or client_cpus is None:
        yield
        return
    before = {pid: os.sched_getaffinity(pid) for pid in postgres_pids()}
    if not before:
        sys.exit("--server-cpus: no PostgreSQL process on this machine to pin")
    own, usual = os.sched_getaffinity(0), set().union(*before.values())
    try:
        try:
            for pid in before:
                os.sched_setaffinity(pid, server_cpus)
        except PermissionError:
            sys.exit("--server-cpus: pinning PostgreSQL's processes needs root or the postgres user")
        os.sched_setaffinity(0, client_cpus)
        yield
    finally:  # every PostgreSQL process back as it was (one started meanwhile: as they all were)
        os.sched_setaffinity(0, own)
        for pid in postgres_pids():
            with contextlib.suppress(OSError):  # ended meanwhile, or not ours to set
                os.sched_setaffinity(pid, before.get(pid, usual))


def cpu_set(spec: str | None) -> set[int] | None:
    """`0`, `0,1` or `0-3` as a set of CPU numbers."""
    if spec is None:
        return None
    cpus: set[int] = set()
    for part in spec.split(","):
        first, _, last = part.partition("-")
        cpus.update(range(int(first), int(last or first) + 1))
    return cpus
