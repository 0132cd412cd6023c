"""The chaos tests' job: a rate-limited sequence, keyed into ``--keys`` keys, counted in
ValueState (uid ``count``), written twice: every ``key count`` to a plain append file per
task attempt (``<out>/counts/``; at-least-once, so the highest count per key is what state
reached) and ``value,key,count`` to an exactly-once FileSink (``<out>/files/``).

The counting task records its worker's pid as ``<out>/pids/pid-<pid>`` so that the test can
kill a process that runs it.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from typing import Tuple

from flink_py.common import Encoder, Types
from flink_py.common.restart_strategy import RestartStrategies
from flink_py.datastream import CheckpointingMode, StreamExecutionEnvironment
from flink_py.datastream.connectors.file_system import FileSink
from flink_py.datastream.functions import MapFunction, RuntimeContext, SinkFunction
from flink_py.datastream.state import ValueStateDescriptor
from flink_py.datastream.state_backend import EmbeddedRocksDBStateBackend, HashMapStateBackend


class Throttle(MapFunction):
    """At most ``rate`` records a second per subtask: long enough a run for kills to land."""

    def __init__(self, rate: int) -> None:
        self.rate = rate

    def map(self, value: int) -> int:
        if value % 100 == 0 and self.rate:
            time.sleep(100 / self.rate)
        return value


class CountPerKey(MapFunction):
    """(value, key, count of the key so far)."""

    def __init__(self, keys: int, pids: str) -> None:
        self.keys = keys
        self.pids = pids

    def open(self, runtime_context: RuntimeContext) -> None:
        self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))
        open(os.path.join(self.pids, f"pid-{os.getpid()}"), "w").close()

    def map(self, value: int) -> Tuple[int, int, int]:
        n = (self.count.value() or 0) + 1
        self.count.update(n)
        return value, value % self.keys, n


class AppendCounts(SinkFunction):
    """Appends ``key count`` lines to a file of its own (one per task attempt)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.file = None

    def open(self, runtime_context: RuntimeContext) -> None:
        name = f"{os.getpid()}-{uuid.uuid4().hex}.txt"
        # line buffered: a killed worker loses at most a torn last line
        self.file = open(os.path.join(self.directory, name), "a", buffering=1)

    def invoke(self, value: Tuple[int, int, int], context=None) -> None:
        self.file.write(f"{value[1]} {value[2]}\n")

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, required=True)
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--backend", choices=["hashmap", "rocksdb"], default="hashmap")
    parser.add_argument("--unaligned", action="store_true")
    parser.add_argument("--checkpoints", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--interval", type=int, default=500)
    args = parser.parse_args()
    for sub in ("counts", "files", "pids"):
        os.makedirs(os.path.join(args.out, sub), exist_ok=True)

    env = StreamExecutionEnvironment.get_execution_environment()
    env.enable_checkpointing(args.interval, CheckpointingMode.EXACTLY_ONCE)
    config = env.get_checkpoint_config()
    config.set_checkpoint_storage_dir(f"file://{args.checkpoints}")
    if args.unaligned:
        config.enable_unaligned_checkpoints()
    env.set_state_backend(HashMapStateBackend() if args.backend == "hashmap"
                          else EmbeddedRocksDBStateBackend())
    env.set_restart_strategy(RestartStrategies.fixed_delay_restart(100, 200))
    counted = (env.from_sequence(0, args.records - 1).uid("source")
               .map(Throttle(args.rate)).uid("throttle")
               .key_by(lambda x: x % args.keys, key_type=Types.LONG())
               .map(CountPerKey(args.keys, os.path.join(args.out, "pids"))).uid("count"))
    counted.add_sink(AppendCounts(os.path.join(args.out, "counts"))).uid("counts-sink")
    (counted.map(lambda t: f"{t[0]},{t[1]},{t[2]}", output_type=Types.STRING())
     .sink_to(FileSink.for_row_format(os.path.join(args.out, "files"),
                                      Encoder.simple_string_encoder()).build())
     .uid("file-sink"))
    env.execute("keyed count")


if __name__ == "__main__":
    main()
