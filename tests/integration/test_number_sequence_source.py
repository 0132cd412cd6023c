"""``NumberSequenceSource`` with ``from_source`` (PyFlink's
``pyflink.datastream.connectors.number_seq``): every number once, in contiguous parts per
subtask, as LONG values; bad bounds are refused with the values named."""

from __future__ import annotations

import pytest

from flink_py.common import Types, WatermarkStrategy
from flink_py.datastream import StreamExecutionEnvironment
from flink_py.datastream.connectors import NumberSequenceSource
from flink_py.datastream.connectors.number_seq import NumberSequenceSource as FromModule
from flink_py.errors import InvalidProgramError


@pytest.mark.parametrize("parallelism", [1, 2, 3])
def test_every_number_once(parallelism: int) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    stream = env.from_source(NumberSequenceSource(-5, 994),
                             WatermarkStrategy.no_watermarks(), "sequence")
    assert stream.get_type() == Types.LONG()
    numbers = list(stream.map(lambda n: n * 2, output_type=Types.LONG()).execute_and_collect())
    assert sorted(numbers) == [2 * n for n in range(-5, 995)]


def test_each_subtask_emits_a_contiguous_part() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    stream = env.from_source(NumberSequenceSource(1, 10), WatermarkStrategy.no_watermarks(),
                             "sequence")
    from flink_py.datastream.functions import MapFunction

    class WithSubtask(MapFunction):
        def open(self, runtime_context):
            self.index = runtime_context.get_index_of_this_subtask()

        def map(self, value):
            return self.index, value

    seen = list(stream.map(WithSubtask()).execute_and_collect())
    by_subtask = {}
    for index, value in seen:
        by_subtask.setdefault(index, []).append(value)
    assert by_subtask == {0: [1, 2, 3, 4, 5], 1: [6, 7, 8, 9, 10]}


def test_the_module_path_is_pyflinks() -> None:
    assert FromModule is NumberSequenceSource


@pytest.mark.parametrize("start, end, message", [
    (5, 4, "start 5 must not be greater than end 4"),
    (1.5, 4, "start must be an int, got 1.5"),
    (1, "9", "end must be an int, got '9'"),
    (True, 3, "start must be an int, got True"),
])
def test_bad_bounds_are_refused(start, end, message) -> None:
    with pytest.raises(InvalidProgramError, match=message):
        NumberSequenceSource(start, end)


def test_jars_and_classpaths_are_accepted_with_a_warning(caplog) -> None:
    """PyFlink programs add connector jars; a Python runtime has no use for them."""
    env = StreamExecutionEnvironment.get_execution_environment()
    with caplog.at_level("WARNING"):
        env.add_jars("file:///opt/flink-sql-connector-kafka.jar", "file:///opt/other.jar")
        env.add_classpaths("file:///opt/classes")
    assert env.get_configuration().get_string("pipeline.jars") == (
        "file:///opt/flink-sql-connector-kafka.jar;file:///opt/other.jar")
    assert env.get_configuration().get_string("pipeline.classpaths") == "file:///opt/classes"
    warnings = [r.getMessage() for r in caplog.records if "no JVM" in r.getMessage()]
    assert len(warnings) == 2 and "flink-sql-connector-kafka.jar" in warnings[0]
    with pytest.raises(InvalidProgramError, match="add_jars expects paths or URLs"):
        env.add_jars("")
    numbers = env.from_source(NumberSequenceSource(1, 3), WatermarkStrategy.no_watermarks(),
                              "sequence").execute_and_collect()
    assert sorted(numbers) == [1, 2, 3]  # the job runs all the same
