"""The retry strategies of async I/O, as in ``pyflink.datastream.async_retry_strategies``.

``current_attempts`` counts the attempts made so far, from 1: ``FixedDelayRetryStrategy(3,
...)`` allows three retries after the first attempt, four calls in all (PyFlink's count).
"""

from __future__ import annotations

from typing import Callable, Generic, List, Optional, TypeVar

from flink_py.api.functions import AsyncRetryPredicate, AsyncRetryStrategy
from flink_py.errors import InvalidProgramError

__all__ = ["RetryPredicate", "NoRetryStrategy", "FixedDelayRetryStrategy",
           "ExponentialBackoffDelayRetryStrategy"]

OUT = TypeVar("OUT")


def _require_positive(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise InvalidProgramError(f"{name} should be greater than zero, got {value!r}")


class RetryPredicate(AsyncRetryPredicate, Generic[OUT]):
    """A result predicate and an exception predicate, either may be None."""

    def __init__(self, result_predicate: Optional[Callable[[List[OUT]], bool]],
                 exception_predicate: Optional[Callable[[Exception], bool]]) -> None:
        self._result_predicate = result_predicate
        self._exception_predicate = exception_predicate

    def result_predicate(self) -> Optional[Callable[[List[OUT]], bool]]:
        return self._result_predicate

    def exception_predicate(self) -> Optional[Callable[[Exception], bool]]:
        return self._exception_predicate


class NoRetryStrategy(AsyncRetryStrategy, Generic[OUT]):
    """Never retries."""

    def can_retry(self, current_attempts: int) -> bool:
        return False

    def get_backoff_time_millis(self, current_attempts: int) -> int:
        return -1

    def get_retry_predicate(self) -> AsyncRetryPredicate[OUT]:
        return RetryPredicate(None, None)


class FixedDelayRetryStrategy(AsyncRetryStrategy, Generic[OUT]):
    """Up to ``max_attempts`` retries, ``backoff_time_millis`` ms apart.

    Example::

        >>> s = FixedDelayRetryStrategy(2, 50, None, lambda error: True)
        >>> [s.can_retry(n) for n in (1, 2, 3)], s.get_backoff_time_millis(2)
        ([True, True, False], 50)
    """

    def __init__(self, max_attempts: int, backoff_time_millis: int,
                 result_predicate: Optional[Callable[[List[OUT]], bool]],
                 exception_predicate: Optional[Callable[[Exception], bool]]) -> None:
        _require_positive(max_attempts, "max_attempts")
        _require_positive(backoff_time_millis, "backoff_time_millis")
        self._max_attempts = max_attempts
        self._backoff_time_millis = backoff_time_millis
        self._result_predicate = result_predicate
        self._exception_predicate = exception_predicate

    def can_retry(self, current_attempts: int) -> bool:
        return current_attempts <= self._max_attempts

    def get_backoff_time_millis(self, current_attempts: int) -> int:
        return self._backoff_time_millis

    def get_retry_predicate(self) -> AsyncRetryPredicate[OUT]:
        return RetryPredicate(self._result_predicate, self._exception_predicate)


class ExponentialBackoffDelayRetryStrategy(AsyncRetryStrategy, Generic[OUT]):
    """Up to ``max_attempts`` retries; the first after ``initial_delay`` ms, each next one
    ``multiplier`` times later than the one before, at most ``max_retry_delay`` ms.

    As PyFlink's, the strategy remembers the last delay it gave (one object per operator).

    Example::

        >>> s = ExponentialBackoffDelayRetryStrategy(5, 10, 50, 2.0, None, lambda e: True)
        >>> [s.get_backoff_time_millis(n) for n in (1, 2, 3, 4)]
        [10, 20, 40, 50]
    """

    def __init__(self, max_attempts: int, initial_delay: int, max_retry_delay: int,
                 multiplier: float, result_predicate: Optional[Callable[[List[OUT]], bool]],
                 exception_predicate: Optional[Callable[[Exception], bool]]) -> None:
        _require_positive(max_attempts, "max_attempts")
        _require_positive(initial_delay, "initial_delay")
        _require_positive(max_retry_delay, "max_retry_delay")
        _require_positive(multiplier, "multiplier")
        self._max_attempts = max_attempts
        self._max_retry_delay = max_retry_delay
        self._multiplier = multiplier
        self._result_predicate = result_predicate
        self._exception_predicate = exception_predicate
        self._initial_delay = initial_delay
        self._last_retry_delay = initial_delay

    def can_retry(self, current_attempts: int) -> bool:
        return current_attempts <= self._max_attempts

    def get_backoff_time_millis(self, current_attempts: int) -> int:
        if current_attempts <= 1:
            self._last_retry_delay = self._initial_delay
            return self._last_retry_delay
        backoff = int(min(self._last_retry_delay * self._multiplier, self._max_retry_delay))
        self._last_retry_delay = backoff
        return backoff

    def get_retry_predicate(self) -> AsyncRetryPredicate[OUT]:
        return RetryPredicate(self._result_predicate, self._exception_predicate)


#: the strategy of ``ordered_wait`` / ``unordered_wait``: no call is retried
NO_RETRY_STRATEGY: AsyncRetryStrategy = NoRetryStrategy()
