"""Union and connect: combining streams.

* ``union`` merges streams of the same type into one stream (here three streams of
  temperature readings from three sensor sites).
* ``connect`` joins two streams that may have different types under one operator, which
  handles each input with its own method: a ``CoMapFunction`` (``map1`` / ``map2``, one
  output each) and a ``CoFlatMapFunction`` (``flat_map1`` / ``flat_map2``, any number).

Usage::

    python examples/union_connect.py [--parallelism <n>]
"""

from __future__ import annotations

import sys
from typing import Iterator, List, Optional, Tuple

from flink_py.common import Types
from flink_py.common.utils import ParameterTool
from flink_py.datastream import CoFlatMapFunction, CoMapFunction, StreamExecutionEnvironment

Reading = Tuple[str, float]  # (sensor id, temperature)


class Alerts(CoMapFunction):
    """Readings become alert levels; control messages are passed through as they are."""

    def map1(self, value: Reading) -> str:
        sensor, temperature = value
        return f"{sensor}: {'warning' if temperature > 30 else 'normal'} ({temperature})"

    def map2(self, value: str) -> str:
        return f"control: {value}"


class SplitWords(CoFlatMapFunction):
    """Sensor readings become one line; sentences are split into their words."""

    def flat_map1(self, value: Reading) -> Iterator[str]:
        yield f"reading {value[0]}={value[1]}"

    def flat_map2(self, value: str) -> Iterator[str]:
        yield from value.split()


def main(argv: Optional[List[str]] = None) -> None:
    params = ParameterTool.from_args(sys.argv[1:] if argv is None else argv)
    env = StreamExecutionEnvironment.get_execution_environment()
    if params.has("parallelism"):
        env.set_parallelism(params.get_int("parallelism"))
    reading = Types.TUPLE([Types.STRING(), Types.DOUBLE()])
    site_a = env.from_collection([("sensor_1", 35.8), ("sensor_2", 15.4)], type_info=reading)
    site_b = env.from_collection([("sensor_6", 15.4)], type_info=reading)
    site_c = env.from_collection([("sensor_7", 6.7), ("sensor_10", 38.1)], type_info=reading)

    # union: one stream of the same type with the records of all three.
    all_readings = site_a.union(site_b, site_c)
    all_readings.print("union")

    # connect + CoMapFunction: two inputs of different types, one output type.
    control = env.from_collection(["pause sensor_6", "resume sensor_6"],
                                  type_info=Types.STRING())
    all_readings.connect(control).map(Alerts(), output_type=Types.STRING()).print("co-map")

    # connect + CoFlatMapFunction: each input may emit any number of records.
    sentences = env.from_collection(["hello connected streams"], type_info=Types.STRING())
    site_a.connect(sentences).flat_map(SplitWords(), output_type=Types.STRING()) \
        .print("co-flat-map")

    env.execute("union_connect")


if __name__ == "__main__":
    main()
