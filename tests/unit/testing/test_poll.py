"""``flink_py.testing.poll.wait_until``: the one way tests and benchmarks wait."""

from __future__ import annotations

import threading
import time
from typing import List

import pytest

from flink_py.testing.poll import wait_until


def test_returns_the_first_truthy_value_of_the_condition() -> None:
    answers = iter([None, 0, [], "ready", "later"])
    assert wait_until(lambda: next(answers), "an answer") == "ready"


def test_sees_a_condition_that_holds_at_once_without_pausing() -> None:
    started = time.monotonic()
    assert wait_until(lambda: True, "nothing", interval_s=5.0) is True
    assert time.monotonic() - started < 1.0


def test_sees_what_another_thread_does() -> None:
    seen: List[int] = []
    timer = threading.Timer(0.05, seen.append, args=(7,))
    timer.start()
    try:
        assert wait_until(lambda: seen, "the timer's value") == [7]
    finally:
        timer.cancel()
        timer.join()


def test_a_deadline_that_passes_fails_naming_what_was_awaited() -> None:
    polls: List[float] = []

    def never() -> bool:
        polls.append(time.monotonic())
        return False

    started = time.monotonic()
    with pytest.raises(AssertionError, match=r"timed out after 0\.2 s waiting for the moon"):
        wait_until(never, "the moon", timeout_s=0.2, interval_s=0.05)
    assert time.monotonic() - started >= 0.2
    # polled again at the deadline, and not busily: every 2 ms at first, then a tenth of
    # the time waited
    assert 2 <= len(polls) <= 60
    assert polls[-1] - started >= 0.2


def test_the_pause_between_polls_never_exceeds_the_interval() -> None:
    polls: List[float] = []
    with pytest.raises(AssertionError):
        wait_until(lambda: polls.append(time.monotonic()), "never", timeout_s=1.5,
                   interval_s=0.02)
    gaps = [b - a for a, b in zip(polls, polls[1:])]
    # without the cap the last pauses would be 150 ms (a tenth of the time waited); the
    # slack is for scheduling on a loaded machine
    assert max(gaps) < 0.02 + 0.08
    assert len(polls) >= 20


def test_an_exception_of_the_condition_ends_the_wait() -> None:
    def broken() -> bool:
        raise KeyError("no such job")

    with pytest.raises(KeyError, match="no such job"):
        wait_until(broken, "a broken condition")


@pytest.mark.parametrize("timeout_s, interval_s", [(0, 0.01), (-1, 0.01), (1, 0)])
def test_a_timeout_or_interval_that_is_not_positive_is_rejected(timeout_s: float,
                                                                interval_s: float) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        wait_until(lambda: True, "anything", timeout_s=timeout_s, interval_s=interval_s)
