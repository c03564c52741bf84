"""The Docker image and compose file refer to things that exist: docker itself is not run here, so check
what it would use (the lock, the console scripts, the gunicorn config, the health probe, the services)."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def gunicorn_conf(monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    for name in ("GUNICORN_WORKERS", "WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_BIND", "GUNICORN_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "deploy" / "gunicorn.conf.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gunicorn_config_is_sane_and_takes_workers_from_the_environment(monkeypatch):
    conf = gunicorn_conf(monkeypatch)
    assert conf.workers == 2 and conf.threads == 1 and conf.bind == "0.0.0.0:8000"
    assert conf.accesslog is None  # the app's JSON access log is the only one
    assert 0 < conf.graceful_timeout <= conf.timeout
    assert gunicorn_conf(monkeypatch, GUNICORN_WORKERS="5").workers == 5
    assert gunicorn_conf(monkeypatch, WEB_CONCURRENCY="3").workers == 3
    with pytest.raises(ValueError):
        gunicorn_conf(monkeypatch, GUNICORN_WORKERS="0")
    # Every setting it defines is one gunicorn knows.
    from gunicorn.config import Config

    known = set(Config().settings)
    settings = {k for k, v in vars(conf).items() if not k.startswith("_") and not callable(v)
                and not isinstance(v, ModuleType) and k.islower() and k != "annotations"}
    assert settings <= known, settings - known
    hooks = {k for k, v in vars(conf).items() if callable(v) and k in known}
    assert hooks == {"on_starting", "post_worker_init", "child_exit"}


def test_a_worker_reads_the_forms_faces_then_freezes_what_it_loaded(monkeypatch):
    import gc

    from services.dossiers.sheet import face

    conf = gunicorn_conf(monkeypatch)
    face.cache_clear()
    try:
        conf.post_worker_init(None)
        assert gc.get_freeze_count() > 10_000  # this test process's modules, as a worker's app
        assert face.cache_info().currsize == 2  # the forms' two faces, read before the first form
    finally:
        gc.unfreeze()


def test_gunicorn_start_clears_the_prometheus_directory(monkeypatch, tmp_path):
    stale = tmp_path / "metrics"
    stale.mkdir()
    (stale / "counter_123.db").write_bytes(b"old")
    (stale / "sub").mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(stale))
    conf = gunicorn_conf(monkeypatch)
    conf.on_starting(None)
    assert stale.is_dir() and list(stale.iterdir()) == []
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "new"))
    conf.on_starting(None)
    assert (tmp_path / "new").is_dir()


def test_dockerfile_installs_the_lock_then_the_project_and_runs_gunicorn_unprivileged():
    assert re.search(r"^FROM python:3\.11-slim\b", DOCKERFILE, re.M)
    assert "pip install --require-hashes -r requirements.lock" in DOCKERFILE
    assert "pip install --no-deps ." in DOCKERFILE
    assert DOCKERFILE.index("requirements.lock") < DOCKERFILE.index("--no-deps")
    users = re.findall(r"^USER (\S+)", DOCKERFILE, re.M)
    assert users and users[-1] not in {"root", "0"}
    assert "COPY deploy/gunicorn.conf.py /etc/smartqn/gunicorn.conf.py" in DOCKERFILE
    assert 'CMD ["gunicorn", "--config", "/etc/smartqn/gunicorn.conf.py", "wsgi:app"]' in DOCKERFILE
    assert re.search(r"HEALTHCHECK .*\n.*http://127\.0\.0\.1:8000/healthz", DOCKERFILE)
    for copied in re.findall(r"^COPY (?!--from)(\S+) ", DOCKERFILE, re.M):
        assert copied == "." or (ROOT / copied).exists(), copied
    # The lock is all hashed, or --require-hashes would refuse it.
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    pins = re.findall(r"^[A-Za-z0-9_.\-\[\]]+==\S+", lock, re.M)
    assert pins and lock.count("--hash=sha256:") >= len(pins)


def test_the_image_keeps_what_the_build_needs():
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for needed in ("pyproject.toml", "requirements.lock", "wsgi.py", "worker.py", "vocab.py", "deploy", "api",
                   "services", "schemas", "notifications", "standins"):
        assert needed not in ignored


def test_compose_runs_migrations_then_the_app_and_a_worker():
    yaml = pytest.importorskip("yaml")
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"db", "redis", "migrate", "app", "worker", "stream"}
    assert services["db"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert services["worker"]["command"] == ["smartqn-worker"] and "smartqn-worker" in scripts
    migrate = " ".join(services["migrate"]["command"])
    assert "smartqn db upgrade" in migrate and "smartqn seed" in migrate and "smartqn" in scripts
    for name in ("app", "worker", "stream"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert "command" not in services["app"]  # the image's gunicorn command
    for name in ("migrate", "app", "worker", "stream"):
        assert services[name]["build"] == "."


def test_compose_serves_the_live_streams_from_the_stream_server_with_its_own_probe():
    yaml = pytest.importorskip("yaml")
    from click.testing import CliRunner

    from api.cli.events import events_cli

    stream = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))["services"]["stream"]
    command = stream["command"]
    assert command[:3] == ["smartqn", "events", "stream"]
    port = command[command.index("--port") + 1]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert any(mapping.endswith(f":{port}") for mapping in stream["ports"])
    assert f"http://127.0.0.1:{port}/healthz" in " ".join(stream["healthcheck"]["test"])
    # The command exists with those options (the console script `smartqn` is the flask CLI with the app).
    result = CliRunner().invoke(events_cli, ["stream", "--help"])
    assert result.exit_code == 0 and "--host" in result.output and "--port" in result.output


def test_the_nginx_locations_route_the_stream_paths_to_the_stream_server_unbuffered():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sample = readme[readme.index("```nginx"):]
    sample = sample[:sample.index("```", 8)]
    assert re.search(r"upstream smartqn_stream \{ server 127\.0\.0\.1:8081", sample)
    assert "include /etc/nginx/smartqn-app.conf;" in sample and "max_conns=" in sample and "zone smartqn" in sample
    locations = (ROOT / "deploy" / "nginx" / "smartqn-app.conf").read_text(encoding="utf-8")
    block = re.search(r"location ~ \^/api/v1/\(me\|admin\)/events\$ \{(.*?)\n\}", locations, re.S)
    assert block, locations
    assert "proxy_pass http://smartqn_stream" in block.group(1) and "proxy_buffering off" in block.group(1)


def test_compose_settings_start_and_use_postgresql_and_redis(monkeypatch):
    yaml = pytest.importorskip("yaml")
    from services.settings import Settings

    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    for name in ("migrate", "app", "worker", "stream"):
        env = {k: re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(v))  # compose's ${VAR:-default}
               for k, v in compose["services"][name]["environment"].items()}
        settings = Settings.from_env({k: v for k, v in env.items() if k.startswith("SMARTQN_")})
        assert settings.database_url.startswith("postgresql+psycopg://") and "@db:5432/" in settings.database_url
        assert settings.ratelimit_storage_url.startswith("redis://redis:6379")
        assert settings.push_worker == "off" and settings.env == "development"
        assert settings.base_url == "http://127.0.0.1:8000"


def test_gunicorns_log_lines_still_format_once_the_app_configured_logging():
    import logging

    from api.observability import configure_logging

    configure_logging("INFO")
    record = logging.LogRecord("gunicorn.error", logging.INFO, "", 0, "Worker exiting (pid: %s)", (42,), None)
    logging.Formatter("[%(process)d] %(message)s").format(record)  # a TypeError when the pid was not kept
    assert isinstance(record.process, int)  # gunicorn's format is "[%(asctime)s] [%(process)d] …"
