# ajam-gateway container image. NOT built in this project's CI (there is no
# Docker engine there); tests/deploy/test_container.py checks this file's
# instructions statically. docs/deployment.md, "Container", shows its use:
#
#   docker build -t ajam-gateway .
#   docker run --rm -p 8088:8088 ajam-gateway --demo --host 0.0.0.0
#   docker compose -f deploy/docker-compose.yml up -d    # with nginx in front
#
# The configuration is read from the /etc/ajam-gateway volume (gateway.toml by
# default: any other file with --config) and secrets from the environment
# (secret_env / password_env); the SQLite history lives in the
# /var/lib/ajam-gateway volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AJAM_READYZ_URL=http://127.0.0.1:8088/readyz

# A fixed uid/gid, so that files on a bind-mounted config or state directory
# can be given to it: chown 10001 (readable config), 10001 (state).
RUN groupadd --system --gid 10001 ajam-gateway \
    && useradd --system --uid 10001 --gid ajam-gateway --no-create-home \
        --home-dir /var/lib/ajam-gateway --shell /usr/sbin/nologin ajam-gateway \
    && install -d -m 0750 -o root -g ajam-gateway /etc/ajam-gateway \
    && install -d -m 0700 -o ajam-gateway -g ajam-gateway /var/lib/ajam-gateway

WORKDIR /usr/src/ajam-gateway
COPY pyproject.toml README.md LICENSE ./
COPY gateway ./gateway
# Both CDR database drivers, so that [history] backend = "mysql" or
# "postgresql" works in the image too. This installs the project from the
# build context; its dependencies' ranges are in pyproject.toml.
# hadolint ignore=DL3013
RUN pip install --no-cache-dir ".[mysql,postgresql]"
COPY config/gateway.example.toml config/manager.conf.example /usr/share/ajam-gateway/

VOLUME ["/etc/ajam-gateway", "/var/lib/ajam-gateway"]
# 8088: AJAM over HTTP (and /metrics, /healthz, /readyz); 5039: the AMI
# front door once the gateway serves AMI clients itself.
EXPOSE 8088 5039

# Numeric, so that a runtime that checks for non-root (runAsNonRoot) can tell.
USER 10001:10001
WORKDIR /var/lib/ajam-gateway
# slim has no curl: Python's urllib. A 503 (draining, or AMI not logged in
# yet) raises, so the check fails; set AJAM_READYZ_URL for another port.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['AJAM_READYZ_URL'], timeout=4)"]
# SIGTERM starts the drain ([http] drain_time, 10 s): give `docker stop` more
# than that (docker-compose.yml sets stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["ajam-gateway"]
CMD ["--config", "/etc/ajam-gateway/gateway.toml"]
