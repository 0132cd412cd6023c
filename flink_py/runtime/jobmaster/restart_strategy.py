"""Restart strategies: whether a failed job may restart, and after how long (Flink's
RestartBackoffTimeStrategy).

The JobMaster calls ``notify_failure()`` once per failure it handles, then asks
``can_restart()`` and ``backoff_time_ms()``. Strategies read time from an injected clock
(milliseconds), so tests drive them with a manual clock.

``restart-strategy.type``: ``none`` (``off``, ``disable``), ``fixed-delay`` (``fixeddelay``),
``failure-rate`` (``failurerate``), ``exponential-delay`` (``exponentialdelay``); unset, Flink
2.x's default: exponential-delay when checkpointing is on (``execution.checkpointing.interval``
set), none otherwise.
"""

from __future__ import annotations

import collections
import random
import time
from typing import Callable, Deque, Optional, Protocol

from flink_py.common import config_options as options
from flink_py.common.configuration import Configuration
from flink_py.errors import FlinkPyError

#: a clock in milliseconds
Clock = Callable[[], int]


def _wall_clock_ms() -> int:
    return time.monotonic_ns() // 1_000_000


class RestartBackoffTimeStrategy(Protocol):
    """Decides about restarts, one failure at a time."""

    def notify_failure(self) -> None:
        """A failure happened now."""
        ...

    def can_restart(self) -> bool:
        ...

    def backoff_time_ms(self) -> int:
        """How long to wait before restarting, from now."""
        ...


class NoRestartBackoffTimeStrategy:
    """``none``: every failure fails the job."""

    def notify_failure(self) -> None:
        pass

    def can_restart(self) -> bool:
        return False

    def backoff_time_ms(self) -> int:
        return 0

    def __str__(self) -> str:
        return "NoRestartBackoffTimeStrategy"


class FixedDelayRestartBackoffTimeStrategy:
    """``fixed-delay``: up to ``max_attempts`` restarts, each after ``delay_ms``."""

    def __init__(self, max_attempts: int, delay_ms: int) -> None:
        if max_attempts < 0 or delay_ms < 0:
            raise FlinkPyError(f"fixed-delay needs attempts >= 0 and delay >= 0, got "
                               f"attempts={max_attempts}, delay={delay_ms} ms")
        self.max_attempts = max_attempts
        self.delay_ms = delay_ms
        self.current_restart_attempt = 0

    def notify_failure(self) -> None:
        self.current_restart_attempt += 1

    def can_restart(self) -> bool:
        return self.current_restart_attempt <= self.max_attempts

    def backoff_time_ms(self) -> int:
        return self.delay_ms

    def __str__(self) -> str:
        return (f"FixedDelayRestartBackoffTimeStrategy(maxNumberRestartAttempts="
                f"{self.max_attempts}, backoffTimeMS={self.delay_ms})")


class FailureRateRestartBackoffTimeStrategy:
    """``failure-rate``: the job fails once ``max_failures_per_interval`` failures fall within
    ``interval_ms``; otherwise it restarts after ``delay_ms``."""

    def __init__(self, max_failures_per_interval: int, interval_ms: int, delay_ms: int,
                 clock: Clock = _wall_clock_ms) -> None:
        if max_failures_per_interval < 1 or interval_ms < 1 or delay_ms < 0:
            raise FlinkPyError(
                f"failure-rate needs max-failures-per-interval >= 1, interval >= 1 ms and "
                f"delay >= 0, got {max_failures_per_interval}, {interval_ms} ms, {delay_ms} ms")
        self.max_failures_per_interval = max_failures_per_interval
        self.interval_ms = interval_ms
        self.delay_ms = delay_ms
        self._clock = clock
        self._failures: Deque[int] = collections.deque()

    def _full(self) -> bool:
        return len(self._failures) >= self.max_failures_per_interval

    def notify_failure(self) -> None:
        if self._full():
            self._failures.popleft()
        self._failures.append(self._clock())

    def can_restart(self) -> bool:
        if self._full():
            return self._clock() - self._failures[0] > self.interval_ms
        return True

    def backoff_time_ms(self) -> int:
        return self.delay_ms

    def __str__(self) -> str:
        return (f"FailureRateRestartBackoffTimeStrategy(failuresIntervalMS={self.interval_ms}, "
                f"backoffTimeMS={self.delay_ms}, maxFailuresPerInterval="
                f"{self.max_failures_per_interval})")


