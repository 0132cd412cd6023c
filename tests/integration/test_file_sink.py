"""The row-format FileSink (``pyflink.datastream.connectors.file_system``).

Part files are named as Flink's FileSink names them, ``<prefix>-<uuid>-<counter><suffix>``
in ``<base path>/<bucket>/`` (the uuid drawn per bucket and subtask), written hidden as
``.<name>.inprogress.<uuid>`` and renamed when the input ends. Records are written as their
Java ``toString()`` followed by a newline (``Encoder.simple_string_encoder()``).
"""

from __future__ import annotations

import datetime
import doctest
import re
import threading
from pathlib import Path
from typing import Dict, Iterable, List

import pytest

from flink_py.common import Encoder, Row, Time, Types, WatermarkStrategy, date_time_format
from flink_py.common.date_time_format import compile_pattern, resolve_zone
from flink_py.common.watermark_strategy import TimestampAssigner
from flink_py.datastream import (
    ProcessWindowFunction, RuntimeContext, RuntimeExecutionMode, SourceFunction,
    StreamExecutionEnvironment)
from flink_py.datastream.connectors.file_system import (
    BucketAssigner, FileSink, OutputFileConfig, RollingPolicy)
from flink_py.datastream.window import TimeWindow, TumblingEventTimeWindows
from flink_py.errors import InvalidProgramError, JobExecutionError
from flink_py.testing.poll import wait_until

pytestmark = pytest.mark.timeout(60)

DEADLINE_S = 30.0
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def new_env(parallelism: int = 1) -> StreamExecutionEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    return env


def all_files(base: Path) -> List[Path]:
    return sorted(p for p in base.rglob("*") if p.is_file())


def finished_files(base: Path) -> List[Path]:
    return [p for p in all_files(base) if not p.name.startswith(".")]


def hidden_files(base: Path) -> List[Path]:
    return [p for p in all_files(base) if p.name.startswith(".")]


def part_counter(path: Path) -> int:
    return int(re.fullmatch(rf"part-{UUID}-(\d+)", path.name).group(1))


def string_sink(base: Path, *, part_size: int = 128 * 1024 * 1024,
                rollover_interval: int = 60_000, inactivity_interval: int = 60_000,
                check_interval: int = 60_000) -> FileSink:
    return FileSink.for_row_format(str(base), Encoder.simple_string_encoder()) \
        .with_bucket_assigner(BucketAssigner.base_path_bucket_assigner()) \
        .with_rolling_policy(RollingPolicy.default_rolling_policy(
            part_size=part_size, rollover_interval=rollover_interval,
            inactivity_interval=inactivity_interval)) \
        .with_bucket_check_interval(check_interval) \
        .build()


# -- the pattern of PyFlink's window examples -------------------------------------------------

class OpenedAt(TimestampAssigner):
    def extract_timestamp(self, value, record_timestamp) -> int:
        return int(value[1])


class OpeningsInWindow(ProcessWindowFunction[tuple, tuple, str, TimeWindow]):
    def process(self, key: str, context: ProcessWindowFunction.Context[TimeWindow],
                elements: Iterable[tuple]) -> Iterable[tuple]:
        window = context.window()
        return [(key, window.start, window.end, sum(1 for _ in elements))]


def test_window_results_go_to_one_finished_file_in_an_hourly_bucket(tmp_path: Path) -> None:
    # As PyFlink's window examples run with --output: a typed window result, the FileSink
    # with a part prefix and suffix and the default rolling policy and bucket assigner.
    output_path = str(tmp_path / "out")
    env = new_env(1)
    openings = env.from_collection(
        [("door", 2), ("door", 3), ("door", 11), ("door", 12), ("door", 18), ("door", 25)],
        type_info=Types.TUPLE([Types.STRING(), Types.INT()]))
    (openings.assign_timestamps_and_watermarks(
        WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(OpenedAt()))
        .key_by(lambda opening: opening[0], key_type=Types.STRING())
        .window(TumblingEventTimeWindows.of(Time.milliseconds(10)))
        .process(OpeningsInWindow(), Types.TUPLE([Types.STRING(), Types.INT(), Types.INT(),
                                                  Types.INT()]))
        .sink_to(sink=FileSink.for_row_format(base_path=output_path,
                                              encoder=Encoder.simple_string_encoder())
                 .with_output_file_config(OutputFileConfig.builder()
                                          .with_part_prefix("prefix")
                                          .with_part_suffix(".ext")
                                          .build())
                 .with_rolling_policy(RollingPolicy.default_rolling_policy())
                 .build()))
    before = datetime.datetime.now()
    env.execute("openings per window")
    after = datetime.datetime.now()

    files = all_files(tmp_path / "out")
    assert len(files) == 1, files
    (part,) = files
    # the default bucket assigner: one bucket per hour of processing time, local time zone
    assert part.parent.parent == tmp_path / "out"
    assert part.parent.name in {before.strftime("%Y-%m-%d--%H"), after.strftime("%Y-%m-%d--%H")}
    assert re.fullmatch(rf"prefix-{UUID}-0\.ext", part.name), part.name
    assert part.read_text(encoding="utf-8") == "(door,0,10,2)\n(door,10,20,3)\n(door,20,30,1)\n"


