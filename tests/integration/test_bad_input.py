"""Bad programs and bad data: each is an error that names the bad value (and the operator
where there is one), raised when the job is defined wherever that is possible, and never a
hang: a job that must fail fails promptly.

Definition-time errors are ``InvalidProgramError`` (a ``FlinkPyError`` and a ``ValueError``);
a failing job raises ``JobExecutionError`` from ``execute()`` / ``execute_and_collect()``
whose message carries the failing task, the operator and subtask, and the user's traceback.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import traceback
from typing import Any, Iterable, List

import pytest

from flink_py.common import Row, Types
from flink_py.datastream import (
    FilterFunction, FlatMapFunction, KeySelector, MapFunction, OutputTag, ProcessFunction,
    ReduceFunction, RuntimeContext, RuntimeExecutionMode, SinkFunction, SourceFunction,
    StreamExecutionEnvironment)
from flink_py.datastream.connectors import FileSource, StreamFormat
from flink_py.errors import (
    FlinkPyError, InvalidFieldReferenceError, InvalidProgramError, JobExecutionError)

pytestmark = pytest.mark.timeout(60)


def new_env(parallelism: int = 1) -> StreamExecutionEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    return env


def causes(exc: BaseException) -> List[BaseException]:
    """``exc`` and its ``__cause__`` chain."""
    chain = []
    while exc is not None and len(chain) < 20:
        chain.append(exc)
        exc = exc.__cause__
    return chain


def append_line(path: str, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


class UserError(Exception):
    """What the user's functions raise."""


# -- functions that are not functions ------------------------------------------------------------

class MyMap(MapFunction):
    def map(self, value: Any) -> Any:
        return value


class MyFlatMap(FlatMapFunction):
    def flat_map(self, value: Any) -> Iterable[Any]:
        yield value


class MyFilter(FilterFunction):
    def filter(self, value: Any) -> bool:
        return True


class MyKeySelector(KeySelector):
    def get_key(self, value: Any) -> Any:
        return value


class MyProcess(ProcessFunction):
    def process_element(self, value: Any, ctx: ProcessFunction.Context) -> Iterable[Any]:
        yield value


class MySink(SinkFunction):
    def invoke(self, value: Any, context: SinkFunction.Context) -> None:
        pass


class MyReduce(ReduceFunction):
    def reduce(self, value1: Any, value2: Any) -> Any:
        return value1


def apply(api: str, argument: Any) -> Any:
    env = new_env()
    ds = env.from_collection([1, 2, 3])
    if api == "reduce":
        return ds.key_by(lambda x: x).reduce(argument)
    return getattr(ds, api)(argument)


NOT_CALLABLE = [
    ("map", 3, "3"),
    ("flat_map", "split", "'split'"),
    ("filter", None, "None"),
    ("key_by", 1.5, "1.5"),
    ("key_by", "word", "'word'"),
    ("process", [1, 2], "[1, 2]"),
    ("add_sink", {"path": "/tmp/x"}, "{'path': '/tmp/x'}"),
    ("reduce", 42, "42"),
]


@pytest.mark.parametrize("api,argument,shown", NOT_CALLABLE,
                         ids=[f"{a}-{s}" for a, _, s in NOT_CALLABLE])
def test_non_callable_functions_are_rejected_at_definition_time(api, argument, shown):
    with pytest.raises(InvalidProgramError) as info:
        apply(api, argument)
    message = str(info.value)
    assert api in message
    assert shown in message


FUNCTION_CLASSES = [("map", MyMap), ("flat_map", MyFlatMap), ("filter", MyFilter),
                    ("key_by", MyKeySelector), ("process", MyProcess), ("add_sink", MySink),
                    ("reduce", MyReduce)]


@pytest.mark.parametrize("api,function_class", FUNCTION_CLASSES,
                         ids=[a for a, _ in FUNCTION_CLASSES])
