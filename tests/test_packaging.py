"""The wheel runs the app outside a checkout: it ships wsgi.py, worker.py, vocab.py, the Alembic
migrations and the catalog, and installs the `smartqn` and `smartqn-worker` console scripts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["pyproject.toml", "vocab.py", "wsgi.py", "worker.py", "api", "services", "schemas", "notifications",
           "standins"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built from a copy of the sources, so a stale build/ of the checkout cannot leak into it."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q", "-w", str(out)],
                           capture_output=True, text=True)
    if built.returncode and "setuptools" in built.stderr and "distribution" in built.stderr:
        pytest.skip("setuptools, which builds the wheel, cannot be fetched here")
    assert built.returncode == 0, built.stderr
    return next(out.glob("*.whl"))


def test_the_wheel_ships_the_entry_points_and_the_migrations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"wsgi.py", "worker.py", "vocab.py"} <= names
    migrations = ROOT / "services" / "migrations"
    scripts = {"env.py", "script.py.mako", *(f"versions/{p.name}" for p in (migrations / "versions").glob("*.py"))}
    assert {f"services/migrations/{name}" for name in scripts} <= names
    assert "services/seed_data/danang.json" in names
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "smartqn = api.cli:main" in entry_points and "smartqn-worker = worker:main" in entry_points


def test_the_installed_wheel_migrates_and_seeds_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps",
                    "-q", str(wheel)], check=True)
    # The dependencies come from this interpreter's site-packages (where the project itself is only an
    # editable finder, inactive on PYTHONPATH): the project's code is the wheel's.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTQN_")}
    env |= {"SMARTQN_INSTANCE_DIR": str(tmp_path / "instance"), "SMARTQN_PUSH_SENDER": "log",
            "PYTHONPATH": os.pathsep.join({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})}

    def run(*args: str) -> str:
        done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    where = run(str(venv / "bin" / "python"), "-c", "import services.migrations as m; print(m.SCRIPT_LOCATION)")
    assert Path(where.strip()).is_relative_to(venv)
    run(str(venv / "bin" / "smartqn"), "db", "upgrade")
    assert "catalog: " in run(str(venv / "bin" / "smartqn"), "seed")
    assert '"sent": 0' in run(str(venv / "bin" / "smartqn-worker"), "--once")
