"""Waiting in tests and benchmarks: poll a condition until it holds or a deadline passes.

Tests never synchronize with ``sleep``; they wait for an observable condition (a job's
state, a file, a thread's end) with a deadline, so a slow machine makes them slower, not
flaky, and a broken runtime makes them fail with the name of what never happened::

    >>> wait_until(lambda: 6 * 7, "the answer")
    42
"""

from __future__ import annotations

import time
from typing import Callable, TypeVar

__all__ = ["DEADLINE_S", "MAX_INTERVAL_S", "wait_until"]

T = TypeVar("T")

#: how long a wait lasts by default before it fails: generous, since the machine running the
#: tests may be loaded; a wait only takes that long when the awaited thing never happens
DEADLINE_S = 30.0
#: the longest pause between two polls by default (seconds)
MAX_INTERVAL_S = 0.05
#: the first pause between two polls (seconds); it doubles up to the longest one
_FIRST_INTERVAL_S = 0.001


def wait_until(condition: Callable[[], T], what: str, *, timeout_s: float = DEADLINE_S,
               interval_s: float = MAX_INTERVAL_S) -> T:
    """Polls ``condition`` until it returns a truthy value, and returns that value.

    The pause between polls starts at a millisecond and doubles up to ``interval_s``: what
    happens in-process usually holds within milliseconds and is seen at once, while a wait
    on daemons lasts seconds and should not poll their REST endpoints hundreds of times a
    second. An exception raised by ``condition`` ends the wait with that exception.

    :param condition: called until it returns a truthy value.
    :param what: what is awaited, for the error ("the job FINISHED").
    :param timeout_s: how long to wait at the most, in seconds.
    :param interval_s: the longest pause between two polls, in seconds.
    :return: the first truthy value ``condition`` returned.
    :raises AssertionError: naming ``what`` when ``timeout_s`` passes first.
    """
    if timeout_s <= 0 or interval_s <= 0:
        raise ValueError(f"timeout_s and interval_s must be positive, got {timeout_s} and "
                         f"{interval_s}")
    deadline = time.monotonic() + timeout_s
    pause = min(_FIRST_INTERVAL_S, interval_s)
    while True:
        value = condition()
        if value:
            return value
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(min(pause, left))  # a polling interval, not synchronization
        pause = min(pause * 2, interval_s)
