"""The checkpoint endpoints' JSON (Flink's shapes), from statistics and settings, and the
savepoint handlers over a real coordinator behind a small in-process JobMaster fake."""

from __future__ import annotations

import json
import os
import threading
from typing import Any, Dict, List, Optional

import pytest

from flink_py.common.configuration import Configuration
from flink_py.common.job_status import JobStatus
from flink_py.graph.ids import ExecutionAttemptID, JobVertexID, OperatorID
from flink_py.runtime.checkpoint.coordinator import (
    CheckpointCoordinator, CheckpointCoordinatorConfiguration)
from flink_py.runtime.checkpoint.coordinator_protocol import CheckpointTask
from flink_py.runtime.checkpoint.gateways import CheckpointMetrics
from flink_py.runtime.checkpoint.state_assignment import RestoredVertex
from flink_py.runtime.checkpoint.statistics import (
    CHECKPOINT, SAVEPOINT, CheckpointStatsTracker)
from flink_py.runtime.checkpoint.storage import JobManagerCheckpointStorageAccess
from flink_py.runtime.concurrent.main_thread_executor import MainThreadExecutor
from flink_py.runtime.execution.errors import SerializedError
from flink_py.runtime.execution.execution_state import ExecutionState
from flink_py.runtime.rest.checkpoint_handlers import (
    CheckpointHandlers, SavepointOperation, checkpoint_config_json,
    checkpointing_statistics_json, parse_savepoint_request, parse_stop_request,
    savepoint_status_json, subtask_details_json)
from flink_py.runtime.rest.handlers import RestHandlerError
from flink_py.runtime.state.handles import TaskStateSnapshot
from flink_py.testing.poll import wait_until

JOB_ID = "fedcba9876543210fedcba9876543210"
STATS_SUMMARY_KEYS = {"min", "max", "avg", "p50", "p90", "p95", "p99", "p999"}
CHECKPOINT_KEYS = {"className", "id", "status", "is_savepoint", "savepointFormat",
                   "trigger_timestamp", "latest_ack_timestamp", "checkpointed_size",
                   "state_size", "end_to_end_duration", "alignment_buffered", "processed_data",
                   "persisted_data", "num_subtasks", "num_acknowledged_subtasks",
                   "checkpoint_type", "tasks"}


def _tracker() -> CheckpointStatsTracker:
    tracker = CheckpointStatsTracker()
    tracker.report_pending(1, 1_000, CHECKPOINT, {"v1": 2})
    tracker.report_subtask_ack(1, "v1", 0, 1_010, 300, CheckpointMetrics(2, 3, 4, 0))
    tracker.report_subtask_ack(1, "v1", 1, 1_040, 100)
    tracker.report_completed(1, 1_050, "file:/chk/job/chk-1")
    tracker.report_pending(2, 2_000, CHECKPOINT, {"v1": 2})
    tracker.report_failed(2, 2_500, "Checkpoint expired before completing.")
    tracker.report_pending(3, 3_000, SAVEPOINT, {"v1": 2})
    tracker.report_subtask_ack(3, "v1", 1, 3_020, 7)
    tracker.report_restored(9, 500, True, "file:/sp/savepoint-fedcba-000000000000")
    return tracker