def test_a_function_class_instead_of_an_instance_is_rejected(api, function_class):
    with pytest.raises(InvalidProgramError) as info:
        apply(api, function_class)
    message = str(info.value)
    assert api in message
    assert function_class.__name__ in message
    assert "instantiate" in message
    # The instance is fine.
    apply(api, function_class())


def test_callable_classes_that_are_not_functions_are_accepted():
    """Only Function subclasses are "a class instead of an instance"; int, str, list are
    plain callables, as PyFlink accepts them."""
    env = new_env()
    out = env.from_collection(["1", "22"]).map(int).key_by(str).map(str).flat_map(list)
    assert sorted(out.execute_and_collect()) == ["1", "2", "2"]


def test_co_functions_must_be_co_function_instances():
    env = new_env()
    connected = env.from_collection([1]).connect(env.from_collection(["a"]))
    with pytest.raises(InvalidProgramError, match="CoMapFunction.*function"):
        connected.map(lambda x: x)
    with pytest.raises(InvalidProgramError, match="CoFlatMapFunction.*7"):
        connected.flat_map(7)


def test_other_bad_arguments_name_the_value():
    env = new_env()
    with pytest.raises(InvalidProgramError, match="from_collection.*'abc'"):
        env.from_collection("abc")
    with pytest.raises(InvalidProgramError, match="from_collection.*5"):
        env.from_collection(5)
    with pytest.raises(InvalidProgramError, match="SourceFunction.*function"):
        env.add_source(lambda ctx: None)
    with pytest.raises(InvalidProgramError, match="union.*\\[1\\]"):
        env.from_collection([1]).union([1])
    with pytest.raises(InvalidProgramError, match="connect.*5"):
        env.from_collection([1]).connect(5)
    with pytest.raises(InvalidProgramError, match="set_runtime_mode.*'BATCH'"):
        env.set_runtime_mode("BATCH")
    with pytest.raises(InvalidProgramError, match="sum.*1.0"):
        env.from_collection([(1, 2)]).key_by(lambda t: t[0]).sum(1.0)
    with pytest.raises(InvalidProgramError, match="OutputTag.*''"):
        OutputTag("")
    with pytest.raises(InvalidProgramError, match="get_side_output.*'late'"):
        env.from_collection([1]).process(MyProcess()).get_side_output("late")


def test_executing_an_empty_program_is_an_error():
    with pytest.raises(InvalidProgramError, match="no operators"):
        new_env().execute()


# -- fields that the records do not have ---------------------------------------------------------

def test_key_by_on_a_missing_tuple_index_fails_at_definition_time_with_type_info():
    env = new_env()
    ds = env.from_collection([(1, 2)], type_info=Types.TUPLE([Types.INT(), Types.INT()]))
    with pytest.raises(InvalidFieldReferenceError) as info:
        ds.key_by(5)
    assert "5" in str(info.value)
    assert "TupleTypeInfo(Integer, Integer)" in str(info.value)
    rows = env.from_collection([Row(1, 2)], type_info=Types.ROW([Types.INT(), Types.INT()]))
    with pytest.raises(InvalidFieldReferenceError, match="2"):
        rows.key_by(2)


def test_key_by_on_a_missing_index_fails_the_job_naming_the_record():
    env = new_env(2)
    ds = env.from_collection([(1, 2), (3, 4)])
    with pytest.raises(JobExecutionError) as info:
        list(ds.key_by(5).map(lambda x: x).execute_and_collect())
    message = str(info.value)
    assert "(1, 2)" in message or "(3, 4)" in message
    assert "5" in message


def test_key_by_on_a_missing_index_fails_the_job_at_parallelism_1():
    env = new_env(1)
    ds = env.from_collection([(1, 2)])
    with pytest.raises(JobExecutionError, match=r"\(1, 2\)"):
        list(ds.key_by(5).map(lambda x: x).execute_and_collect())


def test_a_failing_key_selector_fails_the_job_at_parallelism_1():
    env = new_env(1)
    ds = env.from_collection([(1, 2)])
    with pytest.raises(JobExecutionError, match="IndexError"):
        list(ds.key_by(lambda t: t[9]).map(lambda x: x).execute_and_collect())


