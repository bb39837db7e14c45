# syntax=docker/dockerfile:1.7
#
# One image per cauce service, built from the repository root with uv:
#
#   docker build --build-arg SERVICE=cauce-gateway --build-arg MODULE=cauce_gateway \
#     --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" \
#     -t ghcr.io/<org>/cauce-gateway:0.1.0 .
#
# SERVICE is the uv workspace package (cauce-gateway, cauce-conversation, cauce-payments,
# cauce-crm-sync, cauce-notifier, cauce-identity, cauce-console; cauce-devstack for the dev-only provider sandbox) and
# MODULE what `python -m` runs (cauce_gateway, ..., cauce_devstack.sandbox).
# deploy/README.md lists every image. No HEALTHCHECK: Kubernetes probes /healthz and
# /readyz. The uv image is pinned to the Makefile's UV_VERSION.

# --- builder: resolve from uv.lock into /app/.venv ----------------------------------------
FROM python:3.12.12-slim-bookworm AS builder
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv

ARG SERVICE
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.12 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src

# Dependency layer: only the files that decide the dependencies (every workspace member's
# pyproject, since uv reads the whole workspace), so a code change reuses this layer.
COPY pyproject.toml uv.lock ./
COPY libs/contracts/pyproject.toml libs/contracts/
COPY libs/runtime/pyproject.toml libs/runtime/
COPY services/gateway/pyproject.toml services/gateway/
COPY services/conversation/pyproject.toml services/conversation/
COPY services/payments/pyproject.toml services/payments/
COPY services/crm-sync/pyproject.toml services/crm-sync/
COPY services/notifier/pyproject.toml services/notifier/
COPY services/identity/pyproject.toml services/identity/
COPY services/console/pyproject.toml services/console/
COPY devstack/pyproject.toml devstack/
RUN --mount=type=cache,target=/root/.cache/uv \
    test -n "$SERVICE" \
      || { echo "build with --build-arg SERVICE=cauce-<service> --build-arg MODULE=cauce_<service>" >&2; exit 1; }; \
    uv sync --frozen --no-dev --package "$SERVICE" --no-install-workspace

# Code layer: the workspace packages themselves, installed as wheels (not editable).
COPY libs/ libs/
COPY services/ services/
COPY devstack/ devstack/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --package "$SERVICE" --no-editable

# The console's browser libraries (htmx and its SSE extension), from npm by the
# console's lockfile, into the venv (CAUCE_ASSETS_DIR): a few hundred KB in every image.
COPY services/console/package.json services/console/package-lock.json /src/console-assets/
RUN apt-get update && apt-get install -y --no-install-recommends npm \
    && rm -rf /var/lib/apt/lists/* \
    && cd /src/console-assets && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && mkdir -p /app/.venv/share && cp -r node_modules /app/.venv/share/cauce-console

# The entry point, exec form without a shell: a two-line launcher naming MODULE, so the
# Python process is PID 1 and receives SIGTERM itself (uvicorn drains on it). The build
# fails here when MODULE is not a runnable module of SERVICE. (Declared this late so a
# different MODULE reuses the layers above.)
ARG MODULE
RUN test -n "$MODULE" || { echo "build with --build-arg MODULE=cauce_<service>" >&2; exit 1; }; \
    /app/.venv/bin/python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('${MODULE}') is None)" \
      || { echo "MODULE=${MODULE} is not importable from ${SERVICE}" >&2; exit 1; }; \
    printf '#!/app/.venv/bin/python\nimport runpy\nrunpy.run_module("%s", run_name="__main__", alter_sys=True)\n' \
      "$MODULE" > /app/.venv/bin/cauce-service \
    && chmod 0755 /app/.venv/bin/cauce-service

# --- runtime: the slim base, the venv, nothing else ---------------------------------------
FROM python:3.12.12-slim-bookworm AS runtime

ARG SERVICE
ARG MODULE
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=https://github.com/cauce/cauce
LABEL org.opencontainers.image.title="${SERVICE}" \
      org.opencontainers.image.description="cauce ${SERVICE}: python -m ${MODULE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.vendor="cauce" \
      org.opencontainers.image.base.name="docker.io/library/python:3.12.12-slim-bookworm"

RUN groupadd --system --gid 10001 cauce \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin cauce

# Owned by root and not writable by the service user; the root filesystem is read-only
# in Kubernetes anyway (only /tmp, an emptyDir, is writable).
COPY --from=builder /app/.venv /app/.venv

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CAUCE_MODULE=${MODULE} \
    CAUCE_HOST=0.0.0.0 \
    CAUCE_SPAN_FILE=/tmp/cauce/spans.jsonl
WORKDIR /app
USER 10001:10001
CMD ["/app/.venv/bin/cauce-service"]
