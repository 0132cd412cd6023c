# A program in PyFlink's style (generic function classes, key_type=, the output type as the
# second positional argument, a TimestampAssigner subclass), with flink_py imports.
from typing import Iterable

from flink_py.common import Time, Types, WatermarkStrategy
from flink_py.common.watermark_strategy import TimestampAssigner
from flink_py.datastream import ProcessWindowFunction, StreamExecutionEnvironment
from flink_py.datastream.window import TimeWindow, TumblingEventTimeWindows


class ClickTime(TimestampAssigner):
    def extract_timestamp(self, value, record_timestamp) -> int:
        return int(value[1])


class ClicksInWindow(ProcessWindowFunction[tuple, tuple, str, TimeWindow]):
    def process(self, key: str, context: ProcessWindowFunction.Context[TimeWindow],
                elements: Iterable[tuple]) -> Iterable[tuple]:
        window = context.window()
        return [(key, window.start, window.end, sum(1 for _ in elements))]


env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(1)
clicks = env.from_collection(
    [("home", 2), ("cart", 3), ("home", 7), ("home", 9), ("cart", 10), ("home", 12),
     ("cart", 19), ("home", 21)],
    type_info=Types.TUPLE([Types.STRING(), Types.INT()]))
(clicks.assign_timestamps_and_watermarks(
    WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(ClickTime()))
    .key_by(lambda click: click[0], key_type=Types.STRING())
    .window(TumblingEventTimeWindows.of(Time.milliseconds(10)))
    .process(ClicksInWindow(), Types.TUPLE([Types.STRING(), Types.INT(), Types.INT(),
                                             Types.INT()]))
    .print())
env.execute("clicks per window")
