"""The seeds' "temperature rose for 10 s" alert: KeyedProcessFunction + ValueState + a timer.

A simulated sensor source emits readings for a few sensors; ``sensor_1`` gets warmer with
every reading, the others wander up and down. Per sensor, a KeyedProcessFunction keeps the
last temperature and the pending timer in ValueState: when the temperature rises and no timer
is pending it registers a processing-time timer ``--interval-ms`` ahead; a reading that is
not warmer deletes the timer. If the timer fires, the temperature rose for the whole interval
and an alert is printed.

Usage::

    python examples/temperature_alert.py [--interval-ms 10000] [--duration-ms 25000]
                                         [--period-ms 100]
"""

from __future__ import annotations

import random
import sys
import time
from typing import Any, Iterator, List, Optional

from flink_py.common import Types
from flink_py.common.utils import ParameterTool
from flink_py.datastream import StreamExecutionEnvironment
from flink_py.datastream.functions import KeyedProcessFunction, SourceFunction
from flink_py.datastream.state import ValueStateDescriptor


class SensorSource(SourceFunction):
    """Readings ``(id, timestamp_ms, temperature)`` every ``period_ms`` for ``duration_ms``."""

    def __init__(self, duration_ms: int, period_ms: int, seed: int = 7) -> None:
        self.duration_ms = duration_ms
        self.period_ms = period_ms
        self.seed = seed
        self.running = True

    def run(self, ctx: SourceFunction.SourceContext) -> None:
        rng = random.Random(self.seed)
        temperatures = {f"sensor_{i}": 20.0 + 5 * rng.random() for i in range(1, 5)}
        end = time.monotonic() + self.duration_ms / 1000.0
        while self.running and time.monotonic() < end:
            now_ms = time.time_ns() // 1_000_000
            for sensor, temperature in temperatures.items():
                step = 0.1 if sensor == "sensor_1" else rng.choice((-0.5, 0.5))
                temperatures[sensor] = round(temperature + step, 2)
                ctx.collect((sensor, now_ms, temperatures[sensor]))
            time.sleep(self.period_ms / 1000.0)  # the pace of a real sensor

    def cancel(self) -> None:
        self.running = False


class TempIncreaseAlert(KeyedProcessFunction):
    """Alerts when a sensor's temperature rose continuously for ``interval_ms``."""

    def __init__(self, interval_ms: int) -> None:
        self.interval_ms = interval_ms

    def open(self, runtime_context: Any) -> None:
        self.last_temp = runtime_context.get_state(
            ValueStateDescriptor("lastTemp", Types.DOUBLE()))
        self.current_timer = runtime_context.get_state(
            ValueStateDescriptor("currentTimer", Types.LONG()))

    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Iterator:
        _, _, temperature = value
        previous = self.last_temp.value()
        self.last_temp.update(temperature)
        timer = self.current_timer.value()
        if previous is not None and temperature > previous and timer is None:
            timer = ctx.timer_service().current_processing_time() + self.interval_ms
            ctx.timer_service().register_processing_time_timer(timer)
            self.current_timer.update(timer)
        elif previous is None or temperature <= previous:
            if timer is not None:
                ctx.timer_service().delete_processing_time_timer(timer)
            self.current_timer.clear()
        return iter(())

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Iterator:
        yield (f"{ctx.get_current_key()}: temperature rose continuously for "
               f"{self.interval_ms / 1000:g} s")
        self.current_timer.clear()


def main(argv: Optional[List[str]] = None) -> None:
    params = ParameterTool.from_args(sys.argv[1:] if argv is None else argv)
    interval_ms = params.get_int("interval-ms", 10_000)
    duration_ms = params.get_int("duration-ms", 25_000)
    period_ms = params.get_int("period-ms", 100)
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(params.get_int("parallelism", 2))
    (env.add_source(SensorSource(duration_ms, period_ms), "sensors")
        .key_by(lambda reading: reading[0])
        .process(TempIncreaseAlert(interval_ms), output_type=Types.STRING())
        .print())
    env.execute("temperature_alert")


if __name__ == "__main__":
    main()
