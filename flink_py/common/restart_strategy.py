"""PyFlink's ``RestartStrategies`` (``pyflink.common.restart_strategy``), as configuration.

A restart strategy configuration is a value: it writes itself into a job's
:class:`~flink_py.common.configuration.Configuration` under Flink's ``restart-strategy.*``
keys (``env.set_restart_strategy(...)``), and the JobMaster builds the strategy from those
keys, exactly as when they come from ``config.yaml`` or ``-D``.

Delays are ints of milliseconds, :class:`datetime.timedelta` or
:class:`~flink_py.common.time.Duration`, as PyFlink accepts.

Example::

    >>> from flink_py.common.configuration import Configuration
    >>> conf = Configuration()
    >>> RestartStrategies.fixed_delay_restart(3, 10_000)._configure(conf)
    >>> sorted(conf.to_dict().items())  # doctest: +NORMALIZE_WHITESPACE
    [('restart-strategy.fixed-delay.attempts', '3'),
     ('restart-strategy.fixed-delay.delay', '10 s'),
     ('restart-strategy.type', 'fixed-delay')]
    >>> RestartStrategies._from_configuration(conf).get_restart_attempts()
    3
"""

from __future__ import annotations

import datetime
from typing import Any, Optional, Tuple, Union

from flink_py.common import config_options as options
from flink_py.common.configuration import ConfigOption, Configuration
from flink_py.common.time import Duration
from flink_py.errors import InvalidProgramError

__all__ = ["RestartStrategies", "RestartStrategyConfiguration"]

DelayLike = Union[int, datetime.timedelta, Duration]

#: Every key a restart strategy writes: set_restart_strategy clears them all first, so that
#: the settings of an earlier strategy do not linger.
_RESTART_OPTIONS: Tuple[ConfigOption, ...] = (
    options.RESTART_STRATEGY, options.RESTART_FIXED_DELAY_ATTEMPTS,
    options.RESTART_FIXED_DELAY_DELAY, options.RESTART_FAILURE_RATE_MAX_FAILURES,
    options.RESTART_FAILURE_RATE_INTERVAL, options.RESTART_FAILURE_RATE_DELAY,
    options.RESTART_EXPONENTIAL_INITIAL_BACKOFF, options.RESTART_EXPONENTIAL_MAX_BACKOFF,
    options.RESTART_EXPONENTIAL_MULTIPLIER, options.RESTART_EXPONENTIAL_RESET_THRESHOLD,
    options.RESTART_EXPONENTIAL_JITTER,
)


def _millis(value: Any, what: str) -> int:
    """A delay as ms: an int of ms, a timedelta or a Duration (PyFlink's accepted types)."""
    if isinstance(value, bool):
        millis = None
    elif isinstance(value, int):
        millis = value
    elif isinstance(value, datetime.timedelta):
        millis = value // datetime.timedelta(milliseconds=1)
    elif isinstance(value, Duration):
        millis = value.to_milliseconds()
    else:
        millis = None
    if millis is None:
        raise InvalidProgramError(
            f"The parameter '{what}' only supports an int of milliseconds, datetime.timedelta "
            f"or Duration, got {type(value).__name__} {value!r}")
    if millis < 0:
        raise InvalidProgramError(f"The parameter '{what}' must not be negative, got {millis} ms")
    return millis


def _count(value: Any, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidProgramError(f"The parameter '{what}' must be an int >= {minimum}, "
                                  f"got {value!r}")
    return value


class RestartStrategyConfiguration:
    """Abstract configuration for restart strategies."""

    #: the value of ``restart-strategy.type``; None: the cluster's setting is used
    _type: Optional[str] = None

    def get_description(self) -> str:
        """Returns a description which is shown in the web interface."""
        raise NotImplementedError

    def _settings(self) -> Tuple[Tuple[ConfigOption, Any], ...]:
        return ()

    def _configure(self, configuration: Configuration) -> None:
        """Writes this strategy into ``configuration`` (replacing any earlier one)."""
        for option in _RESTART_OPTIONS:
            configuration.remove_config(option)
        if self._type is not None:
            configuration.set(options.RESTART_STRATEGY, self._type)
        for option, value in self._settings():
            configuration.set(option, value)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._settings() == self._settings()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._settings()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.get_description()})"