def test_aggregation_on_a_missing_field_fails_at_definition_time():
    env = new_env()
    pair = env.from_collection([(1, 2)], type_info=Types.TUPLE([Types.INT(), Types.INT()]))
    with pytest.raises(InvalidFieldReferenceError, match="5"):
        pair.key_by(lambda t: t[0]).sum(5)
    named = env.from_collection([Row(word="a", count=1)], type_info=Types.ROW_NAMED(
        ["word", "count"], [Types.STRING(), Types.INT()]))
    with pytest.raises(InvalidFieldReferenceError, match="'nosuch'"):
        named.key_by(lambda r: r.word).max("nosuch")


# -- sums of things that are not numbers -------------------------------------------------------

def test_sum_on_a_non_numeric_field_fails_at_definition_time_with_type_info():
    env = new_env()
    ds = env.from_collection([("a", "x")], type_info=Types.TUPLE([Types.STRING(), Types.STRING()]))
    with pytest.raises(InvalidFieldReferenceError) as info:
        ds.key_by(lambda t: t[0]).sum(1)
    assert "sum(1)" in str(info.value)
    assert "String" in str(info.value)

    rows = env.from_collection([Row(word="a", count=1)], type_info=Types.ROW_NAMED(
        ["word", "count"], [Types.STRING(), Types.INT()]))
    with pytest.raises(InvalidFieldReferenceError, match="sum\\('word'\\)"):
        rows.key_by(lambda r: r.word).sum("word")


@pytest.mark.parametrize("data,shown", [
    ([("a", "x"), ("a", "y")], "'x'"),
    ([("a", 1), ("a", "y")], "'y'"),
    ([("a", 1), ("a", [2])], "[2]"),
], ids=["first-record", "later-record", "list"])
def test_sum_on_a_non_numeric_pickled_field_fails_the_job(data, shown):
    env = new_env()
    with pytest.raises(JobExecutionError) as info:
        list(env.from_collection(data).key_by(lambda t: t[0]).sum(1).execute_and_collect())
    message = str(info.value)
    assert "sum(1)" in message
    assert shown in message
    assert "Keyed Aggregation" in message


def test_field_1_of_a_basic_value_fails_the_job():
    env = new_env()
    with pytest.raises(JobExecutionError, match="field 1"):
        list(env.from_collection([1, 2]).key_by(lambda x: x).sum(1).execute_and_collect())


# -- inputs that do not exist ---------------------------------------------------------------------

def test_read_text_file_of_a_missing_file_fails_at_definition_time(tmp_path):
    missing = str(tmp_path / "no-such-file.txt")
    env = new_env()
    with pytest.raises(InvalidProgramError) as info:
        env.read_text_file(missing)
    assert missing in str(info.value)


def test_file_source_of_a_missing_file_fails_at_definition_time(tmp_path):
    missing = str(tmp_path / "no-such-dir" / "input.txt")
    with pytest.raises(InvalidProgramError) as info:
        FileSource.for_record_stream_format(StreamFormat.text_line_format(), missing).build()
    assert missing in str(info.value)


def test_socket_text_stream_to_a_closed_port_fails_promptly_naming_the_address():
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens on the port now
    env = new_env()
    ds = env.socket_text_stream("127.0.0.1", port)
    started = time.monotonic()
    with pytest.raises(JobExecutionError) as info:
        list(ds.execute_and_collect())
    assert time.monotonic() - started < 10
    assert f"127.0.0.1:{port}" in str(info.value)


@pytest.mark.parametrize("port", [0, -1, 65536, "9999", None])
def test_socket_text_stream_rejects_bad_ports(port):
    with pytest.raises(InvalidProgramError, match="port"):
        new_env().socket_text_stream("localhost", port)


def test_batch_mode_rejects_an_unbounded_source():
    env = new_env()
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    env.socket_text_stream("localhost", 9).print()
    with pytest.raises(InvalidProgramError, match="UNBOUNDED"):
        env.execute()


