"""Job programs for tests and benchmarks that kill the processes running them."""

from __future__ import annotations

_ENDLESS_KEYED_JOB = '''
import os, threading
from flink_py.datastream import SinkFunction, SourceFunction, StreamExecutionEnvironment

MARKERS = {markers!r}

class Endless(SourceFunction):
    def open(self, runtime_context):
        self.stop = threading.Event()
        open(os.path.join(MARKERS, f"pid-{{os.getpid()}}"), "w").close()

    def run(self, ctx):
        i = 0
        while not self.stop.is_set():
            ctx.collect(i)
            i += 1
            if i % 100 == 0:
                self.stop.wait(0.001)

    def cancel(self):
        self.stop.set()

class Discard(SinkFunction):
    def invoke(self, value, context):
        pass

env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(2)
env.enable_checkpointing({checkpoint_interval_ms})
env.add_source(Endless()).key_by(lambda x: x % {keys}).map(lambda x: x + 1).add_sink(Discard())
env.execute({name!r})
'''


def endless_keyed_job(markers: str, checkpoint_interval_ms: int, keys: int, name: str) -> str:
    """The source of a p=2 job that runs until cancelled: an endless source -> keyed map ->
    sink, checkpointing every ``checkpoint_interval_ms``. Each source subtask creates the
    file ``pid-<its process id>`` in the directory ``markers``, so that a test knows which
    processes run the job (and which to kill)."""
    return _ENDLESS_KEYED_JOB.format(markers=markers, keys=keys, name=name,
                                     checkpoint_interval_ms=checkpoint_interval_ms)


_ENDLESS_PROGRAM = '''\
import time
from flink_py.datastream import StreamExecutionEnvironment
from flink_py.datastream.functions import SourceFunction

class Ticks(SourceFunction):
    def __init__(self):
        self.running = True

    def run(self, ctx):
        i = 0
        while self.running:
            ctx.collect(i)
            i += 1
            time.sleep({pause_s!r})

    def cancel(self):
        self.running = False

env = StreamExecutionEnvironment.get_execution_environment()
env.add_source(Ticks()){exchange}.map(lambda x: x).add_sink(lambda v, c=None: None)
env.execute("endless")
'''


def endless_program(pause_s: float = 0.01, rebalance: bool = False) -> str:
    """The source of a program for ``flink run``: a job named "endless" that emits a number
    every ``pause_s`` until cancelled and discards it (``rebalance``: through a network
    exchange, so that its tasks spread over TaskManagers)."""
    return _ENDLESS_PROGRAM.format(pause_s=pause_s,
                                   exchange=".rebalance()" if rebalance else "")
