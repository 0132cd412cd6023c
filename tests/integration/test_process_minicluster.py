"""Local jobs in slot worker processes (``python.execution-mode``): a parallel ``python
job.py`` runs its subtasks in processes of their own, as on a cluster, with the same results;
parallelism 1 and a debugged run stay in the program's process.

Real processes throughout: the slot workers are the cluster's, a killed one is killed with
SIGKILL, and the programs of the stdout tests run as ``python program.py``.
"""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from flink_py.client import local_executor
from flink_py.client.local_executor import choose_execution_mode
from flink_py.common import Configuration, Row, WatermarkStrategy
from flink_py.common.watermark_strategy import TimestampAssigner
from flink_py.datastream import StreamExecutionEnvironment
from flink_py.datastream.checkpointing_mode import CheckpointingMode
from flink_py.datastream.functions import (
    CheckpointedFunction, CheckpointListener, FunctionInitializationContext,
    FunctionSnapshotContext, KeyedProcessFunction, MapFunction)
from flink_py.runtime.entrypoint.slot_worker import WORKER_GC_THRESHOLDS
from flink_py.testing.poll import wait_until

REPO = Path(__file__).resolve().parents[2]


def _env(mode: str = "process", parallelism: int = 2, **settings: Any
         ) -> StreamExecutionEnvironment:
    config = Configuration()
    config.set_string("python.execution-mode", mode)
    for key, value in settings.items():
        config.set_string(key, str(value))
    env = StreamExecutionEnvironment.get_execution_environment(config)
    env.set_parallelism(parallelism)
    return env


def _with_pid(value: int) -> tuple:
    return (value % 5, value, os.getpid())


def _sum_per_key(a: tuple, b: tuple) -> tuple:
    return (a[0], a[1] + b[1], b[2])


def test_a_parallel_job_runs_its_subtasks_in_slot_processes_with_the_same_results() -> None:
    results: Dict[str, List[tuple]] = {}
    for mode in ("thread", "process"):
        env = _env(mode)
        stream = (env.from_sequence(1, 2000).map(_with_pid).key_by(lambda t: t[0])
                  .reduce(_sum_per_key))
        with stream.execute_and_collect() as records:
            results[mode] = list(records)
    # in threads every function ran here; in processes none did, and two processes ran them
    assert {pid for _, _, pid in results["thread"]} == {os.getpid()}
    process_pids = {pid for _, _, pid in results["process"]}
    assert os.getpid() not in process_pids and len(process_pids) == 2, process_pids
    # one rolling sum per record, and the same final sums (the intermediate ones depend on
    # how the two sources' records interleave, in either mode)
    for mode, records in results.items():
        assert len(records) == 2000, mode
        finals = {k: max(s for key, s, _ in records if key == k) for k in range(5)}
        assert finals == {k: sum(v for v in range(1, 2001) if v % 5 == k) for k in range(5)}