# -- user functions that raise --------------------------------------------------------------------

class FailingOpen(MapFunction):
    def open(self, runtime_context: RuntimeContext) -> None:
        raise UserError("cannot reach the database")

    def map(self, value: Any) -> Any:
        return value


class FailingMap(MapFunction):
    def map(self, value: Any) -> Any:
        if value == 3:
            raise UserError(f"cannot handle {value}")
        return value


class FailingClose(MapFunction):
    def map(self, value: Any) -> Any:
        return value

    def close(self) -> None:
        raise UserError("cannot flush")


def run_failing(stream_builder: Any, parallelism: int = 1) -> JobExecutionError:
    env = new_env(parallelism)
    started = time.monotonic()
    with pytest.raises(JobExecutionError) as info:
        list(stream_builder(env).execute_and_collect())
    assert time.monotonic() - started < 20
    return info.value


def printed(error: BaseException) -> str:
    """What Python prints for ``error`` left uncaught: its chain of causes, tracebacks."""
    return "".join(traceback.format_exception(error))


def test_user_function_raising_in_open():
    error = run_failing(lambda env: env.from_collection([1, 2]).map(FailingOpen()).name("Db"))
    message = str(error)
    assert "open()" in message
    assert "Db" in message
    assert "subtask 1/1" in message
    assert "UserError: cannot reach the database" in message
    # the user's line is in the traceback Python prints (the cause's), once
    assert printed(error).count('raise UserError("cannot reach the database")') == 1


def test_user_function_raising_in_processing():
    error = run_failing(lambda env: env.from_collection([1, 2, 3, 4]).rebalance()
                        .map(FailingMap()).name("Exploder"), parallelism=2)
    message = str(error)
    assert "Exploder" in message
    assert "subtask" in message and "/2" in message
    assert "UserError: cannot handle 3" in message
    assert "Traceback" not in message  # the message is one line; the cause has the frames
    assert printed(error).count('raise UserError(f"cannot handle {value}")') == 1


def test_user_function_raising_in_close():
    error = run_failing(lambda env: env.from_collection([1, 2]).map(FailingClose())
                        .name("Flusher"))
    message = str(error)
    assert "close()" in message
    assert "Flusher" in message
    assert "UserError: cannot flush" in message
    assert printed(error).count('raise UserError("cannot flush")') == 1


def _raise_user_error(*args: Any) -> Any:
    raise UserError("bad record")


@pytest.mark.parametrize("api", ["filter", "flat_map", "process", "key_by", "reduce",
                                 "add_sink", "partition_custom"])
def test_user_functions_of_every_kind_fail_the_job(api):
    def build(env: StreamExecutionEnvironment) -> Any:
        ds = env.from_collection([1, 2, 3])
        if api == "key_by":
            return ds.key_by(_raise_user_error).map(lambda x: x)
        if api == "reduce":
            return ds.key_by(lambda x: 0).reduce(_raise_user_error)
        if api == "add_sink":
            ds.add_sink(_raise_user_error)
            return ds
        if api == "partition_custom":
            return ds.partition_custom(_raise_user_error, lambda x: x).map(lambda x: x)
        return getattr(ds, api)(_raise_user_error)

    message = str(run_failing(build, parallelism=2))
    assert "UserError" in message
    assert "bad record" in message


def test_the_users_exception_is_the_cause():
    """The exception the user's function raised reaches the client as ``__cause__``."""
    error = run_failing(lambda env: env.from_collection([1, 2, 3]).map(FailingMap()))
    assert isinstance(error.__cause__, UserError)
    assert str(error.__cause__) == "cannot handle 3"
    # Also for failures in open() and close().
    for function, text in [(FailingOpen(), "cannot reach the database"),
                           (FailingClose(), "cannot flush")]:
        error = run_failing(lambda env: env.from_collection([1]).map(function))
        user_errors = [e for e in causes(error) if isinstance(e, UserError)]
        assert [str(e) for e in user_errors[:1]] == [text]


