# Second Look's container image: `second-look serve` as a non-root user, from Debian's python3
# (a base any team can build without a registry: scripts/podman.sh makes debian:bookworm-slim
# with mmdebstrap). README, "Deployment", says how to build and run it.

# ---- builder: the project's wheel, and a venv of the locked dependencies and that wheel ------
FROM debian:bookworm-slim AS builder
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Debian's python3 is 3.11, the Python deploy/requirements.lock is written for. Debian's packages
# are not pinned: the mirror keeps only the current version of each (security updates).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
# pip's proxy, index and certificate as the building machine has them (scripts/podman.sh passes
# them): arguments of this stage only, so nothing of them reaches the final image. pip trusts
# the system's certificates (a base image made with the machine's own CA has it there).
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_TRUSTED_HOST
ARG PIP_CERT=/etc/ssl/certs/ca-certificates.crt
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_DEFAULT_TIMEOUT=60
WORKDIR /src
# The dependencies first, in their own layer: a change of the code does not download them again.
COPY deploy/requirements.lock deploy/requirements.lock
RUN python3 -m venv /opt/second-look \
    && /opt/second-look/bin/pip install --no-deps --only-binary=:all: \
        -r deploy/requirements.lock
COPY . .
RUN python3 -m venv /opt/build \
    && /opt/build/bin/pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/second-look/bin/pip install --no-deps /wheels/*.whl \
    && /opt/second-look/bin/pip uninstall --yes pip setuptools \
    && /opt/second-look/bin/second-look --help > /dev/null

# ---- the image: Debian's python3 and the venv; no compiler, no pip, no sources ---------------
FROM debian:bookworm-slim
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 second-look \
    && useradd --system --no-log-init --uid 10001 --gid second-look \
        --home-dir /var/lib/second-look --create-home second-look
COPY --from=builder /opt/second-look /opt/second-look
ENV PATH=/opt/second-look/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/var/lib/second-look
# `.env` is read from here when an operator mounts one (compose and Kubernetes pass the
# environment instead); the embedded PostgreSQL, when DATABASE_URL is unset, lives here too.
WORKDIR /var/lib/second-look
USER 10001:10001
EXPOSE 8080
# 200 once the database answers. Python's urllib: no curl in the image.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8080'), timeout=4)"]
# SIGTERM: stop listening, give running reviews SHUTDOWN_TIMEOUT (25 s) to finish, hand the rest
# back to the queue. Give the container longer than that to stop (`podman run --stop-timeout 35`,
# compose's stop_grace_period), or it is killed at the runtime's default of 10 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["second-look"]
CMD ["serve"]
