"""Benchmarks of the portal against a large, dedicated database (see bench/README.md)."""
