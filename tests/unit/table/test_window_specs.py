"""The arithmetic of window bounds and slices (flink_py.table.windows.WindowSpec): which
windows a timestamp is in, which slices a window merges and in what order, when a slice is
no longer needed -- the rules Flink's slice assigners follow."""

from __future__ import annotations

import datetime

import pytest

from flink_py.table.errors import ValidationException
from flink_py.table.temporal import (format_timestamp, interval_literal, print_sink_string,
                                     to_millis, from_millis)
from flink_py.table.windows import WindowSpec


def test_tumbling_windows_are_one_slice_each():
    spec = WindowSpec("TUMBLE", 0, 5000)
    assert spec.windows_of(4999) == [(0, 5000)]
    assert spec.windows_of(5000) == [(5000, 10000)]
    assert spec.windows_of(-1) == [(-5000, 0)]
    assert spec.slice_end(4999) == 5000 and spec.window_ends(5000) == [5000]
    assert spec.slices_of(5000) == [5000] and spec.expired_slices(5000) == [5000]


def test_hopping_windows_merge_slices_of_the_gcd_from_the_last_back():
    spec = WindowSpec("HOP", 0, 5000, 2000)  # size 5 s every 2 s: slices of 1 s
    assert spec.slice_size == 1000
    assert spec.windows_of(4500) == [(0, 5000), (2000, 7000), (4000, 9000)]
    assert spec.windows_of(1500) == [(-2000, 3000), (0, 5000)]
    # the slice [4 s, 5 s) is in the windows ending at 5, 7 and 9 s
    assert spec.window_ends(spec.slice_end(4500)) == [5000, 7000, 9000]
    assert spec.slices_of(7000) == [7000, 6000, 5000, 4000, 3000]  # last slice first
    assert spec.window_start(7000) == 2000
    assert spec.expired_slices(7000) == [3000]  # the window ending at 7 s was its last


def test_cumulative_windows_grow_by_steps_within_their_size():
    spec = WindowSpec("CUMULATE", 0, 6000, 2000)
    assert spec.windows_of(2500) == [(0, 4000), (0, 6000)]
    assert spec.windows_of(6000) == [(6000, 8000), (6000, 10000), (6000, 12000)]
    assert spec.window_ends(spec.slice_end(500)) == [2000, 4000, 6000]
    assert spec.slices_of(6000) == [2000, 4000, 6000]  # first slice first
    assert spec.window_start(4000) == 0
    assert spec.expired_slices(4000) == [] and spec.expired_slices(6000) == [2000, 4000, 6000]


def test_a_cumulative_size_must_be_a_multiple_of_the_step():
    with pytest.raises(ValidationException, match="integral multiple of step"):
        WindowSpec("CUMULATE", 0, 5000, 2000)
    with pytest.raises(ValidationException, match="must be positive"):
        WindowSpec("TUMBLE", 0, 0)


def test_timestamps_print_as_flink_prints_them():
    ts = datetime.datetime(1970, 1, 1, 0, 0, 5)
    assert format_timestamp(ts, 3) == "1970-01-01 00:00:05.000"
    assert print_sink_string(ts) == "1970-01-01T00:00:05"
    assert print_sink_string(datetime.datetime(1970, 1, 1)) == "1970-01-01T00:00"
    utc = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    assert print_sink_string(utc) == "1970-01-01T00:00:00Z"  # Instant.toString keeps seconds
    assert print_sink_string(ts.replace(microsecond=250000)) == "1970-01-01T00:00:05.250"
    assert to_millis(from_millis(-1500)) == -1500


@pytest.mark.parametrize("amount, unit, millis", [("3", "SECOND", 3000), ("10", "MINUTES", 600000),
                                                  ("1.5", "SECOND", 1500), ("2", "HOUR", 7200000),
                                                  ("1", "DAY", 86400000)])
def test_interval_literals(amount, unit, millis):
    _, value = interval_literal(amount, unit)
    assert value == datetime.timedelta(milliseconds=millis)


def test_a_bad_interval_unit_is_named():
    with pytest.raises(ValidationException, match="WEEK"):
        interval_literal("1", "WEEK")
