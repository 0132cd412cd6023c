"""The DataStream API of PyFlink, each name used in a real job on the local MiniCluster.

Every test defines a job with the public API only (imports as in PyFlink, with ``pyflink``
replaced by ``flink_py``), runs it, and asserts what it produced: the records collected with
``execute_and_collect``, what a sink wrote to a file, or what a function saw in its
RuntimeContext. Side effects of functions that run in tasks are written to files under
``tmp_path``: functions are shipped to the tasks as copies, so they cannot report through the
test's objects.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
from collections import Counter
from typing import Any, Iterable, List

import pytest

from flink_py.common import JobExecutionResult, JobID, JobStatus, Row, Types, WatermarkStrategy
from flink_py.common.job_client import JobClient
from flink_py.datastream import (
    CoFlatMapFunction, CoMapFunction, FilterFunction, FlatMapFunction, KeySelector,
    MapFunction, OutputTag, Partitioner, ProcessFunction, ReduceFunction, RuntimeContext,
    RuntimeExecutionMode, SinkFunction, SourceFunction, StreamExecutionEnvironment)
from flink_py.datastream.connectors import FileSource, StreamFormat
from flink_py.datastream.data_stream import DataStream, DataStreamSink, KeyedStream
from flink_py.testing.poll import wait_until

DEADLINE_S = 20.0


# -- helpers ----------------------------------------------------------------------------------

def new_env(parallelism: int = 1) -> StreamExecutionEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    return env


def append_line(path: str, line: str) -> None:
    """Appends one line atomically (O_APPEND, a single small write) from any task thread."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def read_lines(path: str) -> List[str]:
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return f.read().splitlines()


class TagSubtask(MapFunction):
    """Maps a record to ``(subtask index, record)``."""

    def open(self, runtime_context: RuntimeContext) -> None:
        self.index = runtime_context.get_index_of_this_subtask()

    def map(self, value: Any) -> Any:
        return self.index, value


class ContextInfo(MapFunction):
    """Maps every record to what its RuntimeContext says (captured in open)."""

    def open(self, runtime_context: RuntimeContext) -> None:
        self.info = (
            runtime_context.get_task_name(),
            runtime_context.get_task_name_with_subtasks(),
            runtime_context.get_index_of_this_subtask(),
            runtime_context.get_number_of_parallel_subtasks(),
            runtime_context.get_max_number_of_parallel_subtasks(),
            runtime_context.get_job_parameter("threshold", "unset"),
        )

    def map(self, value: Any) -> Any:
        return self.info


def task_names(stream: DataStream) -> set:
    """The task names of the operator at the end of ``stream`` (one per subtask)."""
    class TaskName(MapFunction):
        def open(self, runtime_context: RuntimeContext) -> None:
            self.name = runtime_context.get_task_name()

        def map(self, value: Any) -> Any:
            return self.name

    names = set(stream.map(TaskName()).execute_and_collect())
    # The collect sink behind execute_and_collect may be chained to the end: not our concern.
    return {re.sub(r" -> [^>]*Collect[^>]*$", "", n) for n in names}


# -- StreamExecutionEnvironment -----------------------------------------------------------------

def test_get_execution_environment_returns_a_fresh_environment():
    env1 = StreamExecutionEnvironment.get_execution_environment()
    env2 = StreamExecutionEnvironment.get_execution_environment()
    assert isinstance(env1, StreamExecutionEnvironment)
    assert env1 is not env2
    env1.from_collection([1, 2, 3]).map(lambda x: x * 10)
    # The second environment does not see the first one's program.
    assert sorted(env2.from_collection([4]).execute_and_collect()) == [4]
    assert sorted(env1.from_collection([5]).execute_and_collect()) == [5]


def test_set_parallelism_and_get_parallelism():
    env = StreamExecutionEnvironment.get_execution_environment()
    assert env.set_parallelism(3) is env
    assert env.get_parallelism() == 3
    seen = env.from_collection(list(range(30))).map(ContextInfo()).execute_and_collect()
    infos = set(seen)
    assert {info[3] for info in infos} == {3}
    assert {info[2] for info in infos} == {0, 1, 2}


def test_set_max_parallelism_is_seen_by_operators():
    env = new_env(2)
    assert env.set_max_parallelism(64) is env
    infos = set(env.from_collection(list(range(20)))
                .key_by(lambda x: x % 5)
                .map(ContextInfo())
                .execute_and_collect())
    assert {info[4] for info in infos} == {64}


def test_set_runtime_mode_batch_emits_final_results_only():
    data = [("a", 1), ("b", 2), ("a", 3)]
    streaming = new_env()
    assert streaming.set_runtime_mode(RuntimeExecutionMode.STREAMING) is streaming
    out = streaming.from_collection(data).key_by(lambda t: t[0]).sum(1).execute_and_collect()
    assert sorted(out) == [("a", 1), ("a", 4), ("b", 2)]

    batch = new_env()
    batch.set_runtime_mode(RuntimeExecutionMode.BATCH)
    out = batch.from_collection(data).key_by(lambda t: t[0]).sum(1).execute_and_collect()
    assert sorted(out) == [("a", 4), ("b", 2)]


