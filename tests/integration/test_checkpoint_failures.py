"""Checkpoints that fail, and restores that cannot be done, on the MiniCluster with its REST
server and through ``flink run``: each ends the way Flink's does, with Flink's reason visible
in the job's result and in ``/jobs/<id>/exceptions``, counted in ``/jobs/<id>/checkpoints``,
and with the aborted checkpoints' files removed.

User functions are module-level (pickled by reference): the MiniCluster runs them here.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest
from click.testing import CliRunner

from flink_py.cli import main as cli
from flink_py.common import Types
from flink_py.common.configuration import Configuration
from flink_py.common.job_status import JobStatus
from flink_py.datastream import SinkFunction, StreamExecutionEnvironment
from flink_py.datastream.functions import CheckpointedFunction, MapFunction, RuntimeContext
from flink_py.datastream.state import ValueStateDescriptor
from flink_py.graph.job_graph import JobGraph
from flink_py.runtime.checkpoint.failure_manager import (
    EXCEEDED_CHECKPOINT_TOLERABLE_FAILURE_MESSAGE)
from flink_py.runtime.minicluster import MiniCluster
from flink_py.runtime.rest import RestServer
from flink_py.testing.poll import wait_until
from flink_py.testing.sources import WaitForFileSource

DEADLINE_S = 30.0
NO_RESTART = {"restart-strategy.type": "none"}


class Cluster:
    """A MiniCluster and its REST server."""

    def __init__(self, minicluster: MiniCluster, server: RestServer) -> None:
        self.minicluster = minicluster
        self.server = server
        self.address = f"127.0.0.1:{server.port}"

    def get(self, path: str) -> Any:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://{self.address}{path}", timeout=DEADLINE_S) as response:
            return json.loads(response.read())

    def run(self, graph: JobGraph) -> tuple:
        """Submits ``graph``; returns its id and its result."""
        job_id = self.minicluster.dispatcher.submit_job(graph)
        return job_id, self.minicluster.dispatcher.request_job_result(job_id, DEADLINE_S)

    def exceptions(self, job_id: str) -> List[str]:
        entries = self.get(f"/jobs/{job_id}/exceptions")["exceptionHistory"]["entries"]
        return [entry["stacktrace"] for entry in entries]


@pytest.fixture
def cluster(tmp_path_factory: pytest.TempPathFactory,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    conf_dir = tmp_path_factory.mktemp("conf")  # the CLI's: it has the server's token
    (conf_dir / "flink-conf.yaml").write_text("rest.authentication.token: test-token\n")
    monkeypatch.setenv("FLINK_CONF_DIR", str(conf_dir))
    minicluster = MiniCluster(1, 4)
    server = RestServer(minicluster.dispatcher, minicluster.resource_manager,
                        Configuration({"rest.port": "0"}), "127.0.0.1", 0,
                        token="test-token")
    server.start()
    try:
        yield Cluster(minicluster, server)
    finally:
        server.stop()
        minicluster.close()


# -- user functions ----------------------------------------------------------------------------


def block_past_the_timeout(value: int) -> int:
    """A chained map slower than the checkpoint timeout: the barrier waits behind it."""
    time.sleep(0.5)
    return value


class DeclineFirstSnapshots(MapFunction, CheckpointedFunction):
    """Raises in its first ``failures`` snapshots; the later ones succeed."""

    def __init__(self, failures: int) -> None:
        self.failures = failures

    def initialize_state(self, context: Any) -> None:
        self.snapshots = 0

    def snapshot_state(self, context: Any) -> None:
        self.snapshots += 1
        if self.snapshots <= self.failures:
            raise RuntimeError(f"planned snapshot failure {self.snapshots}")

    def map(self, value: int) -> int:
        return value


#: the events of HoldSnapshots, by token: the MiniCluster runs its tasks in this process
_HOLDS: Dict[str, Tuple[threading.Event, threading.Event]] = {}


class HoldSnapshots(MapFunction, CheckpointedFunction):
    """Its snapshot of checkpoint ``held`` sets the token's first event (entered), then
    waits for its second (released): that checkpoint stays pending while the test acts."""

    def __init__(self, token: str, held: int) -> None:
        self.token = token
        self.held = held

    def initialize_state(self, context: Any) -> None:
        pass

    def snapshot_state(self, context: Any) -> None:
        if context.get_checkpoint_id() == self.held:
            entered, released = _HOLDS[self.token]
            entered.set()
            released.wait(DEADLINE_S)

    def map(self, value: int) -> int:
        return value


class Count(MapFunction):
    """Keyed state, so that every checkpoint writes files of the stateful task."""

    def open(self, runtime_context: RuntimeContext) -> None:
        self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))

    def map(self, value: int) -> int:
        n = (self.count.value() or 0) + 1
        self.count.update(n)
        return n


class Discard(SinkFunction):
    def invoke(self, value: Any, context: Any) -> None:
        pass


def _job(build: Callable[[StreamExecutionEnvironment], None], settings: Dict[str, str],
         name: str = "failures") -> JobGraph:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.enable_checkpointing(100)
    build(env)
    graph = env.get_job_graph(name)
    graph.job_configuration.update(settings)
    return graph


def _declining_job(tmp_path: Path, failures: int, tolerable: int,
                   extra: Optional[Dict[str, str]] = None) -> JobGraph:
    release = str(tmp_path / "release")
    settings = dict(NO_RESTART, **{
        "execution.checkpointing.tolerable-failed-checkpoints": str(tolerable),
        "execution.checkpointing.dir": f"file://{tmp_path / 'checkpoints'}",
        # every task writes a file in every checkpoint: the aborted ones leave some behind
        "state.storage.fs.memory-threshold": "0 b",
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION"})
    settings.update(extra or {})
    return _job(lambda env: env.add_source(WaitForFileSource(100, release))
                .map(DeclineFirstSnapshots(failures))
                .key_by(lambda x: x % 4).map(Count()).uid("count").add_sink(Discard()),
                settings)


def _checkpoint_dirs(tmp_path: Path, job_id: str) -> List[str]:
    job_dir = tmp_path / "checkpoints" / job_id
    return sorted(p.name for p in job_dir.glob("chk-*")) if job_dir.exists() else []


# -- timeouts, declines, tolerable failures ----------------------------------------------------


def test_a_checkpoint_that_times_out_behind_a_blocking_map_fails_the_job_with_flinks_reason(
        cluster: Cluster, tmp_path: Path) -> None:
    settings = dict(NO_RESTART, **{"execution.checkpointing.timeout": "100 ms",
                                   "execution.checkpointing.dir": f"file://{tmp_path}"})
    job_id, result = cluster.run(_job(
        lambda env: env.from_sequence(1, 1000).map(block_past_the_timeout)
        .add_sink(Discard()), settings))
    assert result.status is JobStatus.FAILED
    assert EXCEEDED_CHECKPOINT_TOLERABLE_FAILURE_MESSAGE in result.failure.error.message
    assert any(EXCEEDED_CHECKPOINT_TOLERABLE_FAILURE_MESSAGE in trace
               for trace in cluster.exceptions(job_id))
    checkpoints = cluster.get(f"/jobs/{job_id}/checkpoints")
    assert checkpoints["counts"]["failed"] >= 1
    messages = {c["id"]: c["failure_message"] for c in checkpoints["history"]
                if c["status"] == "FAILED"}
    # the first expired; one triggered since is aborted (not counted) as the job fails
    assert messages[1] == "Checkpoint expired before completing.", messages
    assert not list(tmp_path.glob(f"{job_id}/chk-*"))


def test_a_declined_checkpoint_past_zero_tolerable_failures_fails_the_job(
        cluster: Cluster, tmp_path: Path) -> None:
    job_id, result = cluster.run(_declining_job(tmp_path, failures=1, tolerable=0))
    assert result.status is JobStatus.FAILED
    assert result.failure.error.message.endswith(EXCEEDED_CHECKPOINT_TOLERABLE_FAILURE_MESSAGE)
    [trace] = cluster.exceptions(job_id)
    assert EXCEEDED_CHECKPOINT_TOLERABLE_FAILURE_MESSAGE in trace
    checkpoints = cluster.get(f"/jobs/{job_id}/checkpoints")
    assert checkpoints["counts"]["failed"] == 1 and checkpoints["counts"]["completed"] == 0
    [failed] = checkpoints["history"]
    assert failed["status"] == "FAILED" and failed["id"] == 1
    assert "planned snapshot failure 1" in failed["failure_message"]
    # nothing of the aborted checkpoint is left, not even its directory
    wait_until(lambda: not _checkpoint_dirs(tmp_path, job_id), "chk-1 removed")


def test_with_tolerable_failures_the_job_survives_that_many_declines_and_removes_their_files(
        cluster: Cluster, tmp_path: Path) -> None:
    dispatcher = cluster.minicluster.dispatcher
    job_id = dispatcher.submit_job(_declining_job(tmp_path, failures=2, tolerable=2))
    checkpoints = wait_until(
        lambda: (lambda c: c if c["counts"]["completed"] >= 1 else None)(
            cluster.get(f"/jobs/{job_id}/checkpoints")), what="a completed checkpoint")
    # the declined checkpoints' directories go (deleted on the coordinator's I/O executor,
    # after the failure is counted), the latest completed one is there
    latest = checkpoints["latest"]["completed"]["id"]
    kept = wait_until(lambda: (lambda dirs: dirs if "chk-1" not in dirs and "chk-2" not in dirs
                               else None)(_checkpoint_dirs(tmp_path, job_id)),
                      what="the declined checkpoints' directories removed")
    assert f"chk-{latest}" in kept, kept
    (tmp_path / "release").touch()
    result = dispatcher.request_job_result(job_id, DEADLINE_S)
    assert result.status is JobStatus.FINISHED, result.failure
    assert cluster.exceptions(job_id) == []
    checkpoints = cluster.get(f"/jobs/{job_id}/checkpoints")
    counts = checkpoints["counts"]
    assert counts["failed"] == 2 and counts["completed"] >= 1, counts
    by_id = {c["id"]: c for c in checkpoints["history"]}
    assert [by_id[i]["status"] for i in (1, 2, 3)] == ["FAILED", "FAILED", "COMPLETED"]
    assert "planned snapshot failure 2" in by_id[2]["failure_message"]
    assert checkpoints["latest"]["failed"]["id"] == 2


def test_one_failure_more_than_tolerated_fails_the_job(cluster: Cluster,
                                                       tmp_path: Path) -> None:
    job_id, result = cluster.run(_declining_job(tmp_path, failures=3, tolerable=2))
    assert result.status is JobStatus.FAILED
    assert EXCEEDED_CHECKPOINT_TOLERABLE_FAILURE_MESSAGE in result.failure.error.message
    counts = cluster.get(f"/jobs/{job_id}/checkpoints")["counts"]
    assert counts["failed"] == 3 and counts["completed"] == 0, counts


def test_past_the_threshold_the_restart_strategy_restarts_the_job(cluster: Cluster,
                                                                  tmp_path: Path) -> None:
    restart = {"restart-strategy.type": "fixed-delay",
               "restart-strategy.fixed-delay.attempts": "1",
               "restart-strategy.fixed-delay.delay": "10 ms"}
    # each attempt's function declines its first snapshot: the restarted attempt declines too,
    # and no attempts remain
    job_id, result = cluster.run(_declining_job(tmp_path, failures=1, tolerable=0,
                                                extra=restart))
    assert result.status is JobStatus.FAILED
    traces = cluster.exceptions(job_id)
    assert len(traces) == 2
    assert all(EXCEEDED_CHECKPOINT_TOLERABLE_FAILURE_MESSAGE in trace for trace in traces)
    assert cluster.minicluster.dispatcher.job_master(job_id).view().num_restarts == 1


def test_cancelling_with_retain_on_cancellation_keeps_only_the_completed_checkpoints(
        cluster: Cluster, tmp_path: Path) -> None:
    token = uuid.uuid4().hex
    entered, released = _HOLDS[token] = (threading.Event(), threading.Event())
    try:
        settings = dict(NO_RESTART, **{
            "execution.checkpointing.dir": f"file://{tmp_path / 'checkpoints'}",
            "state.storage.fs.memory-threshold": "0 b",
            "execution.checkpointing.externalized-checkpoint-retention":
                "RETAIN_ON_CANCELLATION"})
        # the keyed state of Count is written after HoldSnapshots' snapshot, in the
        # asynchronous part: held, checkpoint 2 writes it only after the test cancelled
        graph = _job(lambda env: env.add_source(WaitForFileSource(100, str(tmp_path / "no")))
                     .key_by(lambda x: x % 4).map(Count()).uid("count")
                     .map(HoldSnapshots(token, held=2)).add_sink(Discard()), settings)
        dispatcher = cluster.minicluster.dispatcher
        job_id = dispatcher.submit_job(graph)
        wait_until(entered.is_set, "the snapshot of checkpoint 2 running")
        assert _checkpoint_dirs(tmp_path, job_id) == ["chk-1", "chk-2"]
        dispatcher.job_master(job_id).cancel()
        wait_until(lambda: _checkpoint_dirs(tmp_path, job_id) == ["chk-1"],
                   "pending checkpoint 2 aborted and its directory removed")
        released.set()  # the snapshot goes on: it writes into chk-2 and acknowledges late
        result = dispatcher.request_job_result(job_id, DEADLINE_S)
        assert result.status is JobStatus.CANCELED
        job_dir = tmp_path / "checkpoints" / job_id
        # the late acknowledgement's files and the directory they were written into go on
        # the coordinator's I/O executor
        wait_until(lambda: not (job_dir / "chk-2").exists(), "chk-2 removed again")
        assert _checkpoint_dirs(tmp_path, job_id) == ["chk-1"]
        assert (job_dir / "chk-1" / "_metadata").is_file()
        assert cluster.get(f"/jobs/{job_id}/checkpoints")["latest"]["completed"]["id"] == 1
    finally:
        released.set()
        del _HOLDS[token]


# -- restores that cannot be done --------------------------------------------------------------


def _bounded(settings: Dict[str, str]) -> JobGraph:
    return _job(lambda env: env.from_sequence(1, 10).key_by(lambda x: x % 2)
                .map(Count()).uid("count").add_sink(Discard()), dict(NO_RESTART, **settings))


@pytest.mark.parametrize("case", ["missing path", "no _metadata", "corrupt _metadata"])
def test_restoring_from_a_path_that_is_not_a_savepoint_fails_the_job_naming_the_path(
        cluster: Cluster, tmp_path: Path, case: str) -> None:
    path = tmp_path / "savepoint"
    if case != "missing path":
        path.mkdir()
    if case == "corrupt _metadata":
        (path / "_metadata").write_bytes(b"not a checkpoint")
    expected = {"missing path": f"Cannot find checkpoint or savepoint file/directory '{path}'",
                "no _metadata": f"Cannot find meta data file '_metadata' in directory '{path}'",
                "corrupt _metadata": f"{path / '_metadata'} is not a checkpoint metadata file"
                }[case]
    job_id, result = cluster.run(_bounded({"execution.savepoint.path": str(path)}))
    assert result.status is JobStatus.FAILED
    assert expected in result.failure.error.message
    assert any(expected in trace for trace in cluster.exceptions(job_id))


def _take_savepoint(cluster: Cluster, tmp_path: Path) -> str:
    """A savepoint of a job whose keyed state belongs to the operator ``uid("count")``."""
    release = str(tmp_path / "release-savepoint")
    graph = _job(lambda env: env.add_source(WaitForFileSource(100, release))
                 .key_by(lambda x: x % 4).map(Count()).uid("count").add_sink(Discard()),
                 dict(NO_RESTART), "with state")
    dispatcher = cluster.minicluster.dispatcher
    job_id = dispatcher.submit_job(graph)
    master = dispatcher.job_master(job_id)
    wait_until(lambda: (lambda counts: counts["RUNNING"] == sum(counts.values()))(
        master.task_state_counts()), what="all tasks running")
    done: "queue.Queue[tuple]" = queue.Queue()
    master.trigger_savepoint(str(tmp_path / "savepoints"),
                             lambda path, error: done.put((path, error)))
    path, error = done.get(timeout=DEADLINE_S)
    assert error is None, error
    open(release, "w").close()
    assert dispatcher.request_job_result(job_id, DEADLINE_S).status is JobStatus.FINISHED
    return path


def _without_the_stateful_operator(tmp_path: Path, settings: Dict[str, str]) -> JobGraph:
    # the same source as the savepoint's job (its generated id matches, its state maps)
    release = tmp_path / "released"
    release.touch()
    return _job(lambda env: env.add_source(WaitForFileSource(10, str(release)))
                .key_by(lambda x: x % 2)
                .map(lambda x: x).uid("not-count").add_sink(Discard()),
                dict(NO_RESTART, **settings), "without state")


def test_a_savepoint_with_state_the_new_program_lacks_fails_with_flinks_message(
        cluster: Cluster, tmp_path: Path) -> None:
    savepoint = _take_savepoint(cluster, tmp_path)
    job_id, result = cluster.run(_without_the_stateful_operator(
        tmp_path, {"execution.savepoint.path": savepoint}))
    assert result.status is JobStatus.FAILED
    message = result.failure.error.message
    assert "Failed to rollback to checkpoint/savepoint" in message and savepoint in message
    assert "Cannot map checkpoint/savepoint state for operator" in message
    assert "--allowNonRestoredState" in message
    assert any("Cannot map checkpoint/savepoint state" in t for t in cluster.exceptions(job_id))


def test_allowing_non_restored_state_runs_the_new_program(cluster: Cluster,
                                                          tmp_path: Path) -> None:
    savepoint = _take_savepoint(cluster, tmp_path)
    job_id, result = cluster.run(_without_the_stateful_operator(
        tmp_path, {"execution.savepoint.path": savepoint,
         "execution.savepoint.ignore-unclaimed-state": "true"}))
    assert result.status is JobStatus.FINISHED, result.failure
    checkpoints = cluster.get(f"/jobs/{job_id}/checkpoints")
    assert checkpoints["latest"]["restored"]["external_path"].endswith(
        os.path.basename(savepoint))


# -- the same through `flink run -s` -----------------------------------------------------------

PROGRAM = """
from flink_py.datastream import StreamExecutionEnvironment
env = StreamExecutionEnvironment.get_execution_environment()
env.from_collection([1, 2, 3]).map(lambda x: x + 1).print()
env.execute("restored cli job")
"""


@pytest.mark.parametrize("case", ["missing path", "no _metadata", "corrupt _metadata"])
def test_flink_run_from_a_path_that_is_not_a_savepoint_prints_an_error_naming_it(
        cluster: Cluster, tmp_path: Path, case: str) -> None:
    program = tmp_path / "job.py"
    program.write_text(PROGRAM)
    path = tmp_path / "savepoint"
    if case != "missing path":
        path.mkdir()
    if case == "corrupt _metadata":
        (path / "_metadata").write_bytes(b"\x00" * 40)
    result = CliRunner().invoke(cli.main, ["run", "-m", cluster.address, "-s", str(path),
                                           str(program)], catch_exceptions=False)
    assert result.exit_code != 0
    assert str(path) in result.output
    [job] = cluster.get("/jobs/overview")["jobs"]
    assert job["state"] == "FAILED"
    assert any(str(path) in trace for trace in cluster.exceptions(job["jid"]))
