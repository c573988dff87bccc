# syntax=docker/dockerfile:1
# levibot predictor image: FastAPI + onnxruntime service for one model version.
# Build from the repository root:  docker build -f images/predictor.Dockerfile -t levibot/predictor .
# Multi-stage: the builder installs the pinned set (images/requirements-predictor.txt, wheels only)
# into /opt/venv; the runtime copies that venv and the sources, runs as uid 10001 and writes
# nothing outside /tmp (bytecode is compiled at build time), so readOnlyRootFilesystem works.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
COPY images/requirements-predictor.txt /tmp/requirements.txt
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-deps --only-binary=:all: --require-virtualenv -r /tmp/requirements.txt \
 && /opt/venv/bin/pip check
COPY common/levibot_common /app/common/levibot_common
COPY predictor/levibot_predictor /app/predictor/levibot_predictor
RUN /opt/venv/bin/python -m compileall -q /app

FROM ${PYTHON_IMAGE}
# Owner of /app: root (read-only to the app user); Tilt's dev build passes 10001 for live_update.
ARG APP_OWNER=0
LABEL org.opencontainers.image.title="levibot-predictor" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONPATH=/app/common:/app/predictor \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder --chown=${APP_OWNER}:${APP_OWNER} /app /app
USER 10001:10001
WORKDIR /tmp
EXPOSE 8080
ENTRYPOINT ["python", "-m", "levibot_predictor"]
