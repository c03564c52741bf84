"""The push worker as a process of its own, built from the runtime without an HTTP app:
`smartqn-worker [--once]` or `python worker.py [--once]` (the same as `smartqn notifications worker`)."""

from __future__ import annotations

import json
import sys

from api.push import make_worker, run
from services.runtime import Runtime
from services.settings import Settings


def main() -> None:
    stats = run(make_worker(Runtime.build(Settings.from_env())), once="--once" in sys.argv[1:])
    if stats is not None:
        print(json.dumps(stats))


if __name__ == "__main__":
    main()