def test_the_error_names_the_operator_that_raised_within_a_chain():
    """Two maps chained in one task: the error says which one raised, by its name()."""
    error = run_failing(lambda env: env.from_collection([1, 2, 3])
                        .map(lambda x: x).name("Parse")
                        .map(FailingMap()).name("Explode"))
    assert "'Explode' (subtask 1/1)" in str(error)


class RecordsThenWait(SourceFunction):
    """Emits ``n`` records, then waits for cancel(); ends by itself after ``max_wait_s``."""

    def __init__(self, max_wait_s: float, n: int = 1) -> None:
        self.max_wait_s = max_wait_s
        self.n = n

    def open(self, runtime_context: RuntimeContext) -> None:
        self.cancelled = threading.Event()

    def run(self, ctx: SourceFunction.SourceContext) -> None:
        for i in range(self.n):
            ctx.collect("one record" if self.n == 1 else i)
        self.cancelled.wait(self.max_wait_s)

    def cancel(self) -> None:
        self.cancelled.set()


class FailAtOnce(MapFunction):
    def map(self, value: Any) -> Any:
        raise UserError(f"fails at once on {value!r}")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_user_error_behind_an_idle_source_fails_the_job_promptly():
    env = new_env()
    # Waits up to 3 s for cancel(): with the bug the job then finishes without failing.
    ds = env.add_source(RecordsThenWait(max_wait_s=3.0)).map(FailAtOnce())
    started = time.monotonic()
    with pytest.raises(JobExecutionError, match="fails at once on 'one record'"):
        list(ds.execute_and_collect())
    assert time.monotonic() - started < 2


def test_a_user_error_behind_a_busy_unbounded_source_fails_the_job_promptly():
    env = new_env()
    # 5000 records fill whole buffers, which the source's own thread emits.
    ds = env.add_source(RecordsThenWait(max_wait_s=30.0, n=5000)).map(FailAtOnce())
    started = time.monotonic()
    with pytest.raises(JobExecutionError, match="fails at once on 0"):
        list(ds.execute_and_collect())
    assert time.monotonic() - started < 10


# -- bad types ------------------------------------------------------------------------------------

BAD_TYPES = ["INT", int, Types, 1, [Types.INT()]]


@pytest.mark.parametrize("bad_type", BAD_TYPES, ids=[repr(t)[:20] for t in BAD_TYPES])
def test_bad_output_types_are_rejected_at_definition_time(bad_type):
    env = new_env()
    ds = env.from_collection([1])
    calls = {
        "map": lambda: ds.map(lambda x: x, output_type=bad_type),
        "flat_map": lambda: ds.flat_map(lambda x: [x], output_type=bad_type),
        "process": lambda: ds.process(MyProcess(), output_type=bad_type),
        "from_collection": lambda: env.from_collection([1], type_info=bad_type),
        "key_by": lambda: ds.key_by(lambda x: x, key_type=bad_type),
    }
    for api, call in calls.items():
        with pytest.raises(InvalidProgramError) as info:
            call()
        assert api in str(info.value), api
        assert repr(bad_type) in str(info.value), api


def test_output_tag_rejects_a_bad_type_info():
    with pytest.raises(FlinkPyError, match="'INT'"):
        OutputTag("side", "INT")


def test_records_that_do_not_match_a_tuple_output_type_fail_or_pass_through():
    """A declared type is not a cast: records are Python objects either way; printing a
    tuple declared as a TUPLE works, the job does not crash on the declaration itself."""
    env = new_env()
    tuple_type = Types.TUPLE([Types.STRING(), Types.INT()])
    out = env.from_collection([("a", 1)]).map(lambda t: t, output_type=tuple_type)
    assert list(out.execute_and_collect()) == [("a", 1)]


# -- bad parallelism values -----------------------------------------------------------------------