def test_disable_operator_chaining_runs_every_operator_in_its_own_task():
    chained = new_env()
    names = task_names(chained.from_collection([1, 2]).map(lambda x: x).name("First"))
    assert names == {"Source: Collection Source -> First -> Map"}

    unchained = new_env()
    assert unchained.disable_operator_chaining() is unchained
    names = task_names(unchained.from_collection([1, 2]).map(lambda x: x).name("First"))
    assert names == {"Map"}


def test_get_config_global_job_parameters_reach_the_runtime_context():
    env = new_env(2)
    env.get_config().set_global_job_parameters({"threshold": "3"})
    infos = set(env.from_collection(list(range(10))).map(ContextInfo()).execute_and_collect())
    assert {info[5] for info in infos} == {"3"}

    class AboveThreshold(FilterFunction):
        def open(self, runtime_context: RuntimeContext) -> None:
            self.threshold = int(runtime_context.get_job_parameter("threshold", "0"))

        def filter(self, value: Any) -> bool:
            return value > self.threshold

    env = new_env()
    env.get_config().set_global_job_parameters({"threshold": "6"})
    assert sorted(env.from_collection(list(range(10))).filter(AboveThreshold())
                  .execute_and_collect()) == [7, 8, 9]


def test_from_collection_without_type_info_keeps_python_objects():
    records = [1, "two", (3, "three"), {"four": [4]}, None, 5.5, Row(a=6)]
    env = new_env()
    ds = env.from_collection(records)
    assert ds.get_type() == Types.PICKLED_BYTE_ARRAY()
    assert list(ds.execute_and_collect()) == records


def test_from_collection_with_type_info():
    env = new_env()
    ds = env.from_collection([3, 1, 2], type_info=Types.INT())
    assert ds.get_type() == Types.INT()
    assert list(ds.map(lambda x: x * 2, output_type=Types.INT()).execute_and_collect()) == \
        [6, 2, 4]

    env = new_env()
    tuple_type = Types.TUPLE([Types.STRING(), Types.LONG()])
    ds = env.from_collection([("a", 1), ("b", 2)], type_info=tuple_type)
    assert ds.get_type() == tuple_type
    assert list(ds.execute_and_collect()) == [("a", 1), ("b", 2)]


def test_read_text_file_reads_lines_of_a_file_and_of_a_directory(tmp_path):
    path = tmp_path / "input.txt"
    path.write_text("first line\nsecond line\r\nthird line\n")
    env = new_env()
    ds = env.read_text_file(str(path))
    assert ds.get_type() == Types.STRING()
    assert list(ds.execute_and_collect()) == ["first line", "second line", "third line"]

    directory = tmp_path / "dir"
    directory.mkdir()
    (directory / "a.txt").write_text("a1\na2\n")
    (directory / "b.txt").write_text("b1")
    env = new_env(2)
    assert sorted(env.read_text_file(str(directory)).execute_and_collect()) == \
        ["a1", "a2", "b1"]


