# syntax=docker/dockerfile:1
# smartqn-backend under gunicorn. Build: `docker build -t smartqn-backend .`; run it with compose.yaml
# (PostgreSQL, Redis, migrations, the app and a push worker) or set SMARTQN_* yourself (README, operators).

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
# The exact versions with their hashes first (a layer that changes only with the lock)...
COPY requirements.lock ./
RUN python -m venv /opt/smartqn \
 && /opt/smartqn/bin/pip install --require-hashes -r requirements.lock
# ...then the project itself, without resolving anything again.
COPY . .
RUN /opt/smartqn/bin/pip install --no-deps . \
 && /opt/smartqn/bin/smartqn --help >/dev/null \
 && test -x /opt/smartqn/bin/smartqn-worker

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/smartqn/bin:$PATH \
    SMARTQN_INSTANCE_DIR=/var/lib/smartqn \
    PROMETHEUS_MULTIPROC_DIR=/tmp/smartqn-metrics \
    GUNICORN_BIND=0.0.0.0:8000
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/smartqn --create-home --shell /usr/sbin/nologin smartqn \
 && install -d -o smartqn -g smartqn /tmp/smartqn-metrics
COPY --from=build /opt/smartqn /opt/smartqn
COPY deploy/gunicorn.conf.py /etc/smartqn/gunicorn.conf.py
USER smartqn
WORKDIR /var/lib/smartqn
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["gunicorn", "--config", "/etc/smartqn/gunicorn.conf.py", "wsgi:app"]
