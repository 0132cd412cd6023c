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
#: the shortest pause between two polls (seconds)
_MIN_INTERVAL_S = 0.002
#: the pause as a share of the time waited so far: what is seen late is seen at most this
#: much (relatively) late
_INTERVAL_SHARE = 0.1


def wait_until(condition: Callable[[], T], what: str, *, timeout_s: float = DEADLINE_S,
               interval_s: float = MAX_INTERVAL_S) -> T:
    """Polls ``condition`` until it returns a truthy value, and returns that value.

    The pause between polls is a tenth of the time waited so far, at least 2 ms and at most
    ``interval_s``: what happens in-process within milliseconds is seen within
    milliseconds, while a wait on daemons that lasts seconds does not poll their REST
    endpoints hundreds of times a second. An exception raised by ``condition`` ends the
    wait with that exception.

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
    started = time.monotonic()
    deadline = started + timeout_s
    while True:
        value = condition()
        if value:
            return value
        now = time.monotonic()
        if now >= deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        pause = min(interval_s, max(_MIN_INTERVAL_S, (now - started) * _INTERVAL_SHARE))
        time.sleep(min(pause, deadline - now))  # a polling interval, not synchronization