def test_checkpointing_statistics_have_flinks_shape() -> None:
    body = checkpointing_statistics_json(_tracker().snapshot)
    assert set(body) == {"counts", "summary", "latest", "history"}
    assert body["counts"] == {"restored": 1, "total": 3, "in_progress": 1, "completed": 1,
                              "failed": 1}
    assert set(body["summary"]) == {"checkpointed_size", "state_size", "end_to_end_duration",
                                    "alignment_buffered", "processed_data", "persisted_data"}
    assert set(body["summary"]["state_size"]) == STATS_SUMMARY_KEYS
    assert body["summary"]["end_to_end_duration"]["max"] == 50
    completed = body["latest"]["completed"]
    assert set(completed) == CHECKPOINT_KEYS | {"external_path", "discarded"}
    assert completed["className"] == "completed" and completed["status"] == "COMPLETED"
    assert completed["state_size"] == 400 and completed["num_acknowledged_subtasks"] == 2
    assert completed["end_to_end_duration"] == 50 and completed["latest_ack_timestamp"] == 1_040
    assert completed["external_path"] == "file:/chk/job/chk-1"
    assert completed["tasks"]["v1"]["num_subtasks"] == 2
    failed = body["latest"]["failed"]
    assert failed["className"] == "failed" and failed["failure_timestamp"] == 2_500
    assert failed["failure_message"] == "Checkpoint expired before completing."
    assert body["latest"]["savepoint"] is None
    assert body["latest"]["restored"] == {
        "id": 9, "restore_timestamp": 500, "is_savepoint": True,
        "external_path": "file:/sp/savepoint-fedcba-000000000000"}
    assert [c["id"] for c in body["history"]] == [3, 2, 1]
    in_progress = body["history"][0]
    assert in_progress["className"] == "in_progress" and in_progress["is_savepoint"]
    assert in_progress["savepointFormat"] == "CANONICAL"
    assert in_progress["checkpoint_type"] == "SAVEPOINT"
    json.dumps(body)  # serializable as it is


def test_subtask_details_list_every_subtask_acknowledged_or_not() -> None:
    stats = _tracker().snapshot.get_checkpoint(3)
    body = subtask_details_json(stats, "v1")
    assert body["num_acknowledged_subtasks"] == 1
    assert body["subtasks"][0] == {"index": 0, "status": "pending_or_failed"}
    acked = body["subtasks"][1]
    assert acked["status"] == "completed" and acked["state_size"] == 7
    assert acked["end_to_end_duration"] == 20
    assert set(body["summary"]) == {"checkpointed_size", "state_size", "end_to_end_duration"}
    with pytest.raises(RestHandlerError):
        subtask_details_json(stats, "nope")


def test_checkpoint_config_has_flinks_shape() -> None:
    config = CheckpointCoordinatorConfiguration(
        interval_ms=5_000, min_pause_ms=100, tolerable_failures=2,
        externalized_retention="RETAIN_ON_CANCELLATION")
    body = checkpoint_config_json(config, Configuration(
        {"state.backend.type": "rocksdb", "execution.checkpointing.dir": "/tmp/x"}))
    assert body["mode"] == "exactly_once" and body["interval"] == 5_000
    assert body["timeout"] == 600_000 and body["min_pause"] == 100
    assert body["max_concurrent"] == 1 and body["tolerable_failed_checkpoints"] == 2
    assert body["externalization"] == {"enabled": True, "delete_on_cancellation": False}
    assert body["state_backend"] == "EmbeddedRocksDBStateBackend"
    assert body["checkpoint_storage"] == "FileSystemCheckpointStorage"
    assert body["unaligned_checkpoints"] is False
    default = checkpoint_config_json(CheckpointCoordinatorConfiguration(interval_ms=1),
                                     Configuration())
    assert default["externalization"] == {"enabled": False, "delete_on_cancellation": True}
    assert default["state_backend"] == "HashMapStateBackend"
    assert default["checkpoint_storage"] == "JobManagerCheckpointStorage"


def test_savepoint_status_has_flinks_asynchronous_operation_shape() -> None:
    operation = SavepointOperation(JOB_ID, "t")
    assert savepoint_status_json(operation) == {"status": {"id": "IN_PROGRESS"},
                                                "operation": None}
    operation.done, operation.location = True, "file:/sp/savepoint-fedcba-0123456789ab"
    assert savepoint_status_json(operation) == {
        "status": {"id": "COMPLETED"},
        "operation": {"location": "file:/sp/savepoint-fedcba-0123456789ab"}}
    operation.failure = SerializedError("CheckpointException: Checkpoint was declined.", "tb")
    cause = savepoint_status_json(operation)["operation"]["failure-cause"]
    assert cause["class"] == "CheckpointException" and cause["stack-trace"] == "tb"