def _shaped(i: int) -> Any:
    """Records whose shape changes every 8192 (a few buffers per channel): columns the columnar codec packs ((int, int),
    (str, float), (str, bool, str)), and ones it leaves to pickle (a None field, a Row, an int
    past 64 bits); buffers at the seams mix shapes and are pickled whole."""
    phase, k = (i // 8192) % 6, i % 7
    if phase == 0:
        return (k, i)
    if phase == 1:
        return (f"kéy{k}", i / 4)
    if phase == 2:
        return (f"b{k}", k % 2 == 0, "ü" * (i % 3) + "\U0001f600" * (i % 2))
    if phase == 3:
        return (None if k == 0 else k, i)
    if phase == 4:
        return Row(k, i)
    return (k, 2 ** 70 + i)


def _combine(a: Any, b: Any) -> Any:
    fields = (a[0], *(x + y for x, y in zip(a[1:], b[1:])))
    return Row(*fields) if type(a) is Row else fields


class _WithTimestamp(KeyedProcessFunction):
    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Iterator[Any]:
        yield (ctx.get_current_key(), value, ctx.timestamp())


class _SecondField(TimestampAssigner):
    def extract_timestamp(self, value: Any, record_timestamp: int) -> int:
        return -5 if type(value[1]) is str else int(value[1]) % 1000 - 500


def test_every_record_shape_crosses_slot_processes_exactly() -> None:
    # Records cross between the two slot processes in buffers that carry their keys and,
    # where the records fit, in the columnar encoding: what arrives must be what was sent,
    # type for type (bool is not int, a float sum stays float, a Row stays a Row), timestamps
    # too, so the results equal the in-process run's (repr tells True from 1, 2.0 from 2).
    results: Dict[str, List[Any]] = {}
    for mode in ("thread", "process"):
        env = _env(mode)
        # one producer: each key's records arrive in one order, so its rolling sums do too
        shaped = env.from_sequence(0, 6 * 8192 - 1).set_parallelism(1).map(_shaped).set_parallelism(1)
        reduced = shaped.key_by(lambda r: r[0]).reduce(_combine)
        timed = (shaped.assign_timestamps_and_watermarks(
            WatermarkStrategy.no_watermarks().with_timestamp_assigner(_SecondField()))
            .key_by(lambda r: f"{r[0]}:{type(r[1]).__name__}").process(_WithTimestamp()))
        with reduced.union(timed).execute_and_collect() as records:
            results[mode] = list(records)
    got = results["process"]
    assert len(got) == 2 * 6 * 8192
    assert any(type(r[1]) is Row for r in got if len(r) == 3)
    assert any(type(r[1]) is bool for r in got if len(r) == 3 and type(r[0]) is str)
    assert any(type(r[1]) is int and r[1] > 2 ** 70 for r in got if len(r) == 2)
    # the two subtasks' outputs interleave differently per run: compare them sorted
    assert sorted(map(repr, got)) == sorted(map(repr, results["thread"]))


def _gc_thresholds(value: int) -> tuple:
    return (os.getpid(), gc.get_threshold())


def test_slot_processes_collect_young_garbage_less_often_than_the_program() -> None:
    program = gc.get_threshold()
    with _env("process").from_sequence(1, 10).map(_gc_thresholds).execute_and_collect() as out:
        seen = set(out)
    assert {thresholds for _, thresholds in seen} == {WORKER_GC_THRESHOLDS}
    assert os.getpid() not in {pid for pid, _ in seen}
    assert gc.get_threshold() == program  # the program's own interpreter is left as it was


def test_the_mode_is_chosen_by_parallelism_and_debugger_unless_configured(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_executor, "DEFAULT_EXECUTION_MODE", None)
    for debugger in ("debugpy", "pydevd"):  # loaded by an earlier test, they would count
        monkeypatch.delitem(sys.modules, debugger, raising=False)
    monkeypatch.delenv("PYTHONBREAKPOINT", raising=False)

    def graph(parallelism: int) -> Any:
        env = _env("thread", parallelism)
        env.from_collection([1, 2]).map(lambda x: x).add_sink(lambda v, c=None: None)
        return env.get_job_graph("choice")

    assert choose_execution_mode(graph(1), None) == "thread"
    assert choose_execution_mode(graph(2), None) == "process"
    assert choose_execution_mode(graph(1), "process") == "process"
    assert choose_execution_mode(graph(2), "thread") == "thread"
    # breakpoint() hooked (an IDE's, or PYTHONBREAKPOINT): breakpoints must work
    monkeypatch.setattr(sys, "breakpointhook", lambda *a, **k: None)
    assert choose_execution_mode(graph(2), None) == "thread"
    monkeypatch.setattr(sys, "breakpointhook", sys.__breakpointhook__)
    monkeypatch.setenv("PYTHONBREAKPOINT", "ipdb.set_trace")
    assert choose_execution_mode(graph(2), None) == "thread"
    monkeypatch.setenv("PYTHONBREAKPOINT", "0")  # breakpoints disabled: nothing to stop at
    assert choose_execution_mode(graph(2), None) == "process"
    # a trace function (pdb, coverage): in this process
    previous = sys.gettrace()
    sys.settrace(lambda frame, event, arg: None)
    try:
        assert choose_execution_mode(graph(2), None) == "thread"
    finally:
        sys.settrace(previous)


def _run(program: str, tmp_path: Path, *extra_files: tuple, **env_vars: str
         ) -> subprocess.CompletedProcess:
    path = tmp_path / "job.py"
    path.write_text(textwrap.dedent(program))
    for name, text in extra_files:
        (tmp_path / name).write_text(textwrap.dedent(text))
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO)
    env.update(env_vars)
    return subprocess.run([sys.executable, str(path)], cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=120)


TWO_PROCESSES = """
    import os
    from flink_py.common import Configuration
    from flink_py.datastream import StreamExecutionEnvironment
    from helpers import tag
    config = Configuration()
    if os.environ.get("MODE"):
        config.set_string("python.execution-mode", os.environ["MODE"])
    env = StreamExecutionEnvironment.get_execution_environment(config)
    env.set_parallelism(2)
    parent = os.getpid()
    env.from_collection(list(range(20))).key_by(lambda x: x % 4) \\
        .map(lambda x: tag(x, os.getpid() != parent)).print()
    env.execute("two processes")
    print("done")
    """

HELPERS = ("helpers.py", """
    def tag(x, elsewhere):
        return f"{x}:{'worker' if elsewhere else 'main'}"
    """)