# -- files per subtask, rolling ---------------------------------------------------------------

def test_each_subtask_writes_its_own_part_file(tmp_path: Path) -> None:
    base = tmp_path / "out"
    env = new_env(2)
    records = [f"record-{i}" for i in range(20)]
    env.from_collection(records).rebalance().map(lambda s: s, Types.STRING()) \
        .sink_to(string_sink(base))
    env.execute("two subtasks")

    files = all_files(base)
    assert len(files) == 2, files
    uuids = {re.fullmatch(rf"part-({UUID})-0", f.name).group(1) for f in files}
    assert len(uuids) == 2  # a uuid per subtask (and bucket)
    written = [line for f in files for line in f.read_text().splitlines()]
    assert sorted(written) == sorted(records)


def test_a_small_part_size_rolls_to_several_part_files(tmp_path: Path) -> None:
    base = tmp_path / "out"
    env = new_env(1)
    records = [f"line-{i:02d}" for i in range(25)]  # 8 bytes each with the newline
    env.from_collection(records).sink_to(string_sink(base, part_size=20))
    env.execute("rolling on size")

    files = sorted(all_files(base), key=part_counter)
    # Flink rolls before a record once the file is larger than the part size: 3 records fit
    assert [part_counter(f) for f in files] == list(range(9))
    assert [len(f.read_text().splitlines()) for f in files] == [3] * 8 + [1]
    assert [line for f in files for line in f.read_text().splitlines()] == records
    assert len({re.fullmatch(rf"part-({UUID})-\d+", f.name).group(1) for f in files}) == 1


class SlowSource(SourceFunction):
    """Emits ``n`` records ``pause_s`` apart."""

    def __init__(self, n: int, pause_s: float) -> None:
        self.n = n
        self.pause_s = pause_s

    def open(self, runtime_context: RuntimeContext) -> None:
        self.cancelled = threading.Event()

    def run(self, ctx: SourceFunction.SourceContext) -> None:
        for i in range(self.n):
            ctx.collect(f"slow-{i}")
            if self.cancelled.wait(self.pause_s):
                return

    def cancel(self) -> None:
        self.cancelled.set()


def test_the_rollover_interval_rolls_on_processing_time(tmp_path: Path) -> None:
    base = tmp_path / "out"
    env = new_env(1)
    env.add_source(SlowSource(3, 0.4), type_info=Types.STRING()).sink_to(
        string_sink(base, rollover_interval=100, check_interval=20))
    env.execute("rolling on time")

    files = sorted(all_files(base), key=part_counter)
    assert len(files) == 3, files
    assert [f.read_text() for f in files] == ["slow-0\n", "slow-1\n", "slow-2\n"]


def test_records_are_written_as_their_java_to_string(tmp_path: Path) -> None:
    base = tmp_path / "out"
    env = new_env(1)
    env.from_collection([Row("a", 1), Row("b", 2)],
                        type_info=Types.ROW([Types.STRING(), Types.INT()])) \
        .sink_to(string_sink(base))
    env.from_collection([("x", 1e7)], type_info=Types.TUPLE([Types.STRING(), Types.DOUBLE()])) \
        .sink_to(string_sink(tmp_path / "tuples"))
    env.execute("to string")
    assert [f.read_text() for f in all_files(base)] == ["+I[a, 1]\n+I[b, 2]\n"]
    assert [f.read_text() for f in all_files(tmp_path / "tuples")] == ["(x,1.0E7)\n"]