def test_savepoint_and_stop_bodies_use_flinks_field_names() -> None:
    assert parse_savepoint_request(b'{"target-directory": "/sp", "cancel-job": true}') == \
        ("/sp", True, None)
    assert parse_stop_request(b'{"targetDirectory": "/sp", "drain": true, "triggerId": "x"}') \
        == ("/sp", True, "x")
    assert parse_savepoint_request(b"") == (None, False, None)
    with pytest.raises(RestHandlerError) as error:
        parse_stop_request(b"[1]")
    assert error.value.status == 400
    # Flink's formatType: CANONICAL is what is written; NATIVE is refused, not ignored
    assert parse_savepoint_request(b'{"formatType": "CANONICAL"}') == (None, False, None)
    for parse, body in ((parse_savepoint_request, b'{"formatType": "NATIVE"}'),
                        (parse_stop_request, b'{"formatType": "NATIVE", "drain": true}')):
        with pytest.raises(RestHandlerError, match="formatType 'NATIVE' is not supported"):
            parse(body)


class FakeJobMaster:
    """The JobMaster as the handlers see it: status, a coordinator on a main thread, the
    savepoint entry, cancel."""

    def __init__(self, tmp_path: Any) -> None:
        self.job_id = JOB_ID
        self.status = JobStatus.RUNNING
        self.cancelled = threading.Event()
        self.trigger_options: List[Any] = []
        self.confirmed: List[int] = []
        self.main = MainThreadExecutor("fake-job-master")
        self.main.start()
        vertex = RestoredVertex(JobVertexID(), (OperatorID(),), 1, 128)
        self.task = CheckpointTask(ExecutionAttemptID(), vertex.vertex_id, 0, True,
                                   ExecutionState.RUNNING, self)
        self.triggered: List[int] = []
        self.checkpoint_coordinator = CheckpointCoordinator(
            JOB_ID, [vertex], CheckpointCoordinatorConfiguration(interval_ms=60_000), self.main,
            lambda: [self.task], JobManagerCheckpointStorageAccess(JOB_ID, str(tmp_path)),
            lambda reason: None)

    # the task's gateway: acknowledges every trigger at once, as a task would
    def trigger_checkpoint(self, attempt_id: Any, checkpoint_id: int, timestamp: int,
                           options: Any) -> None:
        self.triggered.append(checkpoint_id)
        self.trigger_options.append(options)
        self.main.execute(lambda: self.checkpoint_coordinator.receive_acknowledge_message(
            attempt_id, checkpoint_id, CheckpointMetrics(), TaskStateSnapshot()))

    def confirm_checkpoint(self, attempt_id: Any, checkpoint_id: int, timestamp: int) -> None:
        self.confirmed.append(checkpoint_id)

    def abort_checkpoint(self, *args: Any) -> None:
        pass

    def trigger_savepoint(self, target_directory: Optional[str], on_done: Any) -> None:
        self.main.execute(lambda: self.checkpoint_coordinator.trigger_savepoint(
            target_directory, on_done))

    def stop_with_savepoint(self, target_directory: Optional[str], drain: bool,
                            on_done: Any) -> None:
        self.main.execute(lambda: self.checkpoint_coordinator.trigger_synchronous_savepoint(
            target_directory, drain, on_done))

    def cancel(self) -> None:
        self.cancelled.set()

    def close(self) -> None:
        done = threading.Event()
        self.main.execute(lambda: (self.checkpoint_coordinator.shutdown("CANCELED"),
                                   done.set()))
        assert done.wait(10)
        self.main.shutdown()


@pytest.fixture
def master(tmp_path: Any):
    fake = FakeJobMaster(tmp_path)
    yield fake
    fake.close()


