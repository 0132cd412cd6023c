"""Runs every script in ``examples/`` as a user would (``python examples/x.py ...``) and
checks what it prints.

Each example is a subprocess with the repository root as working directory; stdout is
compared line by line (as a multiset where subtasks run concurrently).
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 60

EXAMPLES = ["word_count", "batch_word_count", "socket_word_count", "partitioning",
            "union_connect", "side_output", "temperature_alert", "sliding_max_temperature",
            "hot_items"]

TEXT = "To be, or not to be,--that is the question:--\nWhether 'tis nobler in the mind to suffer\n"
WORDS = ["to", "be", "or", "not", "to", "be", "that", "is", "the", "question",
         "whether", "tis", "nobler", "in", "the", "mind", "to", "suffer"]

DEFAULT_INPUT_BANNER = "Use --input to specify file input."


def run_example(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, f"examples/{name}.py", *args], cwd=REPO_ROOT, capture_output=True,
        text=True, timeout=TIMEOUT_S)


def stdout_lines(result: subprocess.CompletedProcess) -> List[str]:
    assert result.returncode == 0, (
        f"exit code {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result.stdout.splitlines()


def rolling_counts(words: List[str]) -> List[str]:
    """What a streaming word count prints at parallelism 1: one running count per word."""
    seen: Counter = Counter()
    lines = []
    for word in words:
        seen[word] += 1
        lines.append(f"({word},{seen[word]})")
    return lines


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "hamlet.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


# -- every example: a script and a module with main(argv) ---------------------------------------

@pytest.mark.parametrize("name", EXAMPLES)
def test_example_is_importable_with_main(name: str) -> None:
    code = (f"import examples.{name} as m, inspect; "
            f"print(list(inspect.signature(m.main).parameters))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=TIMEOUT_S)
    assert stdout_lines(result) == ["['argv']"]


def test_main_runs_with_argv_when_imported(text_file: Path) -> None:
    code = f"from examples.batch_word_count import main; main(['--input', {str(text_file)!r}, '--parallelism', '1'])"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=TIMEOUT_S)
    assert Counter(stdout_lines(result)) == Counter(
        f"({w},{n})" for w, n in Counter(WORDS).items())


# -- word_count ---------------------------------------------------------------------------------

def test_word_count_file_parallelism_1_prints_running_counts_in_order(text_file: Path) -> None:
    lines = stdout_lines(run_example("word_count", "--input", str(text_file),
                                     "--parallelism", "1"))
    assert lines == rolling_counts(WORDS)
    assert lines[:5] == ["(to,1)", "(be,1)", "(or,1)", "(not,1)", "(to,2)"]


def split_prefix(lines: List[str]) -> List[Tuple[str, str]]:
    """``"2> (to,1)"`` -> ``("2", "(to,1)")``."""
    return [tuple(line.split("> ", 1)) for line in lines]  # type: ignore[misc]


def word_of(record: str) -> str:
    return record[1:].split(",")[0]


def assert_one_subtask_per_word(prefixed: List[Tuple[str, str]]) -> None:
    """A key is owned by one subtask, so each word is printed with one prefix."""
    subtask_of_word: Dict[str, set] = {}
    for subtask, record in prefixed:
        subtask_of_word.setdefault(word_of(record), set()).add(subtask)
    assert all(len(subtasks) == 1 for subtasks in subtask_of_word.values()), subtask_of_word


def test_word_count_file_parallelism_2_prefixes_the_subtask_of_each_key(text_file: Path
                                                                        ) -> None:
    lines = stdout_lines(run_example("word_count", "--input", str(text_file),
                                     "--parallelism", "2"))
    prefixed = split_prefix(lines)
    assert Counter(record for _, record in prefixed) == Counter(rolling_counts(WORDS))
    # The words of this text hash to both subtasks (key groups of 128, parallelism 2).
    assert {subtask for subtask, _ in prefixed} == {"1", "2"}
    assert_one_subtask_per_word(prefixed)
    # One subtask sees a key's records in input order.
    assert [record for _, record in prefixed if word_of(record) == "to"] == [
        "(to,1)", "(to,2)", "(to,3)"]


def test_word_count_default_input_prints_banner_and_counts_hamlet() -> None:
    lines = stdout_lines(run_example("word_count", "--parallelism", "1"))
    assert lines[:2] == ["Executing word_count example with default input data.",
                         DEFAULT_INPUT_BANNER]
    counts = lines[2:]
    assert counts[:5] == ["(to,1)", "(be,1)", "(or,1)", "(not,1)", "(to,2)"]
    assert all(re.fullmatch(r"\(\w+,\d+\)", line) for line in counts)
    # "To be, or not to be" ... the soliloquy's ten lines hold "to" 13 times.
    assert "(to,13)" in counts and "(to,14)" not in counts


def test_word_count_missing_input_file_fails_naming_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    result = run_example("word_count", "--input", str(missing))
    assert result.returncode != 0
    assert str(missing) in result.stderr and "does not exist" in result.stderr


# -- batch_word_count ---------------------------------------------------------------------------

def test_batch_word_count_prints_one_final_count_per_word(text_file: Path) -> None:
    lines = stdout_lines(run_example("batch_word_count", "--input", str(text_file),
                                     "--parallelism", "1"))
    assert Counter(lines) == Counter(f"({w},{n})" for w, n in Counter(WORDS).items())
    assert len(lines) == len(set(WORDS))


def test_batch_word_count_parallelism_2(text_file: Path) -> None:
    lines = stdout_lines(run_example("batch_word_count", "--input", str(text_file),
                                     "--parallelism", "2"))
    prefixed = split_prefix(lines)
    assert Counter(record for _, record in prefixed) == Counter(
        f"({w},{n})" for w, n in Counter(WORDS).items())
    assert {subtask for subtask, _ in prefixed} == {"1", "2"}
    assert_one_subtask_per_word(prefixed)


def test_batch_word_count_default_input() -> None:
    lines = stdout_lines(run_example("batch_word_count", "--parallelism", "1"))
    assert lines[:2] == ["Executing batch_word_count example with default input data.",
                         DEFAULT_INPUT_BANNER]
    words = [line[1:-1].split(",")[0] for line in lines[2:]]
    assert len(words) == len(set(words)), "one line per word"
    assert "(to,13)" in lines and "(be,3)" in lines


# -- socket_word_count --------------------------------------------------------------------------

class LineServer:
    """A text server on an ephemeral port: accepts one client, sends the lines, closes."""

    def __init__(self, lines: List[str]) -> None:
        self.payload = "".join(line + "\n" for line in lines).encode("utf-8")
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(TIMEOUT_S)  # the deadline for the job to connect
        self.port = self.server.getsockname()[1]
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._serve, name="line-server", daemon=True)

    def _serve(self) -> None:
        try:
            connection, _ = self.server.accept()
            with connection:
                connection.sendall(self.payload)
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc

    def __enter__(self) -> "LineServer":
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.close()
        self.thread.join(TIMEOUT_S)
        assert not self.thread.is_alive()


def test_socket_word_count_counts_the_lines_of_a_server() -> None:
    with LineServer(["hello world", "hello flink", "  flink  streams hello "]) as server:
        result = run_example("socket_word_count", "--host", "127.0.0.1",
                             "--port", str(server.port), "--parallelism", "1")
    assert server.error is None
    assert stdout_lines(result) == ["(hello,1)", "(world,1)", "(hello,2)", "(flink,1)",
                                    "(flink,2)", "(streams,1)", "(hello,3)"]


def test_socket_word_count_host_defaults_to_localhost() -> None:
    with LineServer(["a b a"]) as server:
        result = run_example("socket_word_count", "--port", str(server.port),
                             "--parallelism", "1")
    assert server.error is None
    assert stdout_lines(result) == ["(a,1)", "(b,1)", "(a,2)"]


def test_socket_word_count_without_port_explains_usage() -> None:
    result = run_example("socket_word_count", "--host", "localhost")
    assert result.returncode != 0
    assert result.stdout == ""
    assert "No port specified" in result.stderr
    assert "--port <port>" in result.stderr and "nc -lk" in result.stderr


# -- partitioning -------------------------------------------------------------------------------

ROUTE = re.compile(r"record (\d+): upstream subtask (\d+) -> subtask (\d+)")
RECORDS = set(range(1, 9))


def parse_routes(lines: List[str]) -> Dict[str, List[Tuple[int, int, int]]]:
    """``{mode: [(record, upstream subtask, downstream subtask), ...]}`` from the output."""
    routes: Dict[str, List[Tuple[int, int, int]]] = {}
    mode = None
    for line in lines:
        header = re.fullmatch(r"--- (\w+) ---", line)
        if header:
            mode = header.group(1)
            routes[mode] = []
            continue
        match = ROUTE.fullmatch(line)
        assert match and mode, f"unexpected line {line!r}"
        routes[mode].append((int(match[1]), int(match[2]), int(match[3])))
    return routes


@pytest.fixture(scope="module")
def all_routes() -> Dict[str, List[Tuple[int, int, int]]]:
    return parse_routes(stdout_lines(run_example("partitioning")))


def assert_each_record_once(routes: List[Tuple[int, int, int]]) -> None:
    assert sorted(r for r, _, _ in routes) == sorted(RECORDS)
    # Upstream (parallelism 2) gets the records round robin from the source: 4 each.
    assert Counter(u for _, u, _ in routes) == {0: 4, 1: 4}


def test_partitioning_runs_every_mode_by_default(all_routes) -> None:
    assert list(all_routes) == ["forward", "rebalance", "rescale", "shuffle", "broadcast",
                                "global", "custom"]


def test_partitioning_forward_keeps_the_subtask_index(all_routes) -> None:
    routes = all_routes["forward"]
    assert_each_record_once(routes)
    assert all(u == d for _, u, d in routes)


def test_partitioning_rebalance_is_round_robin_over_all_subtasks(all_routes) -> None:
    routes = all_routes["rebalance"]
    assert_each_record_once(routes)
    # Each upstream subtask sends its 4 records to the 4 downstream subtasks in turn.
    for upstream in (0, 1):
        assert sorted(d for _, u, d in routes if u == upstream) == [0, 1, 2, 3]


def test_partitioning_rescale_stays_in_the_local_group(all_routes) -> None:
    routes = all_routes["rescale"]
    assert_each_record_once(routes)
    assert sorted(d for _, u, d in routes if u == 0) == [0, 0, 1, 1]
    assert sorted(d for _, u, d in routes if u == 1) == [2, 2, 3, 3]


def test_partitioning_shuffle_sends_each_record_to_one_subtask(all_routes) -> None:
    routes = all_routes["shuffle"]
    assert_each_record_once(routes)
    assert all(0 <= d < 4 for _, _, d in routes)


def test_partitioning_broadcast_copies_each_record_to_every_subtask(all_routes) -> None:
    routes = all_routes["broadcast"]
    assert Counter((r, d) for r, _, d in routes) == Counter(
        (r, d) for r in RECORDS for d in range(4))


def test_partitioning_global_sends_everything_to_subtask_0(all_routes) -> None:
    routes = all_routes["global"]
    assert_each_record_once(routes)
    assert {d for _, _, d in routes} == {0}


def test_partitioning_custom_uses_the_partitioner(all_routes) -> None:
    routes = all_routes["custom"]
    assert_each_record_once(routes)
    assert all(d == r % 4 for r, _, d in routes)


def test_partitioning_single_mode() -> None:
    routes = parse_routes(stdout_lines(run_example("partitioning", "--mode", "global")))
    assert list(routes) == ["global"]
    assert_each_record_once(routes["global"])
    assert {d for _, _, d in routes["global"]} == {0}


def test_partitioning_unknown_mode_is_an_error() -> None:
    result = run_example("partitioning", "--mode", "hash")
    assert result.returncode != 0
    assert "Unknown --mode 'hash'" in result.stderr and "rebalance" in result.stderr


# -- union_connect ------------------------------------------------------------------------------

def test_union_connect() -> None:
    lines = stdout_lines(run_example("union_connect", "--parallelism", "1"))
    assert Counter(lines) == Counter([
        "union> (sensor_1,35.8)", "union> (sensor_2,15.4)", "union> (sensor_6,15.4)",
        "union> (sensor_7,6.7)", "union> (sensor_10,38.1)",
        "co-map> sensor_1: warning (35.8)", "co-map> sensor_2: normal (15.4)",
        "co-map> sensor_6: normal (15.4)", "co-map> sensor_7: normal (6.7)",
        "co-map> sensor_10: warning (38.1)",
        "co-map> control: pause sensor_6", "co-map> control: resume sensor_6",
        "co-flat-map> reading sensor_1=35.8", "co-flat-map> reading sensor_2=15.4",
        "co-flat-map> hello", "co-flat-map> connected", "co-flat-map> streams",
    ])
    # Each input of a co-operator keeps its own order.
    control = [line for line in lines if line.startswith("co-map> control")]
    assert control == ["co-map> control: pause sensor_6", "co-map> control: resume sensor_6"]


def test_union_connect_parallelism_2_prefixes_subtasks() -> None:
    lines = stdout_lines(run_example("union_connect", "--parallelism", "2"))
    assert len(lines) == 17
    assert {line.split("> ")[0] for line in lines if line.startswith("union")} <= {
        "union:1", "union:2"}
    assert Counter(line.split("> ", 1)[1] for line in lines if line.startswith("union")) == \
        Counter(["(sensor_1,35.8)", "(sensor_2,15.4)", "(sensor_6,15.4)", "(sensor_7,6.7)",
                 "(sensor_10,38.1)"])


# -- side_output --------------------------------------------------------------------------------

def test_side_output_splits_high_and_low_readings() -> None:
    lines = stdout_lines(run_example("side_output", "--parallelism", "1"))
    assert Counter(lines) == Counter([
        "high> +I[sensor_1,1547718199,35.8]", "high> +I[sensor_10,1547718205,38.1]",
        "low> +I[sensor_6,1547718201,15.4]", "low> +I[sensor_7,1547718202,6.7]",
    ])


def test_side_output_threshold_argument() -> None:
    lines = stdout_lines(run_example("side_output", "--threshold", "10", "--parallelism", "1"))
    assert Counter(lines) == Counter([
        "high> +I[sensor_1,1547718199,35.8]", "high> +I[sensor_6,1547718201,15.4]",
        "high> +I[sensor_10,1547718205,38.1]", "low> +I[sensor_7,1547718202,6.7]",
    ])


# -- temperature_alert: KeyedProcessFunction + ValueState + processing-time timers ------------

def test_temperature_alert_fires_for_the_rising_sensor_only() -> None:
    lines = stdout_lines(run_example("temperature_alert", "--interval-ms", "300",
                                     "--duration-ms", "1500", "--period-ms", "20"))
    alerts = [re.fullmatch(r"\d> (sensor_\d+): temperature rose continuously for 0.3 s", line)
              for line in lines]
    assert all(alerts), lines
    sensors = {a.group(1) for a in alerts if a}
    assert sensors == {"sensor_1"}, lines
    # sensor_1 rises all the time: a timer every ~0.3 s of the 1.5 s run, each re-armed by the
    # next reading after it fired.
    assert 2 <= len(lines) <= 5, lines


# -- sliding_max_temperature: event time, bounded out-of-orderness, sliding windows ----------

def test_sliding_max_temperature_prints_the_max_of_every_15_s_window() -> None:
    lines = stdout_lines(run_example("sliding_max_temperature"))
    windows = {}
    for line in lines:
        sensor, temp, start, end = re.fullmatch(
            r"\('(\w+)', ([\d.]+), (\d+), (\d+)\)", line).groups()
        windows[(sensor, int(start), int(end))] = float(temp)
    from examples.sliding_max_temperature import READINGS
    expected = {}
    for sensor, ts, temp in READINGS:
        last = ts - ts % 5
        for start in range(last, ts - 15, -5):  # the 3 windows of 15 s sliding by 5 s
            key = (sensor, start, start + 15)
            expected[key] = max(expected.get(key, temp), temp)
    assert windows == expected
    assert len(lines) == len(expected)
    # a reading at 199 s lies in [185, 200), [190, 205) and [195, 210)
    assert {k[1:] for k in expected if k[0] == "sensor_1" and k[1] <= 1547718199 < k[2]} == {
        (1547718185, 1547718200), (1547718190, 1547718205), (1547718195, 1547718210)}


# -- hot_items: aggregate + window function + KeyedProcessFunction with ListState -----------

def test_hot_items_ranks_the_page_views_of_every_sliding_hour() -> None:
    output = "\n".join(stdout_lines(run_example("hot_items", "--top", "3")))
    from datetime import datetime, timezone
    from examples.hot_items import sample_events
    views = [(e[1], e[4] * 1000) for e in sample_events() if e[3] == "pv"]
    size, slide = 3_600_000, 300_000
    ends = sorted({start + size for _, ts in views
                   for start in range(ts - ts % slide, ts - size, -slide)})
    blocks = []
    for end in ends:
        counts: Counter = Counter(item for item, ts in views if end - size <= ts < end)
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        when = datetime.fromtimestamp(end / 1000, timezone.utc)
        blocks.append("\n".join([f"window end: {when:%Y-%m-%d %H:%M:%S}"] + [
            f"No {rank}: item={item} views={count}"
            for rank, (item, count) in enumerate(ranked, 1)]))
    assert output == "\n".join(blocks)
