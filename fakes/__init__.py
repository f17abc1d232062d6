"""Fakes of the services nudgebot talks to, shared by the tests and the benchmarks.

`telegram_api`: a Bot API server on 127.0.0.1 that behaves like Telegram where it matters.
"""
