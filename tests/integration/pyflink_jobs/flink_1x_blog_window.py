# A program as PyFlink 1.12-1.20 blog posts write it (TimeCharacteristic, FsStateBackend,
# env.set_restart_strategy, enable_externalized_checkpoints with ExternalizedCheckpointCleanup),
# with flink_py imports. tests/fixtures/pyflink/flink_1x_blog_window.py is its Flink 2 form,
# recorded from PyFlink 2.3; this one must print the same, with DeprecationWarnings.
import tempfile

from flink_py.common import Types, WatermarkStrategy
from flink_py.common.restart_strategy import RestartStrategies
from flink_py.common.time import Duration, Time
from flink_py.common.watermark_strategy import TimestampAssigner
from flink_py.datastream import (CheckpointingMode, ExternalizedCheckpointCleanup,
                                 StreamExecutionEnvironment, TimeCharacteristic)
from flink_py.datastream.state_backend import FsStateBackend
from flink_py.datastream.window import TumblingEventTimeWindows


class EventTime(TimestampAssigner):
    def extract_timestamp(self, value, record_timestamp):
        return value[2]


env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(1)
env.set_stream_time_characteristic(TimeCharacteristic.EventTime)
env.enable_checkpointing(5000, CheckpointingMode.EXACTLY_ONCE)
env.set_state_backend(FsStateBackend("file://" + tempfile.mkdtemp()))
env.get_checkpoint_config().enable_externalized_checkpoints(
    ExternalizedCheckpointCleanup.RETAIN_ON_CANCELLATION)
env.set_restart_strategy(RestartStrategies.fixed_delay_restart(3, 10000))

clicks = env.from_collection(
    [("alice", 1, 1000), ("bob", 2, 1500), ("alice", 3, 4000), ("bob", 4, 6000),
     ("alice", 5, 7000), ("carol", 6, 9999), ("alice", 7, 10000)],
    type_info=Types.TUPLE([Types.STRING(), Types.INT(), Types.LONG()]))
strategy = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_seconds(1)) \
    .with_timestamp_assigner(EventTime())
clicks.assign_timestamps_and_watermarks(strategy) \
    .key_by(lambda click: click[0], key_type=Types.STRING()) \
    .window(TumblingEventTimeWindows.of(Time.seconds(5))) \
    .reduce(lambda a, b: (a[0], a[1] + b[1], max(a[2], b[2])),
            output_type=Types.TUPLE([Types.STRING(), Types.INT(), Types.LONG()])) \
    .print("clicks")
print("watermark interval", env.get_config().get_auto_watermark_interval())
env.execute("clicks per user and 5 s")
