"""Failover on the MiniCluster: restart strategies, RESTARTING, regions, exception history.

User functions are module-level (pickled by reference): the MiniCluster runs them here.
Attempts are counted in marker files, so a function can fail its first attempts only.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.request
from typing import Any, Dict, Iterator

import pytest

from flink_py.common.configuration import Configuration
from flink_py.common.job_status import JobStatus
from flink_py.datastream import SinkFunction, StreamExecutionEnvironment
from flink_py.graph.job_graph import JobGraph
from flink_py.runtime.minicluster import MiniCluster
from flink_py.runtime.rest import RestServer
from flink_py.testing.poll import wait_until
from flink_py.testing.sources import WaitForFileSource

DEADLINE_S = 20.0


class FlakyMap:
    """Fails on the first record of its first ``failures`` attempts (counted in a file)."""

    def __init__(self, marker: str, failures: int) -> None:
        self.marker = marker
        self.failures = failures
        self.checked = False

    def __call__(self, value: Any) -> Any:
        if not self.checked:
            self.checked = True
            with open(self.marker, "a") as f:
                f.write("x")
            with open(self.marker) as f:
                attempt = len(f.read())
            if attempt <= self.failures:
                raise RuntimeError(f"planned failure of attempt {attempt}")
        return value


class FileSink(SinkFunction):
    def __init__(self, path: str) -> None:
        self.path = path

    def invoke(self, value: Any, context: Any) -> None:
        with open(self.path, "a") as f:
            f.write(f"{value}\n")


@pytest.fixture
def cluster() -> Iterator[MiniCluster]:
    with MiniCluster(1, 4) as mini:
        yield mini


def _flaky_job(tmp_path: Any, failures: int, settings: Dict[str, str]) -> JobGraph:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)  # local environments default to the cores
    env.from_collection(list(range(10))).map(FlakyMap(str(tmp_path / "attempts"), failures)) \
        .add_sink(FileSink(str(tmp_path / "out")))
    graph = env.get_job_graph("flaky")
    graph.job_configuration.update(settings)
    return graph


FIXED_DELAY = {"restart-strategy.type": "fixed-delay",
               "restart-strategy.fixed-delay.attempts": "3",
               "restart-strategy.fixed-delay.delay": "10 ms"}


def test_a_task_failing_its_first_two_attempts_restarts_under_fixed_delay_and_finishes(
        cluster: MiniCluster, tmp_path: Any) -> None:
    job_id = cluster.dispatcher.submit_job(_flaky_job(tmp_path, 2, FIXED_DELAY))
    result = cluster.dispatcher.request_job_result(job_id, DEADLINE_S)
    assert result.status is JobStatus.FINISHED, result.failure
    assert sorted(int(v) for v in (tmp_path / "out").read_text().split()) == list(range(10))
    master = cluster.dispatcher.job_master(job_id)
    view = master.view()
    assert view.num_restarts == 2
    assert {s.attempt_number for s in view.subtasks()} == {2}
    history = view.exception_history
    assert len(history) == 2
    for attempt, failure in enumerate(history, 1):
        assert f"RuntimeError: planned failure of attempt {attempt}" in failure.error.message
    assert "RESTARTING" in view.status_timestamps


def test_without_checkpointing_or_a_strategy_a_job_fails_at_its_first_failure(
        cluster: MiniCluster, tmp_path: Any) -> None:
    job_id = cluster.dispatcher.submit_job(_flaky_job(tmp_path, 1, {}))
    result = cluster.dispatcher.request_job_result(job_id, DEADLINE_S)
    assert result.status is JobStatus.FAILED
    assert "planned failure of attempt 1" in result.failure.error.message
    view = cluster.dispatcher.job_master(job_id).view()
    assert view.num_restarts == 0 and "RESTARTING" not in view.status_timestamps


def test_more_failures_than_attempts_fail_the_job_with_the_last_failure(
        cluster: MiniCluster, tmp_path: Any) -> None:
    settings = dict(FIXED_DELAY, **{"restart-strategy.fixed-delay.attempts": "1"})
    job_id = cluster.dispatcher.submit_job(_flaky_job(tmp_path, 5, settings))
    result = cluster.dispatcher.request_job_result(job_id, DEADLINE_S)
    assert result.status is JobStatus.FAILED
    assert "planned failure of attempt 2" in result.failure.error.message


def test_region_failover_restarts_only_the_failed_pipeline(cluster: MiniCluster,
                                                           tmp_path: Any) -> None:
    release = str(tmp_path / "release")
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)  # local environments default to the cores
    env.add_source(WaitForFileSource(5, release)).name("steady") \
        .add_sink(FileSink(str(tmp_path / "steady")))
    env.from_collection(list(range(5))).name("flaky") \
        .map(FlakyMap(str(tmp_path / "attempts"), 1)).add_sink(FileSink(str(tmp_path / "out")))
    graph = env.get_job_graph("two pipelines")
    graph.job_configuration.update(FIXED_DELAY)
    job_id = cluster.dispatcher.submit_job(graph)
    master = cluster.dispatcher.job_master(job_id)

    def flaky_done() -> bool:
        return os.path.exists(tmp_path / "out") and len(
            (tmp_path / "out").read_text().split()) == 5
    wait_until(flaky_done, what="the flaky pipeline's output")
    attempts = {v.job_vertex.name: [s.attempt_number for s in v.subtasks]
                for v in master.view().vertices}
    assert attempts["steady -> Sink: Unnamed"] == [0]  # never restarted
    assert all(numbers == [1] for name, numbers in attempts.items() if "steady" not in name)
    assert master.status is JobStatus.RUNNING  # a region restart keeps the job RUNNING
    open(release, "w").close()
    result = cluster.dispatcher.request_job_result(job_id, DEADLINE_S)
    assert result.status is JobStatus.FINISHED, result.failure
    assert sorted(int(v) for v in (tmp_path / "steady").read_text().split()) == list(range(5))


def _get(port: int, path: str) -> Any:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://127.0.0.1:{port}{path}", timeout=DEADLINE_S) as response:
        return json.loads(response.read())


def test_restarting_is_visible_in_rest_while_the_delay_runs_and_failures_stay_in_history(
        cluster: MiniCluster, tmp_path: Any) -> None:
    server = RestServer(cluster.dispatcher, cluster.resource_manager,
                        Configuration({"rest.port": "0"}), "127.0.0.1", 0,
                        token="test-token")
    server.start()
    try:
        settings = dict(FIXED_DELAY, **{"restart-strategy.fixed-delay.delay": "1500 ms"})
        job_id = cluster.dispatcher.submit_job(_flaky_job(tmp_path, 1, settings))
        wait_until(lambda: _get(server.port, f"/jobs/{job_id}")["state"] == "RESTARTING",
                   what="RESTARTING in /jobs/<id>")
        overview = _get(server.port, "/jobs/overview")["jobs"]
        assert [j["state"] for j in overview if j["jid"] == job_id] == ["RESTARTING"]
        result = cluster.dispatcher.request_job_result(job_id, DEADLINE_S)
        assert result.status is JobStatus.FINISHED
        details = _get(server.port, f"/jobs/{job_id}")
        assert details["state"] == "FINISHED" and details["timestamps"]["RESTARTING"] > 0
        exceptions = _get(server.port, f"/jobs/{job_id}/exceptions")
        [entry] = exceptions["exceptionHistory"]["entries"]
        assert "planned failure of attempt 1" in entry["stacktrace"]
        assert entry["taskName"].endswith("(1/1)") and entry["timestamp"] > 0
        assert entry["taskManagerId"] == str(cluster.task_executors[0].resource_id)
    finally:
        server.stop()


def test_cancelling_during_the_restart_delay_cancels_the_job(cluster: MiniCluster,
                                                             tmp_path: Any) -> None:
    settings = dict(FIXED_DELAY, **{"restart-strategy.fixed-delay.delay": "60 s"})
    job_id = cluster.dispatcher.submit_job(_flaky_job(tmp_path, 1, settings))
    master = cluster.dispatcher.job_master(job_id)
    wait_until(lambda: master.status is JobStatus.RESTARTING, what="RESTARTING")
    master.cancel()
    result = cluster.dispatcher.request_job_result(job_id, DEADLINE_S)
    assert result.status is JobStatus.CANCELED
    assert cluster.resource_manager.free_slots == 4


def test_reports_of_old_attempts_are_ignored_and_an_illegal_transition_fails_the_job(
        cluster: MiniCluster, tmp_path: Any) -> None:
    from flink_py.runtime.execution.execution_state import ExecutionState
    settings = dict(FIXED_DELAY, **{"restart-strategy.fixed-delay.delay": "60 s"})
    job_id = cluster.dispatcher.submit_job(_flaky_job(tmp_path, 1, settings))
    master = cluster.dispatcher.job_master(job_id)
    first = {s.attempt_id for s in master.view().subtasks()}
    wait_until(lambda: master.status is JobStatus.RESTARTING, what="RESTARTING")
    wait_until(lambda: all(s.attempt_number == 1 for s in master.view().subtasks()),
               what="the new attempts")
    for attempt_id in first:  # a late report from the failed attempt: ignored
        master.update_task_execution_state(attempt_id, ExecutionState.RUNNING)
    current = master.view().subtasks()[0]
    # the new attempt was never deployed: RUNNING from CREATED is a bug somewhere
    master.update_task_execution_state(current.attempt_id, ExecutionState.RUNNING)
    result = cluster.dispatcher.request_job_result(job_id, DEADLINE_S)
    assert result.status is JobStatus.FAILED
    assert "illegal execution state transition CREATED -> RUNNING" in \
        result.failure.error.message
    assert "(attempt 1)" in result.failure.error.message


class HookRecorder:
    """An in-process fake of CheckpointCoordinatorProtocol recording the JobMaster's calls."""

    def __init__(self) -> None:
        self.calls: list = []
        self.threads: set = set()
        self.gateways: list = []
        self.master: Any = None

    def _record(self, call: str) -> None:
        self.threads.add(threading.current_thread().name)
        self.calls.append(call)

    def start_checkpoint_scheduler(self) -> None:
        self._record("start")
        self.gateways = [task.gateway for task in self.master.tasks()]

    def stop_checkpoint_scheduler(self) -> None:
        self._record("stop")

    def abort_pending_checkpoints(self, reason: str) -> None:
        self._record("abort")

    def receive_acknowledge_message(self, *args: Any) -> None:
        self._record("ack")

    def receive_decline_message(self, *args: Any) -> None:
        self._record("decline")

    def trigger_savepoint(self, target_directory: Any, on_done: Any) -> None:
        self._record("savepoint")

    def restore_latest_checkpointed_state(self, vertices: Any) -> None:
        self._record("restore")
        return None

    def shutdown(self, job_status_name: str) -> None:
        self._record(f"shutdown:{job_status_name}")


def test_the_checkpoint_coordinator_is_started_stopped_and_shut_down_by_the_job_master(
        cluster: MiniCluster, tmp_path: Any) -> None:
    recorder = HookRecorder()

    def factory(master: Any) -> HookRecorder:
        recorder.master = master
        return recorder
    cluster.dispatcher.checkpoint_coordinator_factory = factory
    job_id = cluster.dispatcher.submit_job(_flaky_job(tmp_path, 1, FIXED_DELAY))
    result = cluster.dispatcher.request_job_result(job_id, DEADLINE_S)
    assert result.status is JobStatus.FINISHED, result.failure
    calls = recorder.calls
    expected = ["restore", "start", "stop", "abort", "restore", "shutdown:FINISHED"]
    remaining = iter(calls)
    assert all(call in remaining for call in expected), calls  # in this order
    assert recorder.threads == {f"JobMaster {job_id}"}
    assert recorder.gateways, "tasks() lists the running attempts with their gateways"