class ExponentialDelayRestartBackoffTimeStrategy:
    """``exponential-delay``: the delay starts at ``initial_backoff_ms`` and grows by
    ``multiplier`` up to ``max_backoff_ms``, with +-``jitter_factor`` random jitter; after
    ``reset_threshold_ms`` without failure (counted from when the last restart was due) it
    starts over. At most ``attempts_before_reset`` restarts without such a reset.

    Failures that arrive while a restart is still pending are merged into that restart
    (Flink: they do not count as another attempt).
    """

    def __init__(self, initial_backoff_ms: int, max_backoff_ms: int, multiplier: float,
                 reset_threshold_ms: int, jitter_factor: float,
                 attempts_before_reset: int = 2 ** 31 - 1, clock: Clock = _wall_clock_ms,
                 rng: Optional[random.Random] = None) -> None:
        if initial_backoff_ms < 1 or max_backoff_ms < initial_backoff_ms or multiplier < 1 \
                or reset_threshold_ms < 1 or not 0.0 <= jitter_factor <= 1.0 \
                or attempts_before_reset < 1:
            raise FlinkPyError(
                f"exponential-delay needs initial-backoff >= 1 ms, max-backoff >= "
                f"initial-backoff, backoff-multiplier >= 1, reset-backoff-threshold >= 1 ms, "
                f"jitter-factor in [0, 1] and attempts >= 1; got initial={initial_backoff_ms} "
                f"ms, max={max_backoff_ms} ms, multiplier={multiplier}, reset="
                f"{reset_threshold_ms} ms, jitter={jitter_factor}, attempts="
                f"{attempts_before_reset}")
        self.initial_backoff_ms = initial_backoff_ms
        self.max_backoff_ms = max_backoff_ms
        self.multiplier = multiplier
        self.reset_threshold_ms = reset_threshold_ms
        self.jitter_factor = jitter_factor
        self.attempts_before_reset = attempts_before_reset
        self._clock = clock
        self._rng = rng or random.Random()
        self.current_restart_attempt = 0
        self.current_backoff_ms = 0
        self._next_restart_ms: Optional[int] = None

    def notify_failure(self) -> None:
        now = self._clock()
        if self._next_restart_ms is not None and now <= self._next_restart_ms:
            return  # merged into the pending restart
        if self._next_restart_ms is not None and \
                now - self._next_restart_ms >= self.reset_threshold_ms:
            self.current_restart_attempt = 0
            self.current_backoff_ms = 0
        self.current_restart_attempt += 1
        if self.current_backoff_ms == 0:
            backoff = self.initial_backoff_ms
        else:
            backoff = min(int(self.current_backoff_ms * self.multiplier), self.max_backoff_ms)
        self.current_backoff_ms = backoff
        jitter = int(backoff * self.jitter_factor)
        delay = backoff + (self._rng.randint(-jitter, jitter) if jitter > 0 else 0)
        self._next_restart_ms = now + max(0, min(delay, self.max_backoff_ms))

    def can_restart(self) -> bool:
        return self.current_restart_attempt <= self.attempts_before_reset

    def backoff_time_ms(self) -> int:
        if self._next_restart_ms is None:
            return 0
        return max(0, self._next_restart_ms - self._clock())

    def __str__(self) -> str:
        return (f"ExponentialDelayRestartBackoffTimeStrategy(initialBackoffMS="
                f"{self.initial_backoff_ms}, maxBackoffMS={self.max_backoff_ms}, "
                f"backoffMultiplier={self.multiplier}, resetBackoffThresholdMS="
                f"{self.reset_threshold_ms}, jitterFactor={self.jitter_factor}, "
                f"attemptsBeforeResetBackoff={self.attempts_before_reset})")


_ALIASES = {
    "none": "none", "off": "none", "disable": "none",
    "fixed-delay": "fixed-delay", "fixeddelay": "fixed-delay",
    "failure-rate": "failure-rate", "failurerate": "failure-rate",
    "exponential-delay": "exponential-delay", "exponentialdelay": "exponential-delay",
}


def restart_strategy_name(configuration: Configuration) -> str:
    """The canonical strategy name the configuration selects (Flink 2.x's default if unset)."""
    raw = configuration.get(options.RESTART_STRATEGY)
    if raw is None or str(raw).strip() == "":
        checkpointing = configuration.get(options.CHECKPOINTING_INTERVAL)
        return "exponential-delay" if checkpointing else "none"
    name = _ALIASES.get(str(raw).strip().lower())
    if name is None:
        raise FlinkPyError(
            f"unknown restart-strategy.type {raw!r}; expected one of none, off, disable, "
            f"fixed-delay, fixeddelay, failure-rate, failurerate, exponential-delay, "
            f"exponentialdelay")
    return name


def restart_strategy_from(configuration: Configuration, clock: Clock = _wall_clock_ms,
                          rng: Optional[random.Random] = None) -> RestartBackoffTimeStrategy:
    """The strategy ``configuration`` describes (the job's settings over the cluster's)."""
    name = restart_strategy_name(configuration)
    get = configuration.get
    if name == "fixed-delay":
        return FixedDelayRestartBackoffTimeStrategy(
            int(get(options.RESTART_FIXED_DELAY_ATTEMPTS)),
            int(get(options.RESTART_FIXED_DELAY_DELAY)))
    if name == "failure-rate":
        return FailureRateRestartBackoffTimeStrategy(
            int(get(options.RESTART_FAILURE_RATE_MAX_FAILURES)),
            int(get(options.RESTART_FAILURE_RATE_INTERVAL)),
            int(get(options.RESTART_FAILURE_RATE_DELAY)), clock)
    if name == "exponential-delay":
        return ExponentialDelayRestartBackoffTimeStrategy(
            int(get(options.RESTART_EXPONENTIAL_INITIAL_BACKOFF)),
            int(get(options.RESTART_EXPONENTIAL_MAX_BACKOFF)),
            float(get(options.RESTART_EXPONENTIAL_MULTIPLIER)),
            int(get(options.RESTART_EXPONENTIAL_RESET_THRESHOLD)),
            float(get(options.RESTART_EXPONENTIAL_JITTER)),
            int(get(options.RESTART_EXPONENTIAL_ATTEMPTS)), clock, rng)
    return NoRestartBackoffTimeStrategy()