def _poll(handlers: CheckpointHandlers, trigger_id: str) -> Dict[str, Any]:
    """The savepoint's status once it is COMPLETED."""
    def completed() -> Optional[Dict[str, Any]]:
        status, body = handlers.savepoint_status({"jobid": JOB_ID, "triggerid": trigger_id},
                                                 {}, b"")
        assert status == 200
        return body if body["status"]["id"] == "COMPLETED" else None

    return wait_until(completed, f"savepoint {trigger_id} COMPLETED", timeout_s=10)


def test_a_savepoint_triggered_over_rest_completes_with_its_location(master, tmp_path) -> None:
    handlers = CheckpointHandlers(lambda params: master, Configuration())
    target = str(tmp_path / "target")
    status, body = handlers.trigger_savepoint(
        {"jobid": JOB_ID}, {}, json.dumps({"target-directory": target}).encode())
    assert status == 202 and len(body["request-id"]) == 32
    location = _poll(handlers, body["request-id"])["operation"]["location"]
    assert location.startswith(f"file:{target}/savepoint-{JOB_ID[:6]}-")
    assert os.path.isfile(location[len("file:"):] + "/_metadata")
    assert not master.cancelled.is_set()
    _, stats = handlers.checkpoints({"jobid": JOB_ID}, {}, b"")
    assert stats["latest"]["savepoint"]["external_path"] == location
    _, details = handlers.checkpoint_details(
        {"jobid": JOB_ID, "checkpointid": str(master.triggered[0])}, {}, b"")
    assert details["is_savepoint"] and details["status"] == "COMPLETED"
    _, config = handlers.checkpoint_config({"jobid": JOB_ID}, {}, b"")
    assert config["interval"] == 60_000


@pytest.mark.parametrize("drain", [False, True])
def test_stop_takes_a_synchronous_savepoint_confirmed_to_the_tasks(master, tmp_path,
                                                                    drain: bool) -> None:
    handlers = CheckpointHandlers(lambda params: master, Configuration())
    status, body = handlers.stop_with_savepoint(
        {"jobid": JOB_ID}, {}, json.dumps({"targetDirectory": str(tmp_path), "drain": drain})
        .encode())
    assert status == 202
    location = _poll(handlers, body["request-id"])["operation"]["location"]
    assert location.startswith(f"file:{tmp_path}/savepoint-")
    options = master.trigger_options[0]
    assert options.is_synchronous and options.should_drain is drain
    assert options.target_location == location[len("file:"):]
    checkpoint_id = master.triggered[0]
    # the tasks finish on this notice
    wait_until(lambda: checkpoint_id in master.confirmed,
               "the synchronous savepoint confirmed to the tasks", timeout_s=10)
    _, details = handlers.checkpoint_details(
        {"jobid": JOB_ID, "checkpointid": str(checkpoint_id)}, {}, b"")
    assert details["checkpoint_type"] == "SYNC_SAVEPOINT" and details["is_savepoint"]
    assert not master.cancelled.is_set()  # the job ends FINISHED, not by a cancel


def test_unknown_trigger_ids_and_checkpoints_are_404(master) -> None:
    handlers = CheckpointHandlers(lambda params: master, Configuration())
    for call, params in ((handlers.savepoint_status, {"triggerid": "0" * 32}),
                         (handlers.checkpoint_details, {"checkpointid": "42"})):
        with pytest.raises(RestHandlerError) as error:
            call({"jobid": JOB_ID, **params}, {}, b"")
        assert error.value.status == 404


def test_a_savepoint_of_a_finished_job_is_refused(master) -> None:
    master.status = JobStatus.FINISHED
    handlers = CheckpointHandlers(lambda params: master, Configuration())
    with pytest.raises(RestHandlerError, match="FINISHED") as error:
        handlers.trigger_savepoint({"jobid": JOB_ID}, {}, b"{}")
    assert error.value.status == 409
