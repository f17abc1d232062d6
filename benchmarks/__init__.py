"""Benchmarks of nudgebot's delivery engine: `python -m benchmarks --help`."""
