#!/usr/bin/env bash
# `make run`: the whole portal on one machine (web, Celery worker, Celery beat) for
# development. Started by `scripts/services.py exec`, so DATABASE_URL and REDIS_URL are set.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Development mode, always: DEBUG serves static files through runserver and allows the
# built-in development secret key.
export DJANGO_DEBUG=true
# Emails land as files under var/mail instead of leaving the machine. Four slashes in all:
# django-environ drops the first slash of the path, and the path must stay absolute.
export EMAIL_URL="${EMAIL_URL:-filemail:///$PWD/var/mail}"
mkdir -p var/mail

.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py collectstatic --noinput -v0
.venv/bin/python manage.py seed_demo --if-empty  # prints the demo logins
# Emails come from the demo district's own address (its row, as the admin left it),
# not the settings' placeholder; a DEFAULT_FROM_EMAIL set by the caller wins. The
# outbox cannot read the district itself: it imports only Django (README.md, Layout).
if [[ -z "${DEFAULT_FROM_EMAIL:-}" ]]; then
  DEFAULT_FROM_EMAIL="$(.venv/bin/python manage.py demo_sender)"
  export DEFAULT_FROM_EMAIL
fi

# exec: honcho becomes the child that services.py signals and waits for.
exec .venv/bin/honcho start -f Procfile
