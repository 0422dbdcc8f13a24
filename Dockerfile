# syntax=docker/dockerfile:1
#
# One image for every Couture service: `docker run IMAGE scheduler|executor|registry|auth|gateway`
# or `IMAGE standalone`. Build from the repository root:
#
#   docker build -t couture:0.1.0 .
#
# Base images are pinned to a patch release; for a release build pin them further by digest
# (--build-arg PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:...).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm
ARG NODE_IMAGE=node:22.21.1-bookworm-slim

# --- the web UI: static files only, so nothing of node reaches the final image -----------------
FROM ${NODE_IMAGE} AS ui
WORKDIR /src/ui
COPY ui/package.json ui/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY ui/ ./
RUN npm run build

# --- the Python package and its pinned dependencies, in a virtual environment ------------------
FROM ${PYTHON_IMAGE} AS python
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/couture/venv
WORKDIR /opt/couture/app
# The pinned dependencies first, in a layer of their own: a change to the code alone reuses it.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && /opt/couture/venv/bin/pip install -r /tmp/requirements.txt
COPY README.md ./
COPY libs/ libs/
COPY services/ services/
# Editable: the gateway serves the UI from <source root>/ui/dist (couture_gateway/ui.py), so the
# packages stay in this tree, which the runtime stage copies to the same path.
RUN /opt/couture/venv/bin/pip install --no-deps -e . \
    && /opt/couture/venv/bin/python -m compileall -q libs services

# --- runtime -----------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="couture" \
      org.opencontainers.image.description="Couture Workflow Orchestrator: every service in one image"

# A fixed, non-root uid/gid, so volumes and the Kubernetes securityContext can name them.
RUN groupadd --system --gid 10001 couture \
    && useradd --system --uid 10001 --gid couture --home-dir /var/lib/couture --no-create-home \
       --shell /usr/sbin/nologin couture \
    && install -d -o couture -g couture -m 0750 /var/lib/couture

COPY --from=python /opt/couture /opt/couture
COPY --from=ui /src/ui/dist /opt/couture/app/ui/dist

ENV PATH=/opt/couture/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    COUTURE_HOME=/var/lib/couture \
    COUTURE_HOST=0.0.0.0 \
    COUTURE_PORT=8080

USER 10001:10001
WORKDIR /var/lib/couture
VOLUME ["/var/lib/couture"]
EXPOSE 8080 8090 6066

# One image, several services: each answers liveness on one of these, so the check tries them in
# turn (scheduler and executor on COUTURE_HEALTH_PORT; registry, auth and gateway on COUTURE_PORT;
# standalone at the API's monitor route; streams on faust's web port, 6066). The slim image has no
# curl: the venv's Python asks.
HEALTHCHECK --interval=15s --timeout=8s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r\nhealth, port = os.environ.get('COUTURE_HEALTH_PORT', '8090'), os.environ.get('COUTURE_PORT', '8080')\nfor url in (f'http://127.0.0.1:{health}/health', f'http://127.0.0.1:{port}/health', f'http://127.0.0.1:{port}/api/v2/monitor/health', 'http://127.0.0.1:6066/'):\n    try:\n        r.urlopen(url, timeout=2)\n        raise SystemExit(0)\n    except OSError:\n        pass\nraise SystemExit(1)"]

ENTRYPOINT ["couture"]
CMD ["standalone"]
