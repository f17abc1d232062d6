"""Benchmarks for nudgebot. Run `python -m benchmarks.scheduler_bench --help`."""
