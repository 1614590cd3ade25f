# syntax=docker/dockerfile:1
# signalbank worker / simulator / topics-init image.
#   docker build -t signalbank:local .
#   docker run --rm signalbank:local signalbank --help
# Every runtime dependency ships manylinux wheels for CPython 3.11 on x86_64, so no compiler
# is needed; the build stage only turns the source tree into a wheel.

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY . .
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM ${PYTHON_IMAGE}
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SIGNALBANK_WEB_BIND=0.0.0.0 \
    SIGNALBANK_WEB_PORT=6066 \
    SIGNALBANK_DATA_DIR=/var/lib/signalbank

RUN groupadd --system --gid 10001 signalbank \
 && useradd --system --uid 10001 --gid signalbank --home-dir /var/lib/signalbank \
        --shell /usr/sbin/nologin signalbank \
 && mkdir -p /var/lib/signalbank \
 && chown signalbank:signalbank /var/lib/signalbank

COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels

USER signalbank
WORKDIR /var/lib/signalbank
EXPOSE 6066

# No HEALTHCHECK here: the same image runs the simulator and the topics-init job, which serve no /healthz.
# docker-compose.yml gives the worker service its /healthz check.

CMD ["signalbank", "worker", "-l", "info"]