def test_the_encoder_charset_and_a_date_time_bucket(tmp_path: Path) -> None:
    base = tmp_path / "out"
    env = new_env(1)
    env.from_collection(["café"]).sink_to(
        FileSink.for_row_format(f"file://{base}", Encoder.simple_string_encoder("ISO-8859-1"))
        .with_bucket_assigner(BucketAssigner.date_time_bucket_assigner("yyyy'/year'", "UTC"))
        .build())
    env.execute("latin-1")
    (part,) = all_files(base)
    year = datetime.datetime.now(datetime.timezone.utc).year
    assert part.parent == base / str(year) / "year"
    assert re.fullmatch(rf"part-{UUID}-0", part.name)
    assert part.read_bytes() == "café\n".encode("latin-1")


def test_batch_mode_word_count(tmp_path: Path) -> None:
    base = tmp_path / "out"
    env = new_env(1)
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    env.from_collection(["to be or not to be"]).flat_map(str.split) \
        .map(lambda w: (w, 1), output_type=Types.TUPLE([Types.STRING(), Types.INT()])) \
        .key_by(lambda i: i[0]).reduce(lambda a, b: (a[0], a[1] + b[1])) \
        .sink_to(string_sink(base))
    env.execute("batch word count")
    (part,) = all_files(base)
    assert sorted(part.read_text().splitlines()) == ["(be,2)", "(not,1)", "(or,1)", "(to,2)"]


class FirstLetterBucketAssigner(BucketAssigner):
    """A bucket per first letter (an assigner of our own: PyFlink's are Java objects)."""

    def get_bucket_id(self, element, context) -> str:
        return element[0]


class RollOnEveryRecord(RollingPolicy):
    def should_roll_on_event(self, part_file_state, element) -> bool:
        return part_file_state.get_size() > 0


def test_a_bucket_assigner_and_rolling_policy_of_our_own(tmp_path: Path) -> None:
    base = tmp_path / "out"
    env = new_env(1)
    env.from_collection(["apple", "avocado", "banana"]).sink_to(
        FileSink.for_row_format(str(base), Encoder.simple_string_encoder())
        .with_bucket_assigner(FirstLetterBucketAssigner())
        .with_rolling_policy(RollOnEveryRecord()).build())
    env.execute("own assigner")
    by_bucket = {}
    for f in all_files(base):
        by_bucket.setdefault(f.parent.name, []).append((part_counter(f), f.read_text()))
    assert {k: sorted(v) for k, v in by_bucket.items()} == {
        "a": [(0, "apple\n"), (1, "avocado\n")], "b": [(0, "banana\n")]}


# -- unfinished files -------------------------------------------------------------------------

class RecordsThenWait(SourceFunction):
    def __init__(self, records: List[str]) -> None:
        self.records = records

    def open(self, runtime_context: RuntimeContext) -> None:
        self.cancelled = threading.Event()

    def run(self, ctx: SourceFunction.SourceContext) -> None:
        for record in self.records:
            ctx.collect(record)
        self.cancelled.wait(DEADLINE_S)

    def cancel(self) -> None:
        self.cancelled.set()


def test_a_cancelled_job_leaves_its_written_data_in_hidden_in_progress_files(
        tmp_path: Path) -> None:
    base = tmp_path / "out"
    env = new_env(1)
    env.add_source(RecordsThenWait(["a", "b"]), type_info=Types.STRING()) \
        .sink_to(string_sink(base))
    client = env.execute_async("cancelled")
    wait_until(lambda: len(all_files(base)) == 1, "the in-progress file")
    client.cancel().result(timeout=DEADLINE_S)
    with pytest.raises(Exception):
        client.get_job_execution_result().result(timeout=DEADLINE_S)
    (part,) = all_files(base)
    assert finished_files(base) == []
    assert re.fullmatch(rf"\.part-{UUID}-0\.inprogress\.{UUID}", part.name), part.name
    wait_until(lambda: part.read_text() == "a\nb\n", "the data to be flushed on close")