def test_python_job_py_at_parallelism_2_prints_from_slot_processes_and_finds_its_modules(
        tmp_path: Path) -> None:
    # The default of a plain run (no python.execution-mode): slot processes at p=2. The
    # function comes from a module next to the program, which the workers import by name.
    # What it prints, subtask prefixes included, is what the in-process run prints.
    default = _run(TWO_PROCESSES, tmp_path, HELPERS)
    threads = _run(TWO_PROCESSES, tmp_path, HELPERS, MODE="thread")
    assert default.returncode == 0 and threads.returncode == 0, default.stderr + threads.stderr
    lines = default.stdout.splitlines()
    assert lines[-1] == "done"
    assert sorted(lines[:-1]) == sorted(line.replace(":main", ":worker")
                                        for line in threads.stdout.splitlines()[:-1])
    assert {line[:3] for line in lines[:-1]} == {"1> ", "2> "}, default.stdout
    assert "Traceback" not in default.stderr and "INFO" not in default.stderr, default.stderr


def test_a_failing_function_in_a_slot_process_fails_execute_with_its_traceback(
        tmp_path: Path) -> None:
    done = _run("""
        from flink_py.datastream import StreamExecutionEnvironment
        def parse(x):
            return int(x)
        env = StreamExecutionEnvironment.get_execution_environment()
        env.set_parallelism(2)
        env.from_collection(["1", "two", "3"]).map(parse).print()
        env.execute("bad input")
        """, tmp_path)
    assert done.returncode == 1
    # the user's frame, from the worker, and the error naming the operator
    assert "in parse" in done.stderr and "return int(x)" in done.stderr, done.stderr
    assert "ValueError: invalid literal for int() with base 10: 'two'" in done.stderr


class KillOwnProcessOnceAfterACheckpoint(MapFunction, CheckpointedFunction, CheckpointListener):
    """SIGKILLs its own slot process once in the whole job (a marker file), at the first
    record after a checkpoint that covered some of its records completed: the worker dies
    mid-exchange, with records in flight to the keyed operator in the other process."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def initialize_state(self, context: FunctionInitializationContext) -> None:
        self.seen = 0
        self.seen_at: Dict[int, int] = {}
        self.ready = False

    def map(self, value: int) -> int:
        self.seen += 1
        if not os.path.exists(self.marker):
            if self.ready:
                with open(self.marker, "w") as f:
                    f.write(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGKILL)
            if self.seen % 10 == 0:  # slowed until then, so that a checkpoint completes
                time.sleep(0.001)
        return value

    def snapshot_state(self, context: FunctionSnapshotContext) -> None:
        self.seen_at[context.get_checkpoint_id()] = self.seen

    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        if self.seen_at.get(checkpoint_id, 0) > 0:
            self.ready = True


@pytest.fixture
def marker(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "killed"


def test_a_slot_process_killed_mid_exchange_is_replaced_and_the_job_counts_exactly_once(
        tmp_path: Path, marker: Path) -> None:
    n = 20_000
    env = _env("process", **{"restart-strategy.type": "fixed-delay",
                             "restart-strategy.fixed-delay.attempts": 3,
                             "restart-strategy.fixed-delay.delay": "50 ms"})
    env.enable_checkpointing(100, CheckpointingMode.EXACTLY_ONCE)
    env.get_checkpoint_config().set_checkpoint_storage_dir(f"file://{tmp_path / 'chk'}")
    env.set_buffer_timeout(1)
    stream = (env.from_sequence(1, n).map(KillOwnProcessOnceAfterACheckpoint(str(marker)))
              .key_by(lambda v: v % 7).map(lambda v: (v % 7, v)).key_by(lambda t: t[0])
              .reduce(lambda a, b: (a[0], a[1] + b[1])))
    with stream.execute_and_collect() as records:
        collected = list(records)
    killed_pid = int(marker.read_text())
    assert killed_pid != os.getpid()
    wait_until(lambda: not _alive(killed_pid), "the killed worker reaped")
    # every record once: each key's last rolling sum is its whole sum
    finals: Dict[int, int] = {}
    for key, total in collected:
        finals[key] = max(finals.get(key, 0), total)
    assert finals == {k: sum(v for v in range(1, n + 1) if v % 7 == k) for k in range(7)}
    assert len(collected) == n  # a rolling reduce emits once per record, none twice


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers: look at its state
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_the_slot_processes_end_with_the_job(tmp_path: Path) -> None:
    env = _env("process")
    pids = set(env.from_sequence(1, 100).map(lambda v: os.getpid()).execute_and_collect(
        limit=100))
    assert pids and os.getpid() not in pids
    wait_until(lambda: not any(_alive(p) for p in pids), "the slot processes ended")
