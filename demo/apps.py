from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for `make run` (`manage.py seed_demo`) and sample files for tests and
    benchmarks: development tooling, on top of every product app."""

    name = "demo"