def test_a_failed_job_finishes_no_file(tmp_path: Path) -> None:
    base = tmp_path / "out"
    env = new_env(1)

    def fail_on_last(value: str) -> str:
        if value == "last":
            raise ValueError("bad record")
        return value

    env.from_collection(["a", "b", "last"]).map(fail_on_last, Types.STRING()) \
        .disable_chaining().sink_to(string_sink(base))
    with pytest.raises(JobExecutionError, match="bad record"):
        env.execute("failing")
    assert finished_files(base) == []


# -- bad input --------------------------------------------------------------------------------

def test_a_base_path_that_is_a_file_is_an_error(tmp_path: Path) -> None:
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    with pytest.raises(InvalidProgramError, match="is not a directory"):
        FileSink.for_row_format(str(a_file), Encoder.simple_string_encoder())


def test_bad_sink_arguments_are_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidProgramError, match="expects an Encoder"):
        FileSink.for_row_format(str(tmp_path), "utf-8")
    with pytest.raises(InvalidProgramError, match="only the local file system"):
        FileSink.for_row_format("hdfs://namenode/out", Encoder.simple_string_encoder())
    with pytest.raises(InvalidProgramError, match="unknown charset"):
        Encoder.simple_string_encoder("NO-SUCH-CHARSET")
    builder = FileSink.for_row_format(str(tmp_path), Encoder.simple_string_encoder())
    with pytest.raises(InvalidProgramError, match="expects a RollingPolicy"):
        builder.with_rolling_policy("60s")
    with pytest.raises(InvalidProgramError, match="expects a BucketAssigner"):
        builder.with_bucket_assigner(lambda record: "bucket")
    with pytest.raises(InvalidProgramError, match="expects an OutputFileConfig"):
        builder.with_output_file_config(OutputFileConfig.builder())
    with pytest.raises(InvalidProgramError, match="bucket check interval"):
        builder.with_bucket_check_interval(0)
    with pytest.raises(InvalidProgramError, match="part_size"):
        RollingPolicy.default_rolling_policy(part_size=-1)
    with pytest.raises(InvalidProgramError, match="pattern letter 'w'"):
        BucketAssigner.date_time_bucket_assigner("yyyy-ww")
    with pytest.raises(InvalidProgramError, match="unknown time zone"):
        BucketAssigner.date_time_bucket_assigner(timezone_id="Nowhere/Special")
    with pytest.raises(InvalidProgramError, match="path separator"):
        OutputFileConfig.builder().with_part_prefix("a/b").build()


def test_a_base_path_that_becomes_a_file_fails_the_job_clearly(tmp_path: Path) -> None:
    base = tmp_path / "out"
    sink = string_sink(base)
    base.write_text("not a directory")
    env = new_env(1)
    env.from_collection(["a"]).sink_to(sink)
    with pytest.raises(JobExecutionError, match="base path"):
        env.execute("base path is a file")


# -- Java date-time patterns ------------------------------------------------------------------

def test_java_date_time_patterns() -> None:
    millis = int(datetime.datetime(2024, 3, 9, 14, 5, 7, 89_000,
                                   tzinfo=datetime.timezone.utc).timestamp() * 1000)
    cases: Dict[str, str] = {
        "yyyy-MM-dd--HH": "2024-03-09--14",
        "yy/M/d h:mm a": "24/3/9 2:05 PM",
        "EEE, dd MMM yyyy HH:mm:ss.SSS": "Sat, 09 Mar 2024 14:05:07.089",
        "EEEE MMMM D": "Saturday March 69",
        "'at' HH 'o''clock' ''": "at 14 o'clock '",
        "XXX Z": "Z +0000",
    }
    for pattern, text in cases.items():
        assert compile_pattern(pattern, datetime.timezone.utc)(millis) == text, pattern
    assert compile_pattern("HH:mm xxx", resolve_zone("GMT-08:00"))(millis) == "06:05 -08:00"
    assert compile_pattern("yyyy-MM-dd--HH", resolve_zone("PST"))(millis) == "2024-03-09--06"
    assert compile_pattern("HH", resolve_zone("Asia/Kolkata"))(millis) == "19"


def test_date_time_format_docstring_examples() -> None:
    result = doctest.testmod(date_time_format)
    assert result.attempted > 0 and result.failed == 0