class RestartStrategies:
    """Generates RestartStrategyConfigurations; the JobMaster creates the restart strategy
    from them at runtime."""

    class NoRestartStrategyConfiguration(RestartStrategyConfiguration):
        """Configuration representing no restart strategy."""

        _type = "none"

        def get_description(self) -> str:
            return "Restart deactivated."

    class FixedDelayRestartStrategyConfiguration(RestartStrategyConfiguration):
        """Configuration representing a fixed delay restart strategy."""

        _type = "fixed-delay"

        def __init__(self, restart_attempts: int, delay_between_attempts_interval: DelayLike
                     ) -> None:
            self._attempts = _count(restart_attempts, "restart_attempts", 0)
            self._delay = _millis(delay_between_attempts_interval,
                                  "delay_between_attempts_interval")

        def get_restart_attempts(self) -> int:
            return self._attempts

        def get_delay_between_attempts_interval(self) -> datetime.timedelta:
            return datetime.timedelta(milliseconds=self._delay)

        def get_description(self) -> str:
            return (f"Restart with fixed delay ({self._delay} ms). #{self._attempts} restart "
                    f"attempts.")

        def _settings(self) -> Tuple[Tuple[ConfigOption, Any], ...]:
            return ((options.RESTART_FIXED_DELAY_ATTEMPTS, self._attempts),
                    (options.RESTART_FIXED_DELAY_DELAY, self._delay))

    class FailureRateRestartStrategyConfiguration(RestartStrategyConfiguration):
        """Configuration representing a failure rate restart strategy."""

        _type = "failure-rate"

        def __init__(self, max_failure_rate: int, failure_interval: DelayLike,
                     delay_between_attempts_interval: DelayLike) -> None:
            self._max_failure_rate = _count(max_failure_rate, "max_failure_rate", 1)
            self._failure_interval = _millis(failure_interval, "failure_interval")
            self._delay = _millis(delay_between_attempts_interval,
                                  "delay_between_attempts_interval")

        def get_max_failure_rate(self) -> int:
            return self._max_failure_rate

        def get_failure_interval(self) -> datetime.timedelta:
            return datetime.timedelta(milliseconds=self._failure_interval)

        def get_delay_between_attempts_interval(self) -> datetime.timedelta:
            return datetime.timedelta(milliseconds=self._delay)

        def get_description(self) -> str:
            return (f"Failure rate restart with maximum of {self._max_failure_rate} failures "
                    f"within interval {self._failure_interval} ms and fixed delay "
                    f"{self._delay} ms.")

        def _settings(self) -> Tuple[Tuple[ConfigOption, Any], ...]:
            return ((options.RESTART_FAILURE_RATE_MAX_FAILURES, self._max_failure_rate),
                    (options.RESTART_FAILURE_RATE_INTERVAL, self._failure_interval),
                    (options.RESTART_FAILURE_RATE_DELAY, self._delay))

    class ExponentialDelayRestartStrategyConfiguration(RestartStrategyConfiguration):
        """Configuration representing an exponential delay restart strategy."""

        _type = "exponential-delay"

        def __init__(self, initial_backoff: DelayLike, max_backoff: DelayLike,
                     backoff_multiplier: float, reset_backoff_threshold: DelayLike,
                     jitter_factor: float) -> None:
            self._initial_backoff = _millis(initial_backoff, "initial_backoff")
            self._max_backoff = _millis(max_backoff, "max_backoff")
            self._reset_threshold = _millis(reset_backoff_threshold, "reset_backoff_threshold")
            if isinstance(backoff_multiplier, bool) or not isinstance(
                    backoff_multiplier, (int, float)) or backoff_multiplier < 1:
                raise InvalidProgramError(
                    f"The parameter 'backoff_multiplier' must be a number >= 1, got "
                    f"{backoff_multiplier!r}")
            if isinstance(jitter_factor, bool) or not isinstance(
                    jitter_factor, (int, float)) or not 0 <= jitter_factor <= 1:
                raise InvalidProgramError(
                    f"The parameter 'jitter_factor' must be a number in [0, 1], got "
                    f"{jitter_factor!r}")
            self._multiplier = float(backoff_multiplier)
            self._jitter = float(jitter_factor)

        def get_initial_backoff(self) -> datetime.timedelta:
            return datetime.timedelta(milliseconds=self._initial_backoff)

        def get_max_backoff(self) -> datetime.timedelta:
            return datetime.timedelta(milliseconds=self._max_backoff)

        def get_backoff_multiplier(self) -> float:
            return self._multiplier

        def get_reset_backoff_threshold(self) -> datetime.timedelta:
            return datetime.timedelta(milliseconds=self._reset_threshold)

        def get_jitter_factor(self) -> float:
            return self._jitter

        def get_description(self) -> str:
            return (f"Restart with exponential delay: starting at {self._initial_backoff} ms, "
                    f"increasing by {self._multiplier}, with maximum {self._max_backoff} ms. "
                    f"Delay resets after {self._reset_threshold} ms with jitter "
                    f"{self._jitter}")

        def _settings(self) -> Tuple[Tuple[ConfigOption, Any], ...]:
            return ((options.RESTART_EXPONENTIAL_INITIAL_BACKOFF, self._initial_backoff),
                    (options.RESTART_EXPONENTIAL_MAX_BACKOFF, self._max_backoff),
                    (options.RESTART_EXPONENTIAL_MULTIPLIER, self._multiplier),
                    (options.RESTART_EXPONENTIAL_RESET_THRESHOLD, self._reset_threshold),
                    (options.RESTART_EXPONENTIAL_JITTER, self._jitter))

    class FallbackRestartStrategyConfiguration(RestartStrategyConfiguration):
        """Uses the cluster's restart strategy (the job sets no ``restart-strategy.*`` key)."""

        _type = None

        def get_description(self) -> str:
            return "Cluster level default restart strategy"

    @staticmethod
    def no_restart() -> "RestartStrategies.NoRestartStrategyConfiguration":
        """Generates NoRestartStrategyConfiguration.

        :return: The :class:`NoRestartStrategyConfiguration`.
        """
        return RestartStrategies.NoRestartStrategyConfiguration()

    @staticmethod
    def fall_back_restart() -> "RestartStrategies.FallbackRestartStrategyConfiguration":
        """Generates FallbackRestartStrategyConfiguration: the cluster's strategy applies."""
        return RestartStrategies.FallbackRestartStrategyConfiguration()

    @staticmethod
    def fixed_delay_restart(restart_attempts: int, delay_between_attempts: DelayLike
                            ) -> "RestartStrategies.FixedDelayRestartStrategyConfiguration":
        """Generates a FixedDelayRestartStrategyConfiguration.

        :param restart_attempts: Number of restart attempts for the FixedDelayRestartStrategy.
        :param delay_between_attempts: Delay in-between restart attempts: an int of
            milliseconds, a datetime.timedelta or a Duration.
        """
        return RestartStrategies.FixedDelayRestartStrategyConfiguration(
            restart_attempts, delay_between_attempts)

    @staticmethod
    def failure_rate_restart(failure_rate: int, failure_interval: DelayLike,
                             delay_interval: DelayLike
                             ) -> "RestartStrategies.FailureRateRestartStrategyConfiguration":
        """Generates a FailureRateRestartStrategyConfiguration.

        :param failure_rate: Maximum number of restarts in given interval ``failure_interval``
                             before failing a job.
        :param failure_interval: Time interval for failures (ms, timedelta or Duration).
        :param delay_interval: Delay in-between restart attempts (ms, timedelta or Duration).
        """
        return RestartStrategies.FailureRateRestartStrategyConfiguration(
            failure_rate, failure_interval, delay_interval)

    @staticmethod
    def exponential_delay_restart(
            initial_backoff: DelayLike, max_backoff: DelayLike, backoff_multiplier: float,
            reset_backoff_threshold: DelayLike, jitter_factor: float
    ) -> "RestartStrategies.ExponentialDelayRestartStrategyConfiguration":
        """Generates an ExponentialDelayRestartStrategyConfiguration.

        :param initial_backoff: Starting duration between restarts.
        :param max_backoff: The highest possible duration between restarts.
        :param backoff_multiplier: Delay multiplier how many times is the delay longer than
            before.
        :param reset_backoff_threshold: How long the job must run smoothly to reset the time
            interval.
        :param jitter_factor: How much the delay may differ (in percentage).
        """
        return RestartStrategies.ExponentialDelayRestartStrategyConfiguration(
            initial_backoff, max_backoff, backoff_multiplier, reset_backoff_threshold,
            jitter_factor)

    @staticmethod
    def _from_configuration(configuration: Configuration) -> RestartStrategyConfiguration:
        """The strategy the ``restart-strategy.*`` keys of ``configuration`` describe (Flink's
        names and their old aliases); the fallback when no type is set."""
        raw = configuration.get(options.RESTART_STRATEGY)
        kind = (raw or "").strip().lower()
        get = configuration.get
        if not kind:
            return RestartStrategies.fall_back_restart()
        if kind in ("none", "off", "disable"):
            return RestartStrategies.no_restart()
        if kind in ("fixed-delay", "fixeddelay"):
            return RestartStrategies.fixed_delay_restart(
                get(options.RESTART_FIXED_DELAY_ATTEMPTS), get(options.RESTART_FIXED_DELAY_DELAY))
        if kind in ("failure-rate", "failurerate"):
            return RestartStrategies.failure_rate_restart(
                get(options.RESTART_FAILURE_RATE_MAX_FAILURES),
                get(options.RESTART_FAILURE_RATE_INTERVAL), get(options.RESTART_FAILURE_RATE_DELAY))
        if kind in ("exponential-delay", "exponentialdelay"):
            return RestartStrategies.exponential_delay_restart(
                get(options.RESTART_EXPONENTIAL_INITIAL_BACKOFF),
                get(options.RESTART_EXPONENTIAL_MAX_BACKOFF),
                get(options.RESTART_EXPONENTIAL_MULTIPLIER),
                get(options.RESTART_EXPONENTIAL_RESET_THRESHOLD),
                get(options.RESTART_EXPONENTIAL_JITTER))
        raise InvalidProgramError(
            f"Unknown restart strategy {raw!r} in '{options.RESTART_STRATEGY.key}': expected "
            f"none, fixed-delay, failure-rate or exponential-delay")