def test_from_source_with_a_file_source(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("to be\nor not\nto be\n")
    source = FileSource.for_record_stream_format(
        StreamFormat.text_line_format(), str(path)).build()
    env = new_env()
    ds = env.from_source(source, WatermarkStrategy.no_watermarks(), "file-source")
    assert ds.get_type() == Types.STRING()
    counts = (ds.flat_map(lambda line: [(w, 1) for w in line.split()])
              .key_by(lambda t: t[0]).sum(1).execute_and_collect())
    final = {}
    for word, count in counts:
        final[word] = count
    assert final == {"to": 2, "be": 2, "or": 1, "not": 1}


def test_socket_text_stream_reads_lines_from_a_server():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(DEADLINE_S)
    port = server.getsockname()[1]
    errors: List[BaseException] = []

    def serve() -> None:
        try:
            conn, _ = server.accept()
            with conn:
                conn.sendall(b"hello world\nfoo\r\n")
                conn.sendall(b"bar\nlast without newline")
        except BaseException as exc:  # reported by the test below
            errors.append(exc)
        finally:
            server.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    env = new_env()
    ds = env.socket_text_stream("127.0.0.1", port)
    assert ds.get_type() == Types.STRING()
    lines = list(ds.execute_and_collect())
    thread.join(DEADLINE_S)
    assert not errors
    assert lines == ["hello world", "foo", "bar", "last without newline"]


class CountingSource(SourceFunction):
    """A bounded SourceFunction: emits ``0..n-1`` and returns."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.running = True

    def run(self, ctx: SourceFunction.SourceContext) -> None:
        for i in range(self.n):
            if not self.running:
                return
            ctx.collect(i)

    def cancel(self) -> None:
        self.running = False


class EndlessSource(SourceFunction):
    """An unbounded SourceFunction: emits a few records, then waits until cancelled.

    It gives up after ``max_wait_s`` (logging "gave up") so that a job that is never
    cancelled still ends.
    """

    def __init__(self, log_path: str, first_records: int = 5, max_wait_s: float = 30.0
                 ) -> None:
        self.log_path = log_path
        self.first_records = first_records
        self.max_wait_s = max_wait_s

    def open(self, runtime_context: RuntimeContext) -> None:
        self.cancelled = threading.Event()

    def run(self, ctx: SourceFunction.SourceContext) -> None:
        append_line(self.log_path, "run")
        for i in range(self.first_records):
            ctx.collect(i)
        # Waits for cancel(), the only way an unbounded source ends.
        if not self.cancelled.wait(self.max_wait_s):
            append_line(self.log_path, "gave up")
        append_line(self.log_path, "run returned")

    def cancel(self) -> None:
        append_line(self.log_path, "cancel")
        self.cancelled.set()


def test_add_source_with_a_bounded_source_function():
    env = new_env()
    ds = env.add_source(CountingSource(2500), "counting", type_info=Types.INT())
    assert ds.get_type() == Types.INT()
    assert list(ds.execute_and_collect()) == list(range(2500))


def test_add_source_with_an_unbounded_source_function_is_cancelled(tmp_path):
    log = str(tmp_path / "source.log")
    env = new_env()
    ds = env.add_source(EndlessSource(log))
    assert ds.get_type() == Types.PICKLED_BYTE_ARRAY()
    # Closing the iterator before the end cancels the job, which cancels the source.
    with ds.map(lambda x: x * 2).execute_and_collect() as results:
        assert [next(results) for _ in range(5)] == [0, 2, 4, 6, 8]
    wait_until(lambda: "run returned" in read_lines(log), "the source's run() to return")
    assert "cancel" in read_lines(log)
    assert "gave up" not in read_lines(log)


def test_execute_and_collect_with_limit_returns_after_the_last_wanted_record(tmp_path):
    log = str(tmp_path / "source.log")
    env = new_env()
    # The source emits 5 records, then waits up to 3 s for cancel() before ending by itself.
    ds = env.add_source(EndlessSource(log, first_records=5, max_wait_s=3.0))
    assert ds.execute_and_collect(limit=5) == [0, 1, 2, 3, 4]
    wait_until(lambda: "run returned" in read_lines(log), "the source's run() to return")
    assert "gave up" not in read_lines(log)
    assert "cancel" in read_lines(log)


def test_get_execution_plan_describes_the_program(capfd):
    env = new_env(2)
    (env.from_collection([("a", 1)]).name("numbers")
     .key_by(lambda t: t[0]).sum(1).name("summing")
     .print())
    plan = json.loads(env.get_execution_plan())
    nodes = plan["nodes"]
    # Flink shows the print sink as "Sink: Print to Std. Out"; either spelling will do here.
    by_contents = {("Print to Std. Out" if "Print to Std. Out" in n["contents"]
                    else n["contents"]): n for n in nodes}
    assert set(by_contents) >= {"numbers", "summing", "Print to Std. Out"}
    assert by_contents["numbers"]["pact"] == "Data Source"
    assert by_contents["numbers"]["parallelism"] == 1
    assert by_contents["summing"]["parallelism"] == 2
    assert by_contents["Print to Std. Out"]["pact"] == "Data Sink"
    (summing_input,) = by_contents["summing"]["predecessors"]
    assert summing_input["id"] == by_contents["numbers"]["id"]
    assert summing_input["ship_strategy"] == "HASH"
    (print_input,) = by_contents["Print to Std. Out"]["predecessors"]
    assert print_input["ship_strategy"] == "FORWARD"
    # Asking for the plan does not consume the program.
    assert json.loads(env.get_execution_plan()) == plan
    env.execute()
    (line,) = capfd.readouterr().out.splitlines()
    assert line.endswith("> ('a', 1)")


def test_execute_returns_a_job_execution_result(tmp_path):
    out = str(tmp_path / "out.txt")
    env = new_env()
    env.from_collection([1, 2, 3]).map(lambda x: x + 1).add_sink(
        lambda v: append_line(out, str(v)))
    result = env.execute("my job")
    assert isinstance(result, JobExecutionResult)
    assert isinstance(result.get_job_id(), JobID)
    assert len(str(result.get_job_id())) == 32
    assert isinstance(result.get_net_runtime(), int) and result.get_net_runtime() >= 0
    assert sorted(read_lines(out)) == ["2", "3", "4"]


def test_execute_async_returns_a_job_client_of_a_bounded_job(tmp_path):
    out = str(tmp_path / "out.txt")
    env = new_env()
    env.from_collection(list(range(10))).add_sink(lambda v: append_line(out, str(v)))
    client = env.execute_async("async job")
    assert isinstance(client, JobClient)
    job_id = client.get_job_id()
    assert isinstance(job_id, JobID)
    result = client.get_job_execution_result().result(timeout=DEADLINE_S)
    assert isinstance(result, JobExecutionResult)
    assert result.get_job_id() == job_id
    assert sorted(int(v) for v in read_lines(out)) == list(range(10))
    assert client.get_job_status().result(timeout=DEADLINE_S) is JobStatus.FINISHED


def test_execute_async_job_client_cancels_a_running_job(tmp_path):
    log = str(tmp_path / "source.log")
    env = new_env()
    env.add_source(EndlessSource(log)).add_sink(lambda v: None)
    client = env.execute_async("endless")
    wait_until(lambda: client.get_job_status().result(timeout=DEADLINE_S) is JobStatus.RUNNING,
               "the job to run")
    wait_until(lambda: "run" in read_lines(log), "the source to run")
    client.cancel().result(timeout=DEADLINE_S)
    with pytest.raises(Exception):
        client.get_job_execution_result().result(timeout=DEADLINE_S)
    wait_until(lambda: client.get_job_status().result(timeout=DEADLINE_S) is JobStatus.CANCELED,
               "the job to be CANCELED")
    assert "cancel" in read_lines(log)


# -- DataStream transformations ---------------------------------------------------------------

def test_map_with_a_callable_and_a_map_function():
    class Square(MapFunction):
        def map(self, value: Any) -> Any:
            return value * value

    env = new_env(2)
    ds = env.from_collection([1, 2, 3, 4])
    assert sorted(ds.map(lambda x: x + 1).map(Square()).execute_and_collect()) == [4, 9, 16, 25]


def test_flat_map_returning_a_list_and_yielding():
    def split_yielding(line: str) -> Iterable[str]:
        for word in line.split():
            yield word.upper()

    class Repeat(FlatMapFunction):
        def flat_map(self, value: Any) -> Iterable[Any]:
            for _ in range(value):
                yield value

    env = new_env()
    lines = env.from_collection(["a b", "", "c"])
    assert list(lines.flat_map(lambda line: line.split()).execute_and_collect()) == \
        ["a", "b", "c"]
    env = new_env()
    assert list(env.from_collection(["a b", "c"]).flat_map(split_yielding)
                .execute_and_collect()) == ["A", "B", "C"]
    env = new_env(2)
    assert sorted(env.from_collection([0, 1, 2, 3]).flat_map(Repeat())
                  .execute_and_collect()) == [1, 2, 2, 3, 3, 3]


def test_filter_with_a_callable_and_a_filter_function():
    class Even(FilterFunction):
        def filter(self, value: Any) -> bool:
            return value % 2 == 0

    env = new_env(2)
    ds = env.from_collection(list(range(20)))
    assert sorted(ds.filter(Even()).filter(lambda x: x > 10).execute_and_collect()) == \
        [12, 14, 16, 18]


@pytest.mark.parametrize("how", ["callable", "key_selector", "key_type"])
def test_key_by_groups_equal_keys_on_one_subtask(how):
    class FirstField(KeySelector):
        def get_key(self, value: Any) -> Any:
            return value[0]

    env = new_env(3)
    data = [(f"k{i % 7}", i) for i in range(70)]
    ds = env.from_collection(data)
    if how == "callable":
        keyed = ds.key_by(lambda t: t[0])
    elif how == "key_selector":
        keyed = ds.key_by(FirstField())
    else:
        keyed = ds.key_by(lambda t: t[0], key_type=Types.STRING())
    assert isinstance(keyed, KeyedStream)
    tagged = list(keyed.map(TagSubtask()).execute_and_collect())
    subtasks_of_key: dict = {}
    for index, (key, _) in tagged:
        subtasks_of_key.setdefault(key, set()).add(index)
    assert all(len(s) == 1 for s in subtasks_of_key.values()), subtasks_of_key
    assert sorted(v for _, v in tagged) == sorted(data)


def test_key_by_with_reduce_keeps_one_value_per_key():
    class Add(ReduceFunction):
        def reduce(self, value1: Any, value2: Any) -> Any:
            return value1[0], value1[1] + value2[1]

    env = new_env(2)
    ds = env.from_collection([("a", 1), ("b", 10), ("a", 2), ("b", 20), ("a", 3)])
    out = list(ds.key_by(lambda t: t[0], key_type=Types.STRING()).reduce(Add())
               .execute_and_collect())
    assert [t for t in out if t[0] == "a"] == [("a", 1), ("a", 3), ("a", 6)]
    assert [t for t in out if t[0] == "b"] == [("b", 10), ("b", 30)]


def test_union_of_three_streams():
    env = new_env(2)
    s1 = env.from_collection([1, 2, 3])
    s2 = env.from_collection([10, 20])
    s3 = env.from_collection([100]).map(lambda x: x + 1)
    assert sorted(s1.union(s2, s3).execute_and_collect()) == [1, 2, 3, 10, 20, 101]

    env = new_env()
    a = env.from_collection(["x"], type_info=Types.STRING())
    b = env.from_collection(["y"], type_info=Types.STRING())
    c = env.from_collection(["z"], type_info=Types.STRING())
    union = a.union(b, c)
    assert union.get_type() == Types.STRING()
    assert sorted(union.execute_and_collect()) == ["x", "y", "z"]


def test_connect_with_a_co_map_function():
    class Describe(CoMapFunction):
        def map1(self, value: Any) -> Any:
            return f"int {value}"

        def map2(self, value: Any) -> Any:
            return f"str {value}"

    env = new_env(2)
    ints = env.from_collection([1, 2])
    strings = env.from_collection(["a"])
    out = ints.connect(strings).map(Describe(), output_type=Types.STRING())
    assert out.get_type() == Types.STRING()
    assert sorted(out.execute_and_collect()) == ["int 1", "int 2", "str a"]


def test_connect_with_a_co_flat_map_function():
    class Split(CoFlatMapFunction):
        def flat_map1(self, value: Any) -> Iterable[Any]:
            yield from value.split()

        def flat_map2(self, value: Any) -> Iterable[Any]:
            return [value] * value

    env = new_env()
    out = (env.from_collection(["a b", "c"]).connect(env.from_collection([2, 0]))
           .flat_map(Split()))
    assert sorted(out.execute_and_collect(), key=str) == [2, 2, "a", "b", "c"]


def test_connected_streams_key_by_brings_equal_keys_together():
    class Join(CoFlatMapFunction):
        def open(self, runtime_context: RuntimeContext) -> None:
            self.index = runtime_context.get_index_of_this_subtask()

        def flat_map1(self, value: Any) -> Iterable[Any]:
            yield value[0], "left", self.index

        def flat_map2(self, value: Any) -> Iterable[Any]:
            yield value["id"], "right", self.index

    env = new_env(4)
    left = env.from_collection([(f"k{i}", i) for i in range(20)])
    right = env.from_collection([{"id": f"k{i}"} for i in range(20)])
    out = list(left.connect(right).key_by(lambda t: t[0], lambda d: d["id"])
               .flat_map(Join()).execute_and_collect())
    assert len(out) == 40
    subtasks: dict = {}
    for key, side, index in out:
        subtasks.setdefault(key, set()).add(index)
    assert set(subtasks) == {f"k{i}" for i in range(20)}
    assert all(len(s) == 1 for s in subtasks.values()), subtasks
    assert len({i for s in subtasks.values() for i in s}) > 1


def test_process_function_yields_main_and_side_outputs():
    odd_tag = OutputTag("odd", Types.INT())
    big_tag = OutputTag("big")

    class Split(ProcessFunction):
        def process_element(self, value: Any, ctx: ProcessFunction.Context) -> Iterable[Any]:
            if value % 2:
                yield odd_tag, value
            else:
                yield value * 10
            if value > 7:
                yield big_tag, f"big {value}"

    env = new_env(2)
    main = env.from_collection(list(range(10))).process(Split(), output_type=Types.INT())
    assert main.get_type() == Types.INT()
    odd = main.get_side_output(odd_tag)
    big = main.get_side_output(big_tag)
    assert odd.get_type() == Types.INT()
    out = list(main.map(lambda v: ("main", v))
               .union(odd.map(lambda v: ("odd", v)), big.map(lambda v: ("big", v)))
               .execute_and_collect())
    assert sorted(v for k, v in out if k == "main") == [0, 20, 40, 60, 80]
    assert sorted(v for k, v in out if k == "odd") == [1, 3, 5, 7, 9]
    assert sorted(v for k, v in out if k == "big") == ["big 8", "big 9"]


def test_output_tag_with_a_list_of_types_is_a_row_type():
    tag = OutputTag("row", [Types.STRING(), Types.LONG()])
    assert tag.get_type_info() == Types.ROW([Types.STRING(), Types.LONG()])


def test_process_with_a_callable():
    env = new_env()
    out = env.from_collection([1, 2]).process(lambda value, ctx: [value, -value])
    assert list(out.execute_and_collect()) == [1, -1, 2, -2]


def test_print_writes_records_to_stdout(capfd):
    env = new_env()
    sink = env.from_collection(["hello", "world"], type_info=Types.STRING()).print()
    assert isinstance(sink, DataStreamSink)
    env.execute()
    assert capfd.readouterr().out.splitlines() == ["hello", "world"]


def test_add_sink_with_a_sink_function_and_a_callable(tmp_path):
    out1 = str(tmp_path / "sink1.txt")
    out2 = str(tmp_path / "sink2.txt")

    class FileSink(SinkFunction):
        def __init__(self, path: str) -> None:
            self.path = path

        def invoke(self, value: Any, context: SinkFunction.Context) -> None:
            assert isinstance(context.current_processing_time(), int)
            append_line(self.path, f"{value}")

    env = new_env(2)
    ds = env.from_collection(list(range(6)))
    sink1 = ds.add_sink(FileSink(out1))
    sink2 = ds.map(lambda x: -x).add_sink(lambda v: append_line(out2, str(v)))
    assert isinstance(sink1, DataStreamSink) and isinstance(sink2, DataStreamSink)
    env.execute()
    assert sorted(int(v) for v in read_lines(out1)) == list(range(6))
    assert sorted(int(v) for v in read_lines(out2)) == [-5, -4, -3, -2, -1, 0]


def test_execute_and_collect_is_an_iterator_and_a_context_manager():
    env = new_env()
    with env.from_collection(list(range(5000))).execute_and_collect() as results:
        assert iter(results) is results
        assert next(results) == 0
        assert list(results) == list(range(1, 5000))

    env = new_env()
    limited = env.from_collection(list(range(5000))).execute_and_collect(limit=3)
    assert limited == [0, 1, 2]

    env = new_env()
    named = env.from_collection([1]).execute_and_collect("named job", limit=10)
    assert named == [1]


def test_get_type_of_streams():
    env = new_env()
    ds = env.from_collection([1])
    assert ds.get_type() == Types.PICKLED_BYTE_ARRAY()
    assert ds.map(lambda x: x, output_type=Types.LONG()).get_type() == Types.LONG()
    assert ds.filter(lambda x: True).get_type() == Types.PICKLED_BYTE_ARRAY()
    typed = env.from_collection([("a", 1)], Types.TUPLE([Types.STRING(), Types.INT()]))
    assert typed.filter(lambda x: True).get_type() == \
        Types.TUPLE([Types.STRING(), Types.INT()])
    assert typed.key_by(lambda t: t[0]).get_type() == \
        Types.TUPLE([Types.STRING(), Types.INT()])
    assert typed.key_by(lambda t: t[0]).sum(1).get_type() == \
        Types.TUPLE([Types.STRING(), Types.INT()])


def test_set_parallelism_of_an_operator():
    env = new_env(1)
    ds = env.from_collection(list(range(12))).map(ContextInfo()).set_parallelism(3)
    infos = set(ds.execute_and_collect())
    assert {info[3] for info in infos} == {3}
    assert {info[2] for info in infos} == {0, 1, 2}


def test_name_and_uid_of_an_operator():
    env = new_env()
    mapped = env.from_collection([1, 2]).map(lambda x: x * 3)
    assert mapped.name("Tripler") is mapped
    assert mapped.uid("tripler-uid") is mapped
    assert mapped.get_name() == "Tripler"
    plan = json.loads(env.get_execution_plan())
    assert "Tripler" in [n["contents"] for n in plan["nodes"]]
    graph = env.get_stream_graph()
    assert "tripler-uid" in [n.uid for n in graph.nodes.values()]

    env = new_env()
    out = env.from_collection([1, 2]).map(lambda x: x * 3).name("Tripler").uid("tripler")
    assert task_names(out) == {"Source: Collection Source -> Tripler -> Map"}


def test_disable_chaining_and_start_new_chain():
    env = new_env()
    ds = env.from_collection([1]).map(lambda x: x).name("A")
    ds = ds.map(lambda x: x).name("B").disable_chaining()
    ds = ds.map(lambda x: x).name("C")
    assert task_names(ds) == {"C -> Map"}

    env = new_env()
    ds = env.from_collection([1]).map(lambda x: x).name("A")
    ds = ds.map(lambda x: x).name("B").start_new_chain()
    assert task_names(ds.map(lambda x: x).name("C")) == {"B -> C -> Map"}


def test_slot_sharing_group_breaks_chains():
    env = new_env()
    ds = env.from_collection([1, 2]).map(lambda x: x).name("A")
    ds = ds.map(lambda x: x).name("B").slot_sharing_group("other")
    assert ds.slot_sharing_group("other") is ds
    # B is in another slot sharing group than A, so it starts a task of its own.
    names = task_names(ds)
    assert "A" not in " ".join(names)
    env = new_env()
    ds = env.from_collection([1, 2]).map(lambda x: x + 1).slot_sharing_group("other")
    assert sorted(ds.execute_and_collect()) == [2, 3]


def test_slot_sharing_group_is_inherited_downstream():
    """An operator without a group takes its inputs' group (Flink's
    StreamGraphGenerator.determineSlotSharingGroup), so it chains to B."""
    env = new_env()
    ds = env.from_collection([1, 2]).map(lambda x: x).name("A")
    ds = ds.map(lambda x: x).name("B").slot_sharing_group("other")
    assert task_names(ds) == {"B -> Map"}


# -- partitioning -----------------------------------------------------------------------------

def _subtask_counts(stream: DataStream, parallelism: int) -> Counter:
    tagged = list(stream.map(TagSubtask()).set_parallelism(parallelism).execute_and_collect())
    return Counter(index for index, _ in tagged), sorted(v for _, v in tagged)


def test_rebalance_distributes_round_robin():
    env = new_env()
    counts, values = _subtask_counts(env.from_collection(list(range(100))).rebalance(), 4)
    assert values == list(range(100))
    assert counts == {0: 25, 1: 25, 2: 25, 3: 25}


def test_rescale_distributes_to_a_local_subset():
    env = new_env()
    counts, values = _subtask_counts(env.from_collection(list(range(99))).rescale(), 3)
    assert values == list(range(99))
    assert counts == {0: 33, 1: 33, 2: 33}

    # Two producers, four consumers: each producer feeds two consumers of its own.
    env = new_env()
    producers = env.from_collection(list(range(80))).rebalance().map(TagSubtask()) \
        .set_parallelism(2)
    out = list(producers.rescale().map(TagSubtask()).set_parallelism(4).execute_and_collect())
    consumers_of: dict = {}
    for consumer, (producer, _) in out:
        consumers_of.setdefault(producer, set()).add(consumer)
    assert sorted(v for _, (_, v) in out) == list(range(80))
    assert set(consumers_of) == {0, 1}
    assert all(len(c) == 2 for c in consumers_of.values()), consumers_of
    assert not consumers_of[0] & consumers_of[1]


def test_shuffle_delivers_every_record():
    env = new_env()
    counts, values = _subtask_counts(env.from_collection(list(range(400))).shuffle(), 4)
    assert values == list(range(400))
    assert sum(counts.values()) == 400
    assert set(counts) <= {0, 1, 2, 3}
    assert len(counts) > 1


def test_broadcast_sends_every_record_to_every_subtask():
    env = new_env()
    counts, values = _subtask_counts(env.from_collection(list(range(10))).broadcast(), 3)
    assert counts == {0: 10, 1: 10, 2: 10}
    assert values == sorted(list(range(10)) * 3)


def test_global_sends_every_record_to_subtask_zero():
    env = new_env()
    ds = env.from_collection(list(range(30))).rebalance().map(lambda x: x).set_parallelism(3)
    counts, values = _subtask_counts(ds.global_(), 3)
    assert counts == {0: 30}
    assert values == list(range(30))


def test_forward_keeps_the_subtask_index():
    env = new_env()
    producers = env.from_collection(list(range(40))).rebalance().map(TagSubtask()) \
        .set_parallelism(4)
    out = list(producers.forward().map(TagSubtask()).set_parallelism(4).execute_and_collect())
    assert len(out) == 40
    assert all(consumer == producer for consumer, (producer, _) in out)
    assert {consumer for consumer, _ in out} == {0, 1, 2, 3}


def test_partition_custom_with_a_partitioner_and_a_callable():
    class ModPartitioner(Partitioner):
        def partition(self, key: Any, num_partitions: int) -> int:
            return key % num_partitions

    env = new_env()
    ds = env.from_collection(list(range(20))).partition_custom(ModPartitioner(), lambda x: x)
    tagged = list(ds.map(TagSubtask()).set_parallelism(4).execute_and_collect())
    assert sorted(v for _, v in tagged) == list(range(20))
    assert all(index == value % 4 for index, value in tagged)

    env = new_env()
    ds = env.from_collection([("a", 5), ("b", 6)]).partition_custom(
        lambda key, n: key % n, lambda t: t[1])
    tagged = list(ds.map(TagSubtask()).set_parallelism(2).execute_and_collect())
    assert sorted(tagged) == [(0, ("b", 6)), (1, ("a", 5))]


# -- output types -----------------------------------------------------------------------------

def test_every_method_accepts_output_type():
    env = new_env()
    source = env.from_collection([1, 2, 3], type_info=Types.INT())

    class CoMap(CoMapFunction):
        def map1(self, value: Any) -> Any:
            return str(value)

        def map2(self, value: Any) -> Any:
            return str(value)

    class CoFlatMap(CoFlatMapFunction):
        def flat_map1(self, value: Any) -> Iterable[Any]:
            yield str(value)

        def flat_map2(self, value: Any) -> Iterable[Any]:
            yield str(value)

    streams = {
        "map": source.map(lambda x: str(x), output_type=Types.STRING()),
        "flat_map": source.flat_map(lambda x: [str(x)], output_type=Types.STRING()),
        "process": source.process(lambda x, ctx: [str(x)], output_type=Types.STRING()),
        "co_map": source.connect(source).map(CoMap(), output_type=Types.STRING()),
        "co_flat_map": source.connect(source).flat_map(CoFlatMap(),
                                                       output_type=Types.STRING()),
        "keyed_map": source.key_by(lambda x: x, key_type=Types.INT())
        .map(lambda x: str(x), output_type=Types.STRING()),
        "keyed_flat_map": source.key_by(lambda x: x)
        .flat_map(lambda x: [str(x)], output_type=Types.STRING()),
    }
    for name, stream in streams.items():
        assert stream.get_type() == Types.STRING(), name
    union = streams["map"].union(*[s for n, s in streams.items() if n != "map"])
    out = list(union.execute_and_collect())
    assert Counter(out) == {"1": 9, "2": 9, "3": 9}


TYPED_VALUES = [
    ("INT", Types.INT(), 42),
    ("LONG", Types.LONG(), 2 ** 40),
    ("FLOAT", Types.FLOAT(), 1.5),
    ("DOUBLE", Types.DOUBLE(), 1e7),
    ("STRING", Types.STRING(), "héllo"),
    ("BOOLEAN", Types.BOOLEAN(), True),
    ("TUPLE", Types.TUPLE([Types.STRING(), Types.INT()]), ("a", 1)),
    ("ROW", Types.ROW([Types.STRING(), Types.INT()]), Row("a", 1)),
    ("ROW_NAMED", Types.ROW_NAMED(["name", "count"], [Types.STRING(), Types.INT()]),
     Row(name="a", count=1)),
    ("LIST", Types.LIST(Types.INT()), [1, 2, 3]),
    ("MAP", Types.MAP(Types.STRING(), Types.INT()), {"a": 1, "b": 2}),
    ("PICKLED_BYTE_ARRAY", Types.PICKLED_BYTE_ARRAY(), {"any": ("python", "object")}),
]


@pytest.mark.parametrize("name,type_info,value", TYPED_VALUES, ids=[t[0] for t in TYPED_VALUES])
def test_types_as_output_types(name, type_info, value):
    env = new_env()
    ds = env.from_collection([0]).map(lambda _: value, output_type=type_info)
    assert ds.get_type() == type_info
    # Through a network exchange and a second operator of the same output type.
    out = list(ds.rebalance().map(lambda v: v, output_type=type_info).set_parallelism(2)
               .execute_and_collect())
    if name == "ROW":
        # As in PyFlink, a row read back by its type's serializer is named by the type.
        value = Row(f0="a", f1=1)
    assert out == [value]
    assert type(out[0]) is type(value)


def test_row_access_by_attribute_name_and_index():
    row_type = Types.ROW_NAMED(["word", "count"], [Types.STRING(), Types.INT()])
    env = new_env()
    rows = env.from_collection([Row(word="a", count=1), Row(word="b", count=2)],
                               type_info=row_type)
    out = list(rows.map(lambda r: (r.word, r["count"], r[0], r[1])).execute_and_collect())
    assert out == [("a", 1, "a", 1), ("b", 2, "b", 2)]

    env = new_env()
    made = env.from_collection([("x", 7)]).map(lambda t: Row(word=t[0], count=t[1]),
                                                output_type=row_type)
    (row,) = list(made.execute_and_collect())
    assert isinstance(row, Row)
    assert (row.word, row["count"], row[0], row[1]) == ("x", 7, "x", 7)
    assert row.as_dict() == {"word": "x", "count": 7}


def test_tuples_given_a_row_type_become_rows():
    row_type = Types.ROW_NAMED(["word", "count"], [Types.STRING(), Types.INT()])
    env = new_env()
    rows = env.from_collection([("a", 1), ("b", 2)], type_info=row_type)
    assert list(rows.map(lambda r: (r.word, r["count"], r[0])).execute_and_collect()) == \
        [("a", 1, "a"), ("b", 2, "b")]
    env = new_env()
    made = env.from_collection([("x", 7)]).map(lambda t: Row(*t), output_type=row_type)
    (row,) = list(made.execute_and_collect())
    assert isinstance(row, Row) and row.word == "x" and row.count == 7
    # a map's tuple is no Row: PyFlink's row coder fails for it (AttributeError: 'tuple'
    # object has no attribute 'get_fields_by_names'), flink_py in the map that made it
    env = new_env()
    made = env.from_collection([("x", 7)]).map(lambda t: t, output_type=row_type)
    with pytest.raises(Exception, match=r"record made in operator 'Map' \(subtask 1/1\): "
                                        r"value \('x', 7\) does not match declared type "
                                        r"Types.ROW_NAMED.*a tuple, expected a Row"):
        list(made.execute_and_collect())


# -- rich functions and the RuntimeContext ---------------------------------------------------------

class Lifecycle(MapFunction):
    """Logs open/close with the subtask index; checks they bracket the records."""

    def __init__(self, log_path: str) -> None:
        self.log_path = log_path
        self.opened = False

    def open(self, runtime_context: RuntimeContext) -> None:
        self.index = runtime_context.get_index_of_this_subtask()
        self.opened = True
        self.records = 0
        append_line(self.log_path, f"open {self.index}")

    def map(self, value: Any) -> Any:
        assert self.opened
        self.records += 1
        return value

    def close(self) -> None:
        append_line(self.log_path, f"close {self.index} after {self.records}")


def test_open_and_close_are_called_once_per_subtask(tmp_path):
    log = str(tmp_path / "lifecycle.log")
    env = new_env(3)
    env.from_collection(list(range(30))).rebalance().map(Lifecycle(log)).add_sink(lambda v: None)
    env.execute()
    lines = read_lines(log)
    opens = sorted(line for line in lines if line.startswith("open"))
    closes = [line.split() for line in lines if line.startswith("close")]
    assert opens == ["open 0", "open 1", "open 2"]
    assert sorted(c[1] for c in closes) == ["0", "1", "2"]
    assert sum(int(c[3]) for c in closes) == 30
    for index in "012":
        assert lines.index(f"open {index}") < \
            [i for i, line in enumerate(lines) if line.startswith(f"close {index}")][0]


def test_runtime_context_describes_the_subtask():
    env = new_env(2)
    env.set_max_parallelism(16)
    env.get_config().set_global_job_parameters({"threshold": "5"})
    infos = set(env.from_collection(list(range(20))).rebalance()
                .map(ContextInfo()).name("Inspect").execute_and_collect())
    assert len(infos) == 2
    for task_name, with_subtasks, index, parallelism, max_parallelism, parameter in infos:
        assert task_name == "Inspect"
        assert with_subtasks.startswith(f"Inspect ({index + 1}/2)")
        assert parallelism == 2
        assert max_parallelism == 16
        assert parameter == "5"
    assert {info[2] for info in infos} == {0, 1}


def test_task_name_with_subtasks_includes_the_attempt_number():
    env = new_env(2)
    infos = set(env.from_collection(list(range(4))).rebalance()
                .map(ContextInfo()).name("Inspect").execute_and_collect())
    assert {info[1] for info in infos} == {"Inspect (1/2)#0", "Inspect (2/2)#0"}
