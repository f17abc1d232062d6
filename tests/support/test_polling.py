"""The one polling helper the tests share."""

from __future__ import annotations

import time

import pytest

from tests.support.polling import wait_until


def test_it_returns_what_the_condition_returned_once_it_holds() -> None:
    calls: list[int] = []

    def third_time_lucky() -> str:
        calls.append(1)
        return "ready" if len(calls) == 3 else ""

    assert wait_until(third_time_lucky, timeout=5, what="luck", interval=0.001) == "ready"
    assert len(calls) == 3


def test_a_timeout_says_what_it_waited_for_and_the_details() -> None:
    started = time.monotonic()
    with pytest.raises(AssertionError) as failure:
        wait_until(lambda: False, timeout=0.1, what="the moon", details=lambda: "sky: clouds")
    assert time.monotonic() - started >= 0.1
    assert str(failure.value) == "timed out after 0.1 s waiting for the moon:\nsky: clouds"


def test_a_condition_that_raises_gives_up_at_once() -> None:
    def dead() -> bool:
        raise AssertionError("the process exited")

    started = time.monotonic()
    with pytest.raises(AssertionError, match="the process exited"):
        wait_until(dead, timeout=30, what="a log line")
    assert time.monotonic() - started < 5