@pytest.mark.parametrize("value", [0, -1, -5, "2", 1.5, True, None])
def test_bad_parallelism_values_are_rejected(value):
    env = new_env()
    with pytest.raises(InvalidProgramError) as info:
        env.set_parallelism(value)
    assert repr(value) in str(info.value)
    mapped = env.from_collection([1]).map(lambda x: x)
    with pytest.raises(InvalidProgramError) as info:
        mapped.set_parallelism(value)
    assert repr(value) in str(info.value)
    sink = env.from_collection([1]).add_sink(lambda v: None)
    with pytest.raises(InvalidProgramError) as info:
        sink.set_parallelism(value)
    assert repr(value) in str(info.value)


@pytest.mark.parametrize("value", [0, -1, 32769, "8", True, 2.0])
def test_bad_max_parallelism_values_are_rejected(value):
    env = new_env()
    with pytest.raises(InvalidProgramError) as info:
        env.set_max_parallelism(value)
    assert repr(value) in str(info.value)


@pytest.mark.parametrize("value", [
    0, -1, 32769, "8", 2.0, True,
])
def test_bad_operator_max_parallelism_values_are_rejected(value):
    env = new_env()
    with pytest.raises(InvalidProgramError) as info:
        env.from_collection([1]).map(lambda x: x).set_max_parallelism(value)
    assert repr(value) in str(info.value)


def test_parallelism_above_max_parallelism_is_rejected():
    env = new_env()
    env.set_max_parallelism(4)
    env.from_collection([1]).map(lambda x: x).name("Wide").set_parallelism(8).print()
    with pytest.raises(InvalidProgramError) as info:
        env.execute()
    assert "Wide" in str(info.value) and "8" in str(info.value) and "4" in str(info.value)

    env = new_env()
    narrow = env.from_collection([1]).map(lambda x: x).name("Narrow").set_max_parallelism(2)
    with pytest.raises(InvalidProgramError, match="Narrow"):
        narrow.set_parallelism(3)


def test_non_parallel_sources_and_keyed_streams_reject_parallelism():
    env = new_env()
    with pytest.raises(InvalidProgramError, match="Collection Source.*2"):
        env.from_collection([1]).set_parallelism(2)
    with pytest.raises(InvalidProgramError, match="KeyedStream"):
        env.from_collection([1]).key_by(lambda x: x).set_parallelism(2)


def test_execute_and_collect_rejects_a_negative_limit():
    env = new_env()
    with pytest.raises(InvalidProgramError, match="limit.*-1"):
        env.from_collection([1, 2]).execute_and_collect(limit=-1)


def test_execute_and_collect_rejects_a_zero_limit():
    env = new_env()
    with pytest.raises(InvalidProgramError, match="limit"):
        env.from_collection([1, 2]).execute_and_collect(limit=0)


# -- unions of different types --------------------------------------------------------------------

@pytest.mark.parametrize("first,second", [
    (Types.INT(), Types.STRING()),
    (None, Types.INT()),
    (Types.TUPLE([Types.INT(), Types.STRING()]), Types.TUPLE([Types.INT(), Types.INT()])),
    (Types.ROW_NAMED(["a"], [Types.INT()]), Types.ROW_NAMED(["b"], [Types.INT()])),
], ids=["int-string", "pickled-int", "tuples", "row-names"])
def test_union_of_streams_of_different_declared_types_is_rejected(first, second):
    env = new_env()
    a = env.from_collection([], type_info=first)
    b = env.from_collection([], type_info=second)
    with pytest.raises(InvalidProgramError) as info:
        a.union(b)
    message = str(info.value)
    assert repr(a.get_type()) in message
    assert repr(b.get_type()) in message


def test_union_with_a_third_stream_of_another_type_is_rejected():
    env = new_env()
    a = env.from_collection([1], type_info=Types.INT())
    b = env.from_collection([2], type_info=Types.INT())
    c = env.from_collection([3.0], type_info=Types.DOUBLE())
    with pytest.raises(InvalidProgramError, match="Double"):
        a.union(b, c)
