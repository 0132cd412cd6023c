"""Duration, Time and Instant (pyflink.common.time)."""

from __future__ import annotations

import pytest

from flink_py.common.time import Duration, Instant, Time


def test_duration_factories() -> None:
    assert Duration.of_millis(1500).to_milliseconds() == 1500
    assert Duration.of_seconds(10).to_milliseconds() == 10_000
    assert Duration.of_minutes(2).to_milliseconds() == 120_000
    assert Duration.of_hours(1).to_milliseconds() == 3_600_000
    assert Duration.of_days(1).to_milliseconds() == 86_400_000
    assert Duration.of_nanos(1_999_999).to_milliseconds() == 1
    assert Duration.of_nanos(1_999_999).to_nanos() == 1_999_999


def test_duration_truncates_like_java() -> None:
    # Java Duration.ofNanos(-1).toMillis() == -1 (seconds floor to -1, nanos 999_999_999).
    assert Duration.of_nanos(-1).to_milliseconds() == -1
    assert Duration.of_nanos(-1).get_seconds() == -1
    assert Duration.of_nanos(-1).get_nano() == 999_999_999


def test_duration_equality_ordering_and_repr() -> None:
    assert Duration.of_seconds(1) == Duration.of_millis(1000) == Duration.of_nanos(10**9)
    assert hash(Duration.of_seconds(1)) == hash(Duration.of_millis(1000))
    assert Duration.of_millis(1) < Duration.of_seconds(1)
    assert Duration.of_seconds(1) != 1000
    assert repr(Duration.of_seconds(2)) == "Duration.of_millis(2000)"
    assert repr(Duration.of_nanos(5)) == "Duration.of_nanos(5)"


@pytest.mark.parametrize("bad", [1.5, "10", None, True])
def test_duration_rejects_non_ints(bad: object) -> None:
    with pytest.raises(TypeError, match="must be an int"):
        Duration.of_seconds(bad)  # type: ignore[arg-type]


def test_time() -> None:
    assert Time.milliseconds(5).to_milliseconds() == 5
    assert Time.seconds(5).to_milliseconds() == 5000
    assert Time.minutes(1).to_milliseconds() == 60_000
    assert Time.hours(1).to_milliseconds() == 3_600_000
    assert Time.days(2).to_milliseconds() == 172_800_000
    assert Time.seconds(1) == Time.milliseconds(1000) and Time.seconds(1) < Time.minutes(1)
    assert str(Time.seconds(1)) == "1000 ms"
    assert Time.seconds(1).to_duration() == Duration.of_seconds(1)
    with pytest.raises(TypeError):
        Time.seconds(0.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("millis", [0, 1, 999, 1000, 1_700_000_000_123, -1, -999, -1000, -1001])
def test_instant_round_trip(millis: int) -> None:
    instant = Instant.of_epoch_milli(millis)
    assert 0 <= instant.nanos < 10**9
    assert instant.to_epoch_milli() == millis


def test_instant_fields_equality_and_order() -> None:
    assert Instant.of_epoch_milli(-1) == Instant(-1, 999_000_000)
    assert Instant.of_epoch_milli(1500) == Instant(1, 500_000_000)
    assert Instant(-1, 999_999_999).to_epoch_milli() == -1  # sub-millis floor, as Java
    assert Instant.of_epoch_milli(1) < Instant.of_epoch_milli(2)
    assert repr(Instant(1, 2)) == "Instant<1, 2>"
    with pytest.raises(ValueError, match="nanos must be in 0..999999999"):
        Instant(0, 10**9)
