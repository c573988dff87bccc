# syntax=docker/dockerfile:1
# levibot operator image: kopf operator reconciling ModelDeployments and Canaries, plus the Alertmanager webhook.
# Build from the repository root:  docker build -f images/operator.Dockerfile -t levibot/operator .
# Multi-stage: the builder installs the pinned set (images/requirements-operator.txt, wheels only)
# into /opt/venv; the runtime copies that venv and the sources, runs as uid 10001 and writes
# nothing outside /tmp (bytecode is compiled at build time), so readOnlyRootFilesystem works.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
COPY images/requirements-operator.txt /tmp/requirements.txt
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-deps --only-binary=:all: --require-virtualenv -r /tmp/requirements.txt \
 && /opt/venv/bin/pip check
COPY common/levibot_common /app/common/levibot_common
COPY operator/levibot_operator /app/operator/levibot_operator
RUN /opt/venv/bin/python -m compileall -q /app

FROM ${PYTHON_IMAGE}
# Owner of /app: root (read-only to the app user); Tilt's dev build passes 10001 for live_update.
ARG APP_OWNER=0
LABEL org.opencontainers.image.title="levibot-operator" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONPATH=/app/common:/app/operator \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder --chown=${APP_OWNER}:${APP_OWNER} /app /app
USER 10001:10001
WORKDIR /tmp
EXPOSE 8443
ENTRYPOINT ["python", "-m", "levibot_operator"]
