# syntax=docker/dockerfile:1
# Production image of the permit portal. The same image runs the web server (the default
# command, gunicorn), the Celery worker, Celery beat, the migrations and the backups: see
# docker-compose.yml.
FROM python:3.11-slim-bookworm

# WeasyPrint renders the permit PDFs with Pango and HarfBuzz; DejaVu guarantees a font.
# postgresql-client: pg_dump/pg_restore for scripts/backup.py. Debian bookworm ships
# version 15, and pg_dump cannot dump a newer server: docker-compose.yml runs postgres:15.
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
        postgresql-client \
    && rm -rf /var/lib/apt/lists/*

# Pinned, so that an image rebuilt later resolves uv.lock the same way.
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=python3 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH="/app/.venv/bin:${PATH}" \
    WEB_CONCURRENCY=3

WORKDIR /app

# Dependencies first: this layer is rebuilt only when the lock file changes, not on every
# code change. --no-dev: no pytest, Playwright or ruff in production.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project --no-cache

COPY . .

# Static files are collected into the image. In docker-compose.yml the "static" volume is
# mounted over /app/staticfiles (nginx serves it); the migrate service collects into it on
# every `up`, so it follows the image after an upgrade.
# Settings refuse to load without a secret key and a database URL when DEBUG is off; these
# placeholders exist only for this one command (no database is contacted) and are not kept.
RUN DJANGO_SECRET_KEY=collectstatic-only-not-a-secret \
    DATABASE_URL=postgres://build@localhost/build \
    python manage.py collectstatic --noinput -v0

# Run as an unprivileged user (uid 10001, which deploy/nginx/Dockerfile shares); it may
# write only var/ (uploads, beat schedule, file mail), staticfiles/ (collectstatic into the
# volume) and /backups (scripts/backup.py).
RUN useradd --system --user-group --uid 10001 --home-dir /app --no-create-home portal \
    && mkdir -p /app/var/media /app/var/mail /backups \
    && chown -R portal:portal /app/var /app/staticfiles /backups
USER portal

EXPOSE 8000
# Workers: WEB_CONCURRENCY (gunicorn reads it). PDF rendering can take a while: --timeout 60.
# Heartbeat files in memory (/dev/shm), not on the container's overlay file system.
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--timeout", "60", "--worker-tmp-dir", "/dev/shm", "--access-logfile", "-"]
