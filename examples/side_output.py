"""Side outputs: one ProcessFunction splits a stream of sensor readings in two.

Readings at or above the threshold (32.0 by default) stay in the main stream; lower ones go
to the side output ``low-temperature`` (``yield low_tag, value``). Both are printed, with
the sink identifiers ``high`` and ``low``.

Usage::

    python examples/side_output.py [--threshold <temperature>] [--parallelism <n>]
"""

from __future__ import annotations

import sys
from typing import Iterator, List, Optional

from flink_py.common import Row, Types
from flink_py.common.utils import ParameterTool
from flink_py.datastream import OutputTag, ProcessFunction, StreamExecutionEnvironment

#: SensorReading(id, timestamp, temperature)
SENSOR_READING = Types.ROW_NAMED(["id", "timestamp", "temperature"],
                                 [Types.STRING(), Types.LONG(), Types.DOUBLE()])

READINGS = [
    Row(id="sensor_1", timestamp=1547718199, temperature=35.8),
    Row(id="sensor_6", timestamp=1547718201, temperature=15.4),
    Row(id="sensor_7", timestamp=1547718202, temperature=6.7),
    Row(id="sensor_10", timestamp=1547718205, temperature=38.1),
]


class SplitByTemperature(ProcessFunction):
    """High readings to the main output, low ones to the side output ``low_tag``."""

    def __init__(self, threshold: float, low_tag: OutputTag) -> None:
        self.threshold = threshold
        self.low_tag = low_tag

    def process_element(self, value: Row, ctx: ProcessFunction.Context) -> Iterator:
        if value.temperature >= self.threshold:
            yield value
        else:
            yield self.low_tag, value


def main(argv: Optional[List[str]] = None) -> None:
    params = ParameterTool.from_args(sys.argv[1:] if argv is None else argv)
    threshold = params.get_float("threshold", 32.0)
    env = StreamExecutionEnvironment.get_execution_environment()
    if params.has("parallelism"):
        env.set_parallelism(params.get_int("parallelism"))

    low_tag = OutputTag("low-temperature", SENSOR_READING)
    high = (env.from_collection(READINGS, type_info=SENSOR_READING)
            .process(SplitByTemperature(threshold, low_tag), output_type=SENSOR_READING))
    high.print("high")
    high.get_side_output(low_tag).print("low")
    env.execute("side_output")


if __name__ == "__main__":
    main()
