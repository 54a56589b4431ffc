"""Real processes for integration tests: an SMTP sink, a Celery worker on the test
database, a private redis-server. They live in devtools/live.py, shared with bench/."""

from devtools.live import RedisServer, SmtpSink, Worker, database_url, free_port, point_celery_at

__all__ = ["RedisServer", "SmtpSink", "Worker", "database_url", "free_port", "point_celery_at"]
