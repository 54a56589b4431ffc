"""Settings of the load test's gunicorn and Celery worker (bench/load.py): the portal's
production settings (config.settings, DEBUG off) unchanged, except that collected static
files come from the temporary folder BENCH_STATIC_ROOT, so that the bench never writes
the checkout's staticfiles/."""

import os

from config.settings import *  # noqa: F403

STATIC_ROOT = os.environ["BENCH_STATIC_ROOT"]
