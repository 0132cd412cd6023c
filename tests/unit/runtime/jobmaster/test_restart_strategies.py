"""Restart strategies: their decisions and delays, on a manual clock."""

from __future__ import annotations

import random

import pytest

from flink_py.common.configuration import Configuration
from flink_py.errors import FlinkPyError
from flink_py.runtime.jobmaster.restart_strategy import (
    ExponentialDelayRestartBackoffTimeStrategy, FailureRateRestartBackoffTimeStrategy,
    FixedDelayRestartBackoffTimeStrategy, NoRestartBackoffTimeStrategy, restart_strategy_from,
    restart_strategy_name)


class ManualClock:
    def __init__(self) -> None:
        self.now_ms = 1_000_000

    def __call__(self) -> int:
        return self.now_ms

    def advance(self, ms: int) -> None:
        self.now_ms += ms


def test_none_never_restarts() -> None:
    strategy = NoRestartBackoffTimeStrategy()
    strategy.notify_failure()
    assert not strategy.can_restart()


def test_fixed_delay_restarts_the_configured_number_of_times_after_its_delay() -> None:
    strategy = FixedDelayRestartBackoffTimeStrategy(max_attempts=2, delay_ms=500)
    decisions = []
    for _ in range(3):
        strategy.notify_failure()
        decisions.append((strategy.can_restart(), strategy.backoff_time_ms()))
    assert decisions == [(True, 500), (True, 500), (False, 500)]


def test_failure_rate_fails_once_max_failures_fall_within_the_interval() -> None:
    clock = ManualClock()
    strategy = FailureRateRestartBackoffTimeStrategy(2, interval_ms=1000, delay_ms=10,
                                                     clock=clock)
    strategy.notify_failure()
    assert strategy.can_restart() and strategy.backoff_time_ms() == 10
    clock.advance(500)
    strategy.notify_failure()
    assert not strategy.can_restart()


def test_failure_rate_forgives_failures_older_than_the_interval() -> None:
    clock = ManualClock()
    strategy = FailureRateRestartBackoffTimeStrategy(2, interval_ms=1000, delay_ms=10,
                                                     clock=clock)
    for _ in range(5):
        strategy.notify_failure()
        clock.advance(1001)
        assert strategy.can_restart()


def test_exponential_delay_grows_by_the_multiplier_up_to_the_maximum() -> None:
    clock = ManualClock()
    strategy = ExponentialDelayRestartBackoffTimeStrategy(
        initial_backoff_ms=100, max_backoff_ms=1000, multiplier=2.0,
        reset_threshold_ms=60_000, jitter_factor=0.0, clock=clock)
    delays = []
    for _ in range(6):
        strategy.notify_failure()
        assert strategy.can_restart()
        delay = strategy.backoff_time_ms()
        delays.append(delay)
        clock.advance(delay + 1)  # the restart happens, then the next failure
    assert delays == [100, 200, 400, 800, 1000, 1000]


def test_exponential_delay_resets_after_the_threshold_without_failures() -> None:
    clock = ManualClock()
    strategy = ExponentialDelayRestartBackoffTimeStrategy(100, 1000, 2.0, 5000, 0.0,
                                                          clock=clock)
    for _ in range(3):
        strategy.notify_failure()
        clock.advance(strategy.backoff_time_ms() + 1)
    clock.advance(5000)
    strategy.notify_failure()
    assert strategy.backoff_time_ms() == 100


def test_exponential_delay_merges_failures_while_a_restart_is_pending() -> None:
    clock = ManualClock()
    strategy = ExponentialDelayRestartBackoffTimeStrategy(100, 1000, 2.0, 5000, 0.0,
                                                          attempts_before_reset=1, clock=clock)
    strategy.notify_failure()
    clock.advance(10)
    strategy.notify_failure()  # the same failover: not a second attempt
    assert strategy.can_restart() and strategy.backoff_time_ms() == 90
    clock.advance(91)
    strategy.notify_failure()
    assert not strategy.can_restart()


def test_exponential_delay_jitter_stays_within_its_factor() -> None:
    clock = ManualClock()
    strategy = ExponentialDelayRestartBackoffTimeStrategy(1000, 10_000, 1.0, 60_000, 0.1,
                                                          clock=clock, rng=random.Random(7))
    seen = set()
    for _ in range(50):
        strategy.notify_failure()
        delay = strategy.backoff_time_ms()
        assert 900 <= delay <= 1100
        seen.add(delay)
        clock.advance(delay + 1)
    assert len(seen) > 1


def test_the_default_is_none_without_checkpointing_and_exponential_delay_with_it() -> None:
    assert restart_strategy_name(Configuration()) == "none"
    with_checkpoints = Configuration({"execution.checkpointing.interval": "1 s"})
    assert restart_strategy_name(with_checkpoints) == "exponential-delay"
    assert isinstance(restart_strategy_from(with_checkpoints),
                      ExponentialDelayRestartBackoffTimeStrategy)


@pytest.mark.parametrize("name,kind", [
    ("fixeddelay", FixedDelayRestartBackoffTimeStrategy),
    ("fixed-delay", FixedDelayRestartBackoffTimeStrategy),
    ("failure-rate", FailureRateRestartBackoffTimeStrategy),
    ("exponential-delay", ExponentialDelayRestartBackoffTimeStrategy),
    ("off", NoRestartBackoffTimeStrategy), ("disable", NoRestartBackoffTimeStrategy)])
def test_the_strategy_names_and_their_aliases(name: str, kind: type) -> None:
    config = Configuration({"restart-strategy.type": name,
                            "execution.checkpointing.interval": "1 s"})
    assert isinstance(restart_strategy_from(config), kind)


def test_fixed_delay_reads_its_keys() -> None:
    strategy = restart_strategy_from(Configuration({
        "restart-strategy.type": "fixed-delay", "restart-strategy.fixed-delay.attempts": "3",
        "restart-strategy.fixed-delay.delay": "250 ms"}))
    assert (strategy.max_attempts, strategy.delay_ms) == (3, 250)


def test_an_unknown_strategy_names_the_value_and_the_choices() -> None:
    with pytest.raises(FlinkPyError, match="'sometimes'.*fixed-delay"):
        restart_strategy_from(Configuration({"restart-strategy.type": "sometimes"}))
