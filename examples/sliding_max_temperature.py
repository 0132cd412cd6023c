"""The seeds' sliding window: the highest temperature per sensor over the last 15 s, every 5 s.

Readings ``(id, timestamp_s, temperature)`` get event timestamps ``timestamp_s * 1000`` and
watermarks that allow 1 s of out-of-orderness (the seeds' BoundedOutOfOrdernessTimestamp-
Extractor). Each sensor's readings go into 15 s windows sliding by 5 s, and every window
prints ``(sensor, max temperature, window start, window end)`` when the watermark passes its
end. A reading belongs to 3 windows: ts=199 s to [185, 200), [190, 205) and [195, 210).

Usage::

    python examples/sliding_max_temperature.py [--input <csv: id,timestamp_s,temperature>]
"""

from __future__ import annotations

import sys
from typing import Any, Iterable, Iterator, List, Optional, Tuple

from flink_py.common import Duration, Time, WatermarkStrategy
from flink_py.common.utils import ParameterTool
from flink_py.common.watermark_strategy import TimestampAssigner
from flink_py.datastream import StreamExecutionEnvironment
from flink_py.datastream.functions import ProcessWindowFunction
from flink_py.datastream.window import SlidingEventTimeWindows

#: SensorReading(id, timestamp in seconds, temperature), slightly out of order
READINGS: List[Tuple[str, int, float]] = [
    ("sensor_1", 1547718199, 35.8),
    ("sensor_6", 1547718201, 15.4),
    ("sensor_7", 1547718202, 6.7),
    ("sensor_10", 1547718205, 38.1),
    ("sensor_1", 1547718207, 37.2),
    ("sensor_1", 1547718206, 33.5),
    ("sensor_1", 1547718212, 37.1),
    ("sensor_6", 1547718209, 16.2),
    ("sensor_1", 1547718211, 34.0),
    ("sensor_1", 1547718219, 31.9),
    ("sensor_7", 1547718218, 7.1),
    ("sensor_1", 1547718225, 30.5),
]


class SecondsToMillis(TimestampAssigner):
    def extract_timestamp(self, value: Any, record_timestamp: int) -> int:
        return value[1] * 1000


class MaxWithWindow(ProcessWindowFunction):
    """Emits the reduced maximum together with its window's bounds (in seconds)."""

    def process(self, key: str, context: ProcessWindowFunction.Context,
                elements: Iterable[Any]) -> Iterator:
        (reading,) = elements
        window = context.window()
        yield key, reading[2], window.start // 1000, window.end // 1000


def read_csv(path: str) -> List[Tuple[str, int, float]]:
    readings = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                parts = [p.strip() for p in line.split(",")]
                if len(parts) != 3:
                    raise ValueError(f"{path}:{number}: expected id,timestamp_s,temperature, "
                                     f"got {line.strip()!r}")
                readings.append((parts[0], int(parts[1]), float(parts[2])))
    return readings


def main(argv: Optional[List[str]] = None) -> None:
    params = ParameterTool.from_args(sys.argv[1:] if argv is None else argv)
    readings = read_csv(params.get("input")) if params.has("input") else READINGS
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(params.get_int("parallelism", 1))
    strategy = (WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_seconds(1))
                .with_timestamp_assigner(SecondsToMillis()))
    (env.from_collection(readings)
        .assign_timestamps_and_watermarks(strategy)
        .key_by(lambda reading: reading[0])
        .window(SlidingEventTimeWindows.of(Time.seconds(15), Time.seconds(5)))
        .reduce(lambda a, b: a if a[2] >= b[2] else b, window_function=MaxWithWindow())
        .print())
    env.execute("sliding_max_temperature")


if __name__ == "__main__":
    main()
