"""The CheckpointCoordinator on a real MainThreadExecutor, with in-process fake task gateways
that record what they are told (the coordinator's acks and declines are fed in as the tasks
would send them)."""

from __future__ import annotations

import concurrent.futures
import dataclasses

import os
import threading
import time
from typing import Any, Callable, List, Optional, Tuple

import pytest

from flink_py.common.configuration import Configuration
from flink_py.common.key_groups import KeyGroupRange
from flink_py.graph.ids import ExecutionAttemptID, JobVertexID, OperatorID
from flink_py.runtime.checkpoint.coordinator import (
    CheckpointCoordinator, CheckpointCoordinatorConfiguration, SavepointRestoreSettings,
    create_checkpoint_coordinator)
from flink_py.runtime.checkpoint.coordinator_protocol import CheckpointTask
from flink_py.runtime.checkpoint.failure_manager import (
    EXCEEDED_CHECKPOINT_TOLERABLE_FAILURE_MESSAGE)
from flink_py.runtime.checkpoint.gateways import CheckpointMetrics
from flink_py.runtime.checkpoint.metadata_serializer import (
    METADATA_FILE_NAME, CheckpointMetadataError, read_metadata_file)
from flink_py.runtime.checkpoint.options import (
    CheckpointOptions, CheckpointType, PostCheckpointAction)
from flink_py.runtime.checkpoint.state_assignment import RestoredVertex, StateAssignmentError
from flink_py.runtime.checkpoint.statistics import CheckpointStatsStatus
from flink_py.runtime.checkpoint.storage import (
    FsCheckpointStorageAccess, JobManagerCheckpointStorageAccess)
from flink_py.runtime.concurrent.main_thread_executor import MainThreadExecutor
from flink_py.runtime.execution.errors import SerializedError
from flink_py.runtime.execution.execution_state import ExecutionState
from flink_py.runtime.state.checkpoint_streams import CheckpointedStateScope
from flink_py.runtime.state.handles import (
    FileStateHandle, IncrementalKeyedStateHandle, KeyGroupsStateHandle, OperatorSubtaskState,
    TaskStateSnapshot)
from flink_py.testing.poll import wait_until

DEADLINE_S = 10.0
JOB_ID = "a1b2c3d4e5f60718293a4b5c6d7e8f90"


class FakeTaskGateway:
    """Records the coordinator's calls; a trigger can be made to fail."""

    def __init__(self) -> None:
        self.calls: List[Tuple[str, ExecutionAttemptID, int]] = []
        self.trigger_options: List[CheckpointOptions] = []
        self.fail_triggers = False
        self._lock = threading.Lock()

    def trigger_checkpoint(self, attempt_id: ExecutionAttemptID, checkpoint_id: int,
                           timestamp: int, options: CheckpointOptions) -> None:
        if self.fail_triggers:
            raise ConnectionError("TaskManager unreachable")
        with self._lock:
            self.calls.append(("trigger", attempt_id, checkpoint_id))
            self.trigger_options.append(options)

    def confirm_checkpoint(self, attempt_id: ExecutionAttemptID, checkpoint_id: int,
                           timestamp: int) -> None:
        with self._lock:
            self.calls.append(("confirm", attempt_id, checkpoint_id))

    def abort_checkpoint(self, attempt_id: ExecutionAttemptID, checkpoint_id: int,
                         latest_completed_checkpoint_id: int) -> None:
        with self._lock:
            self.calls.append(("abort", attempt_id, checkpoint_id))

    def of(self, kind: str) -> List[Tuple[ExecutionAttemptID, int]]:
        with self._lock:
            return [(a, c) for k, a, c in self.calls if k == kind]


class Job:
    """A source vertex (parallelism 2) feeding a keyed vertex (parallelism 1)."""

    def __init__(self, tmp_path: Any, storage: str = "filesystem", clock: Any = None,
                 restore: SavepointRestoreSettings = SavepointRestoreSettings(),
                 max_parallelism: int = 128, one_io_thread: bool = False,
                 **settings: Any) -> None:
        self.source = RestoredVertex(JobVertexID(), (OperatorID(),), 2, max_parallelism)
        self.keyed = RestoredVertex(JobVertexID(), (OperatorID(), OperatorID()), 1,
                                    max_parallelism)
        self.vertices = [self.source, self.keyed]
        self.gateway = FakeTaskGateway()
        self.state = ExecutionState.RUNNING
        self.tasks = [CheckpointTask(ExecutionAttemptID(), v.vertex_id, i, v is self.source,
                                     ExecutionState.RUNNING, self.gateway)
                      for v in self.vertices for i in range(v.parallelism)]
        self.failures: List[str] = []
        self.main = MainThreadExecutor("test-job-master")
        self.main.start()
        self.checkpoint_dir = str(tmp_path / "checkpoints")
        self.savepoint_dir = str(tmp_path / "savepoints")
        if storage == "filesystem":
            self.storage: Any = FsCheckpointStorageAccess(JOB_ID, self.checkpoint_dir,
                                                          self.savepoint_dir, 16)
        else:
            self.storage = JobManagerCheckpointStorageAccess(JOB_ID, self.savepoint_dir)
        #: with one I/O thread, drain_io() waits for all the I/O work submitted before it
        self.io = concurrent.futures.ThreadPoolExecutor(1) if one_io_thread else None
        self.coordinator = CheckpointCoordinator(
            JOB_ID, self.vertices, CheckpointCoordinatorConfiguration(**settings), self.main,
            self._current_tasks, self.storage, self.failures.append,
            clock or (lambda: time.time_ns() // 1_000_000), restore, io_executor=self.io)

    def drain_io(self) -> None:
        assert self.io is not None, "drain_io needs Job(one_io_thread=True)"
        self.io.submit(lambda: None).result(timeout=10.0)

    def _current_tasks(self) -> List[CheckpointTask]:
        return [CheckpointTask(t.attempt_id, t.vertex_id, t.subtask_index, t.is_source,
                               self.state, t.gateway) for t in self.tasks]

    def on_main(self, action: Callable[[], Any]) -> Any:
        done = threading.Event()
        result: List[Any] = []
        errors: List[BaseException] = []

        def mail() -> None:
            try:
                result.append(action())
            except BaseException as exc:  # handed back to the test thread
                errors.append(exc)
            done.set()

        self.main.execute(mail)
        assert done.wait(DEADLINE_S), "the main thread did not run the mail"
        if errors:
            raise errors[0]
        return result[0]

    def snapshot(self, task: CheckpointTask, checkpoint_id: int, data: bytes = b"x" * 40,
                 shared: Optional[List[FileStateHandle]] = None) -> TaskStateSnapshot:
        """What a task would acknowledge: keyed state written through the storage."""
        options = CheckpointOptions.for_checkpoint()
        factory = self.storage.create_worker_view().resolve_checkpoint_storage_location(
            checkpoint_id, options)
        stream = factory.create_checkpoint_state_output_stream(CheckpointedStateScope.EXCLUSIVE)
        stream.write(data)
        handle = stream.close_and_get_handle()
        vertex = self.source if task.vertex_id == self.source.vertex_id else self.keyed
        keyed: Any = KeyGroupsStateHandle(KeyGroupRange.of(0, 127), {0: (0, len(data))}, handle)
        if shared is not None:
            keyed = IncrementalKeyedStateHandle(
                KeyGroupRange.of(0, 127), checkpoint_id, "backend",
                {os.path.basename(h.path): h for h in shared}, {}, handle)
        return TaskStateSnapshot({vertex.operator_ids[0]: OperatorSubtaskState([keyed])})

    def ack(self, task: CheckpointTask, checkpoint_id: int,
            snapshot: Optional[TaskStateSnapshot] = None) -> None:
        self.on_main(lambda: self.coordinator.receive_acknowledge_message(
            task.attempt_id, checkpoint_id, CheckpointMetrics(sync_duration_ms=1),
            snapshot if snapshot is not None else self.snapshot(task, checkpoint_id)))

    def ack_all(self, checkpoint_id: int) -> None:
        for task in self.tasks:
            self.ack(task, checkpoint_id)

    def trigger(self) -> int:
        checkpoint_id = self.on_main(self.coordinator.trigger_checkpoint)
        assert checkpoint_id is not None
        return checkpoint_id

    def close(self) -> None:
        if not self.coordinator._shutdown:
            self.on_main(lambda: self.coordinator.shutdown("CANCELED"))
        self.main.shutdown()
        if self.io is not None:
            self.io.shutdown(wait=True)


@pytest.fixture
def make_job(tmp_path: Any):
    jobs: List[Job] = []

    def make(**kwargs: Any) -> Job:
        job = Job(tmp_path, **kwargs)
        jobs.append(job)
        return job

    yield make
    for job in jobs:
        job.close()


def _shared_file(directory: str, name: str) -> FileStateHandle:
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        f.write(b"sst")
    return FileStateHandle(path, 3)


def test_a_checkpoint_completes_when_every_task_acknowledged(make_job) -> None:
    job = make_job()
    checkpoint_id = job.trigger()
    sources = [t for t in job.tasks if t.is_source]
    wait_until(lambda: len(job.gateway.of("trigger")) == 2, "the sources' triggers")
    assert {a for a, _ in job.gateway.of("trigger")} == {t.attempt_id for t in sources}
    for task in job.tasks[:-1]:
        job.ack(task, checkpoint_id)
    assert job.on_main(lambda: job.coordinator.store.latest_checkpoint()) is None
    job.ack(job.tasks[-1], checkpoint_id)
    latest = job.on_main(lambda: job.coordinator.store.latest_checkpoint())
    assert latest.checkpoint_id == checkpoint_id
    metadata_path = os.path.join(job.checkpoint_dir, JOB_ID, f"chk-{checkpoint_id}",
                                 METADATA_FILE_NAME)
    metadata = read_metadata_file(metadata_path)
    assert metadata.checkpoint_id == checkpoint_id
    assert {s.operator_id for s in metadata.operator_states} == {
        op for v in job.vertices for op in v.operator_ids}
    wait_until(lambda: len(job.gateway.of("confirm")) == 3, "confirmations to every task")
    stats = job.coordinator.statistics_snapshot
    assert stats.counts.completed == 1 and stats.counts.in_progress == 0
    assert stats.latest_completed.num_acknowledged_subtasks == 3
    assert stats.latest_completed.external_path == "file:" + os.path.dirname(metadata_path)


def test_a_decline_aborts_the_checkpoint_removes_its_files_and_counts_a_failure(
        make_job) -> None:
    job = make_job(tolerable_failures=5)
    checkpoint_id = job.trigger()
    job.ack(job.tasks[0], checkpoint_id)
    chk_dir = os.path.join(job.checkpoint_dir, JOB_ID, f"chk-{checkpoint_id}")
    assert os.listdir(chk_dir), "the acknowledged task wrote a state file"
    job.on_main(lambda: job.coordinator.receive_decline_message(
        job.tasks[1].attempt_id, checkpoint_id,
        SerializedError("IOError: disk full", "")))
    wait_until(lambda: not os.path.exists(chk_dir), "the aborted checkpoint's directory removed")
    wait_until(lambda: len(job.gateway.of("abort")) == 3, "abort sent to every task")
    assert job.coordinator._failure_manager.continuous_failures == 1
    stats = job.coordinator.statistics_snapshot
    assert stats.counts.failed == 1
    assert stats.latest_failed.status is CheckpointStatsStatus.FAILED
    assert "Checkpoint was declined." in stats.latest_failed.failure_message
    assert "disk full" in stats.latest_failed.failure_message
    assert job.failures == []


def test_a_checkpoint_that_times_out_is_aborted(make_job) -> None:
    job = make_job(timeout_ms=50, one_io_thread=True)
    checkpoint_id = job.trigger()
    job.ack(job.tasks[0], checkpoint_id)
    wait_until(lambda: job.coordinator.statistics_snapshot.counts.failed == 1, "the timeout")
    message = job.coordinator.statistics_snapshot.latest_failed.failure_message
    assert message == "Checkpoint expired before completing."
    # the directory is removed on the coordinator's I/O executor, after the failure is counted
    chk_dir = os.path.join(job.checkpoint_dir, JOB_ID, f"chk-{checkpoint_id}")
    wait_until(lambda: not os.path.exists(chk_dir), "the expired checkpoint's directory removed")
    # The directory can be gone before its removal is over (remove_directory looks again and
    # takes a second pass), which would take the late state file below with it: CI saw that.
    job.drain_io()
    # a late acknowledgement of the expired checkpoint is ignored (and its files dropped)
    late = job.snapshot(job.tasks[1], checkpoint_id, b"y" * 64)
    job.ack(job.tasks[1], checkpoint_id, late)
    handle = late.subtask_state_by_operator[job.source.operator_ids[0]].managed_keyed_state[0]
    wait_until(lambda: not os.path.exists(handle.delegate.path), "the late state file removed")
    # writing it created the directory again: it goes too
    wait_until(lambda: not os.path.exists(chk_dir), "the directory of the late state removed")
    assert job.on_main(lambda: job.coordinator.store.latest_checkpoint()) is None


def test_a_late_decline_of_an_aborted_checkpoint_removes_the_directory_it_left(
        make_job) -> None:
    job = make_job(tolerable_failures=5, one_io_thread=True)
    checkpoint_id = job.trigger()
    chk_dir = os.path.join(job.checkpoint_dir, JOB_ID, f"chk-{checkpoint_id}")
    job.on_main(lambda: job.coordinator.receive_decline_message(
        job.tasks[0].attempt_id, checkpoint_id, SerializedError("declined", "")))
    # The directory can be gone before the removal is over (remove_directory looks again
    # and takes a second pass): a file written in between would go too.
    job.drain_io()
    assert not os.path.exists(chk_dir), "the aborted checkpoint's directory removed"
    # another task's snapshot, still running at the abort, wrote a file and then failed
    job.snapshot(job.tasks[1], checkpoint_id, b"z" * 64)
    assert os.listdir(chk_dir)
    job.on_main(lambda: job.coordinator.receive_decline_message(
        job.tasks[1].attempt_id, checkpoint_id, SerializedError("too late", "")))
    wait_until(lambda: not os.path.exists(chk_dir), "the directory of the late decline removed")
    assert job.coordinator.statistics_snapshot.counts.failed == 1  # counted once


def test_late_messages_leave_the_directories_of_pending_and_completed_checkpoints(
        make_job) -> None:
    job = make_job()
    completed = job.trigger()
    job.ack_all(completed)
    pending = job.trigger()
    job.ack(job.tasks[0], pending)
    stranger = CheckpointTask(ExecutionAttemptID(), job.source.vertex_id, 0, True,
                              ExecutionState.RUNNING, job.gateway)
    late = job.snapshot(stranger, pending, b"s" * 64)
    job.ack(stranger, pending, late)  # not a task of the checkpoint: its state is dropped
    job.on_main(lambda: job.coordinator.receive_decline_message(
        stranger.attempt_id, completed, SerializedError("after the completion", "")))
    handle = late.subtask_state_by_operator[job.source.operator_ids[0]].managed_keyed_state[0]
    wait_until(lambda: not os.path.exists(handle.delegate.path), "the stranger's file removed")
    job_dir = os.path.join(job.checkpoint_dir, JOB_ID)
    assert os.path.exists(os.path.join(job_dir, f"chk-{completed}", "_metadata"))
    assert os.listdir(os.path.join(job_dir, f"chk-{pending}"))  # the first task's file
    job.ack(job.tasks[1], pending)
    job.ack(job.tasks[2], pending)
    assert job.on_main(lambda: job.coordinator.store.latest_checkpoint()).checkpoint_id == pending


def test_more_failures_than_tolerable_fail_the_job_with_flinks_message(make_job) -> None:
    job = make_job(tolerable_failures=1)
    for expected_failures in (0, 1):
        checkpoint_id = job.trigger()
        job.on_main(lambda: job.coordinator.receive_decline_message(
            job.tasks[0].attempt_id, checkpoint_id, SerializedError("declined", "")))
        assert len(job.failures) == expected_failures
    assert job.failures == [EXCEEDED_CHECKPOINT_TOLERABLE_FAILURE_MESSAGE]
    assert job.failures[0] == "Exceeded checkpoint tolerable failure threshold."


def test_a_completed_checkpoint_resets_the_consecutive_failures(make_job) -> None:
    job = make_job(tolerable_failures=1)
    first = job.trigger()
    job.on_main(lambda: job.coordinator.receive_decline_message(
        job.tasks[0].attempt_id, first, SerializedError("declined", "")))
    job.ack_all(job.trigger())
    third = job.trigger()
    job.on_main(lambda: job.coordinator.receive_decline_message(
        job.tasks[0].attempt_id, third, SerializedError("declined", "")))
    assert job.failures == []


def test_a_failing_trigger_aborts_the_checkpoint(make_job) -> None:
    job = make_job()
    job.gateway.fail_triggers = True
    job.trigger()
    wait_until(lambda: job.coordinator.statistics_snapshot.counts.failed == 1,
               "the abort after the failed trigger")
    assert "Trigger checkpoint failure." in \
        job.coordinator.statistics_snapshot.latest_failed.failure_message
    assert job.on_main(lambda: job.coordinator.number_of_pending_checkpoints) == 0
    assert job.failures == []  # trigger failures do not count, as in Flink


def test_stale_and_duplicate_acknowledgements_are_ignored(make_job) -> None:
    job = make_job()
    job.ack(job.tasks[0], 99)  # never triggered
    checkpoint_id = job.trigger()
    job.ack(job.tasks[0], checkpoint_id)
    job.ack(job.tasks[0], checkpoint_id)  # duplicate
    stranger = CheckpointTask(ExecutionAttemptID(), job.source.vertex_id, 0, True,
                              ExecutionState.RUNNING, job.gateway)
    job.ack(stranger, checkpoint_id)  # an attempt that is not part of the checkpoint
    assert job.on_main(lambda: job.coordinator.pending_checkpoint_ids) == [checkpoint_id]
    for task in job.tasks[1:]:
        job.ack(task, checkpoint_id)
    assert job.on_main(lambda: job.coordinator.store.latest_checkpoint()).checkpoint_id == \
        checkpoint_id


def test_no_checkpoint_starts_unless_every_task_runs(make_job) -> None:
    job = make_job()
    job.state = ExecutionState.DEPLOYING
    assert job.on_main(job.coordinator.trigger_checkpoint) is None
    assert job.gateway.of("trigger") == []


def test_periodic_checkpoints_start_one_interval_after_the_scheduler(make_job) -> None:
    job = make_job(interval_ms=30, max_concurrent=5)
    started = time.monotonic()
    job.on_main(job.coordinator.start_checkpoint_scheduler)
    wait_until(lambda: job.gateway.of("trigger"), "the first periodic trigger")
    assert time.monotonic() - started >= 0.025
    wait_until(lambda: len({c for _, c in job.gateway.of("trigger")}) >= 3,
               "more periodic triggers")
    job.on_main(job.coordinator.stop_checkpoint_scheduler)
    count = len(job.gateway.of("trigger"))
    time.sleep(0.1)  # no condition to poll: asserting that nothing more happens
    assert len(job.gateway.of("trigger")) == count


def test_max_concurrent_checkpoints_is_respected(make_job) -> None:
    job = make_job(interval_ms=10, max_concurrent=1)
    job.on_main(job.coordinator.start_checkpoint_scheduler)
    wait_until(lambda: job.gateway.of("trigger"), "the first trigger")
    time.sleep(0.1)  # several intervals pass while checkpoint 1 is in flight
    assert job.on_main(lambda: job.coordinator.pending_checkpoint_ids) == [1]
    assert {c for _, c in job.gateway.of("trigger")} == {1}
    job.ack_all(1)
    wait_until(lambda: 2 in {c for _, c in job.gateway.of("trigger")},
               "the queued trigger once checkpoint 1 completed")
    job.on_main(job.coordinator.stop_checkpoint_scheduler)


def test_min_pause_between_checkpoints_is_respected(make_job) -> None:
    job = make_job(interval_ms=10, max_concurrent=5, min_pause_ms=300)
    job.on_main(job.coordinator.start_checkpoint_scheduler)
    wait_until(lambda: job.gateway.of("trigger"), "the first trigger")
    first = job.gateway.of("trigger")[0][1]
    job.ack_all(first)
    completed_at = time.monotonic()
    # the checkpoints triggered while the first was pending (max_concurrent allows them)
    # came before the completion: only a later one has to wait for the pause
    before = {c for _, c in job.gateway.of("trigger")}
    wait_until(lambda: {c for _, c in job.gateway.of("trigger")} - before,
               "the next trigger after the pause")
    assert time.monotonic() - completed_at >= 0.25
    job.on_main(job.coordinator.stop_checkpoint_scheduler)


def test_num_retained_keeps_the_last_checkpoints_and_deletes_the_others(make_job) -> None:
    job = make_job(max_retained=2)
    ids = []
    for _ in range(4):
        checkpoint_id = job.trigger()
        job.ack_all(checkpoint_id)
        ids.append(checkpoint_id)
    retained = job.on_main(lambda: [c.checkpoint_id
                                    for c in job.coordinator.store.all_checkpoints()])
    assert retained == ids[-2:]
    job_dir = os.path.join(job.checkpoint_dir, JOB_ID)
    wait_until(lambda: sorted(d for d in os.listdir(job_dir) if d.startswith("chk-")) ==
               [f"chk-{i}" for i in ids[-2:]], "the subsumed checkpoints deleted")
    assert sorted(os.listdir(job_dir)) == ["chk-3", "chk-4", "shared", "taskowned"]


def test_shared_files_are_deleted_when_no_retained_checkpoint_refers_to_them(
        make_job) -> None:
    job = make_job(max_retained=1)
    shared_dir = os.path.join(job.checkpoint_dir, JOB_ID, "shared")
    old_sst = _shared_file(shared_dir, "000001.sst")
    kept_sst = _shared_file(shared_dir, "000002.sst")
    first = job.trigger()
    for task in job.tasks:
        job.ack(task, first, job.snapshot(task, first, shared=[old_sst, kept_sst]))
    second = job.trigger()
    new_sst = _shared_file(shared_dir, "000003.sst")
    for task in job.tasks:
        job.ack(task, second, job.snapshot(task, second, shared=[kept_sst, new_sst]))
    wait_until(lambda: not os.path.exists(old_sst.path), "the unreferenced SST deleted")
    assert os.path.exists(kept_sst.path) and os.path.exists(new_sst.path)
    registry = job.coordinator.shared_state_registry
    assert job.on_main(lambda: registry.reference_count(kept_sst)) == 1


def test_an_aborted_checkpoint_deletes_only_its_own_new_shared_files(make_job) -> None:
    job = make_job()
    shared_dir = os.path.join(job.checkpoint_dir, JOB_ID, "shared")
    registered = _shared_file(shared_dir, "000001.sst")
    first = job.trigger()
    for task in job.tasks:
        job.ack(task, first, job.snapshot(task, first, shared=[registered]))
    second = job.trigger()
    uploaded = _shared_file(shared_dir, "000002.sst")
    job.ack(job.tasks[0], second, job.snapshot(job.tasks[0], second,
                                               shared=[registered, uploaded]))
    job.on_main(lambda: job.coordinator.receive_decline_message(
        job.tasks[1].attempt_id, second, SerializedError("declined", "")))
    wait_until(lambda: not os.path.exists(uploaded.path), "the new SST of the abort deleted")
    assert os.path.exists(registered.path)


def test_a_savepoint_goes_to_flinks_layout_and_is_not_retained(make_job) -> None:
    job = make_job(storage="jobmanager")
    results: List[Tuple[Optional[str], Optional[SerializedError]]] = []
    job.on_main(lambda: job.coordinator.trigger_savepoint(
        None, lambda path, error: results.append((path, error))))
    wait_until(lambda: len(job.gateway.of("trigger")) == 2, "the savepoint's triggers")
    options = job.gateway.trigger_options[0]
    assert options.checkpoint_type is CheckpointType.SAVEPOINT
    savepoint_id = job.gateway.of("trigger")[0][1]
    for task in job.tasks:
        factory = job.storage.create_worker_view().resolve_checkpoint_storage_location(
            savepoint_id, options)
        stream = factory.create_checkpoint_state_output_stream(CheckpointedStateScope.EXCLUSIVE)
        stream.write(b"z" * 100_000)  # above the inline threshold: a file in the savepoint
        vertex = job.source if task.vertex_id == job.source.vertex_id else job.keyed
        snapshot = TaskStateSnapshot({vertex.operator_ids[0]: OperatorSubtaskState(
            [KeyGroupsStateHandle(KeyGroupRange.of(0, 127), {0: (0, 100_000)},
                                  stream.close_and_get_handle())])})
        job.ack(task, savepoint_id, snapshot)
    wait_until(lambda: results, "the savepoint callback")
    path, error = results[0]
    assert error is None
    name = os.path.basename(path)
    assert os.path.dirname(path) == job.savepoint_dir
    assert name.startswith(f"savepoint-{JOB_ID[:6]}-") and len(name) == len("savepoint-") + 6 \
        + 1 + 12
    assert read_metadata_file(os.path.join(path, "_metadata")).is_savepoint
    assert len(os.listdir(path)) == 4  # _metadata and the three tasks' state files
    assert job.on_main(lambda: job.coordinator.store.latest_checkpoint()) is None
    assert job.gateway.of("confirm") == []
    assert job.coordinator.statistics_snapshot.latest_savepoint.external_path == "file:" + path
    job.on_main(lambda: job.coordinator.shutdown("FINISHED"))
    assert os.path.exists(os.path.join(path, "_metadata")), "savepoints are never deleted"


@pytest.mark.parametrize("terminate", [False, True], ids=["suspend", "terminate"])
def test_a_synchronous_savepoint_subsumes_older_checkpoints_and_is_confirmed_to_every_task(
        make_job, terminate: bool) -> None:
    job = make_job(storage="jobmanager", max_concurrent=2)
    older = job.trigger()
    results: List[Tuple[Optional[str], Optional[SerializedError]]] = []
    job.on_main(lambda: job.coordinator.trigger_synchronous_savepoint(
        None, terminate, lambda path, error: results.append((path, error))))
    wait_until(lambda: len(job.gateway.of("trigger")) == 4, "both checkpoints' triggers")
    options = job.gateway.trigger_options[-1]
    assert options.checkpoint_type is CheckpointType.SAVEPOINT
    assert options.is_synchronous and options.should_drain is terminate
    assert options.post_checkpoint_action is (
        PostCheckpointAction.TERMINATE if terminate else PostCheckpointAction.SUSPEND)
    assert options.target_location and options.target_location.startswith(job.savepoint_dir)
    savepoint_id = job.gateway.of("trigger")[-1][1]
    assert savepoint_id > older
    job.ack_all(savepoint_id)
    wait_until(lambda: results, "the savepoint callback")
    path, error = results[0]
    assert error is None and os.path.isfile(os.path.join(path, "_metadata"))
    assert job.on_main(lambda: job.coordinator.store.latest_checkpoint()) is None
    # the older checkpoint is subsumed, and every task gets the savepoint's notice
    assert job.on_main(lambda: job.coordinator.pending_checkpoint_ids) == []
    wait_until(lambda: sorted(c for _, c in job.gateway.of("confirm")) == [savepoint_id] * 3,
                "the savepoint's completion notices")
    assert {a for a, _ in job.gateway.of("confirm")} == {t.attempt_id for t in job.tasks}
    stats = job.coordinator.statistics_snapshot
    assert stats.get_checkpoint(savepoint_id).checkpoint_type == "SYNC_SAVEPOINT"
    assert stats.get_checkpoint(older).status.name == "FAILED"
    assert stats.latest_savepoint.checkpoint_id == savepoint_id


def test_a_savepoint_without_a_directory_fails_with_flinks_message(make_job) -> None:
    job = make_job(storage="jobmanager")
    job.storage.default_savepoint_directory = None
    results: List[Any] = []
    job.on_main(lambda: job.coordinator.trigger_savepoint(
        None, lambda path, error: results.append((path, error))))
    path, error = results[0]
    assert path is None and "No savepoint directory configured." in error.message


def test_restore_returns_the_latest_completed_checkpoints_state(make_job) -> None:
    job = make_job(storage="jobmanager")
    assert job.on_main(lambda: job.coordinator.restore_latest_checkpointed_state(
        job.vertices)) is None
    job.ack_all(job.trigger())
    second = job.trigger()
    snapshots = {t.attempt_id: job.snapshot(t, second, f"state-{t.subtask_index}".encode())
                 for t in job.tasks}
    for task in job.tasks:
        job.ack(task, second, snapshots[task.attempt_id])
    restores = job.on_main(lambda: job.coordinator.restore_latest_checkpointed_state(
        job.vertices))
    restore = restores[(job.source.vertex_id, 1)]
    assert restore.restore_checkpoint_id == second
    assert all(r.claimed for r in restores.values()), "the job's own checkpoint"
    state = restore.task_state_snapshot.get_subtask_state_by_operator_id(
        job.source.operator_ids[0])
    assert state.managed_keyed_state[0].delegate.read_bytes() == b"state-1"
    stats = job.coordinator.statistics_snapshot
    assert stats.counts.restored == 1 and stats.latest_restored.checkpoint_id == second
    # new checkpoint ids continue after the restored one
    assert job.trigger() == second + 1


def test_a_job_submitted_with_a_savepoint_path_restores_from_it(make_job, tmp_path) -> None:
    first = make_job()
    results: List[Any] = []
    first.on_main(lambda: first.coordinator.trigger_savepoint(
        None, lambda path, error: results.append(path)))
    wait_until(lambda: len(first.gateway.of("trigger")) == 2, "the savepoint's triggers")
    savepoint_id = first.gateway.of("trigger")[0][1]
    for task in first.tasks:
        first.ack(task, savepoint_id, first.snapshot(task, savepoint_id))
    path = wait_until(lambda: results and results[0], "the savepoint")
    resumed = Job(tmp_path, restore=SavepointRestoreSettings("file://" + path + "/_metadata"))
    try:
        restores = resumed.on_main(lambda: resumed.coordinator.restore_latest_checkpointed_state(
            first.vertices))
        assert {r.restore_checkpoint_id for r in restores.values()} == {savepoint_id}
        # NO_CLAIM: the tasks do not build on the files of what the job was started from
        assert not any(r.claimed for r in restores.values())
        assert resumed.coordinator.statistics_snapshot.latest_restored.is_savepoint
    finally:
        resumed.close()


def test_a_restore_adopts_the_checkpoints_max_parallelism_for_the_next_checkpoints(
        make_job) -> None:
    job = make_job(storage="jobmanager", max_parallelism=64)
    job.ack_all(job.trigger())
    # the coordinator of a job whose max parallelism is derived (128, not configured)
    derived = [dataclasses.replace(v, max_parallelism=128) for v in job.vertices]

    def restore() -> Any:
        job.coordinator.vertices = list(derived)
        return job.coordinator.restore_latest_checkpointed_state(derived)

    assert job.on_main(restore)
    assert [v.max_parallelism for v in job.coordinator.vertices] == [64, 64]
    next_id = job.trigger()
    job.ack_all(next_id)
    latest = job.on_main(lambda: job.coordinator.store.latest_checkpoint())
    assert latest.checkpoint_id == next_id
    assert {s.max_parallelism for s in latest.metadata.operator_states} == {64}


def test_a_savepoint_with_unmatched_state_fails_the_restore_unless_allowed(
        make_job, tmp_path) -> None:
    first = make_job()
    results: List[Any] = []
    first.on_main(lambda: first.coordinator.trigger_savepoint(
        None, lambda path, error: results.append(path)))
    wait_until(lambda: len(first.gateway.of("trigger")) == 2, "the savepoint's triggers")
    savepoint_id = first.gateway.of("trigger")[0][1]
    for task in first.tasks:
        first.ack(task, savepoint_id)
    path = wait_until(lambda: results and results[0], "the savepoint")
    other_job = [RestoredVertex(JobVertexID(), (OperatorID(),), 1, 128)]
    for allow in (False, True):
        resumed = Job(tmp_path, restore=SavepointRestoreSettings(path, allow))
        try:
            restore = lambda: resumed.coordinator.restore_latest_checkpointed_state(other_job)
            if allow:
                assert resumed.on_main(restore) is not None
            else:
                with pytest.raises(StateAssignmentError,
                                   match="--allowNonRestoredState"):
                    resumed.on_main(restore)
        finally:
            resumed.close()


def test_a_missing_metadata_file_on_restore_names_the_path(make_job, tmp_path) -> None:
    empty = tmp_path / "savepoint-000000-000000000000"
    empty.mkdir()
    job = make_job(restore=SavepointRestoreSettings(str(empty)))
    with pytest.raises(CheckpointMetadataError, match=str(empty)):
        job.on_main(lambda: job.coordinator.restore_latest_checkpointed_state(job.vertices))


@pytest.mark.parametrize("retention, status, kept", [
    ("NO_EXTERNALIZED_CHECKPOINTS", "CANCELED", False),
    ("NO_EXTERNALIZED_CHECKPOINTS", "FAILED", False),
    ("DELETE_ON_CANCELLATION", "CANCELED", False),
    ("DELETE_ON_CANCELLATION", "FAILED", True),
    ("RETAIN_ON_CANCELLATION", "CANCELED", True),
    ("RETAIN_ON_CANCELLATION", "FAILED", True),
    ("RETAIN_ON_CANCELLATION", "FINISHED", False),
])
def test_shutdown_keeps_or_removes_the_jobs_checkpoints_as_retention_says(
        make_job, retention: str, status: str, kept: bool) -> None:
    job = make_job(externalized_retention=retention)
    checkpoint_id = job.trigger()
    job.ack_all(checkpoint_id)
    job.on_main(lambda: job.coordinator.shutdown(status))
    job_dir = os.path.join(job.checkpoint_dir, JOB_ID)
    assert os.path.exists(os.path.join(job_dir, f"chk-{checkpoint_id}", "_metadata")) == kept
    assert os.path.exists(job_dir) == kept


def test_shutdown_aborts_the_checkpoints_in_flight_without_failing_the_job(make_job) -> None:
    job = make_job()
    checkpoint_id = job.trigger()
    job.on_main(lambda: job.coordinator.shutdown("CANCELED"))
    assert job.failures == []
    assert checkpoint_id in {c for _, c in job.gateway.of("abort")}


def test_the_coordinator_is_built_from_the_jobs_configuration(tmp_path) -> None:
    main = MainThreadExecutor("test-config")
    main.start()
    configuration = Configuration({
        "execution.checkpointing.interval": "1 s",
        "execution.checkpointing.timeout": "2 min",
        "execution.checkpointing.max-concurrent-checkpoints": "2",
        "execution.checkpointing.tolerable-failed-checkpoints": "3",
        "execution.checkpointing.mode": "AT_LEAST_ONCE",
        "execution.checkpointing.num-retained": "4",
        "execution.checkpointing.dir": "file://" + str(tmp_path / "chk"),
        "execution.savepoint.path": "/tmp/sp",
    })
    coordinator = create_checkpoint_coordinator(JOB_ID, [], configuration, main, list,
                                                lambda reason: None)
    try:
        settings = coordinator.configuration
        assert (settings.interval_ms, settings.timeout_ms, settings.max_concurrent,
                settings.tolerable_failures, settings.mode.name, settings.max_retained) == \
            (1000, 120_000, 2, 3, "AT_LEAST_ONCE", 4)
        assert coordinator.storage.name == "filesystem"
        assert os.path.isdir(tmp_path / "chk" / JOB_ID / "shared")
        assert coordinator.restore_settings.restore_path == "/tmp/sp"
    finally:
        done = threading.Event()
        main.execute(lambda: (coordinator.shutdown("FINISHED"), done.set()))
        assert done.wait(DEADLINE_S)
        main.shutdown()


def test_the_jobmasters_factory_reads_a_job_graph_and_its_configuration(tmp_path) -> None:
    from flink_py.common import Types
    from flink_py.datastream import StreamExecutionEnvironment
    from flink_py.runtime.checkpoint.coordinator import (
        create_checkpoint_coordinator_for_job, restored_vertices)

    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    env.from_collection([1, 2, 3], type_info=Types.INT()).key_by(lambda v: v % 2) \
        .map(lambda v: v).print()
    job_graph = env.get_job_graph()
    job_graph.job_configuration["execution.checkpointing.interval"] = "250 ms"
    vertices = restored_vertices(job_graph)
    assert [v.vertex_id for v in vertices] == [v.id for v in job_graph.topological_vertices()]
    assert all(v.operator_ids for v in vertices)
    main = MainThreadExecutor("test-factory")
    main.start()
    coordinator = create_checkpoint_coordinator_for_job(
        job_graph, Configuration({"execution.checkpointing.dir": str(tmp_path)}), main, list,
        lambda reason: None)
    try:
        assert coordinator.configuration.interval_ms == 250
        assert coordinator.job_id == job_graph.job_id.to_hex_string()
        assert os.path.isdir(tmp_path / coordinator.job_id / "shared")
    finally:
        done = threading.Event()
        main.execute(lambda: (coordinator.shutdown("FINISHED"), done.set()))
        assert done.wait(DEADLINE_S)
        main.shutdown()


def test_the_checkpoint_modules_docstring_examples_hold() -> None:
    import doctest

    from flink_py.runtime.checkpoint import failure_manager, statistics, storage
    for module in (failure_manager, statistics, storage):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0, module.__name__


def test_shared_files_of_the_checkpoint_a_job_started_from_are_never_deleted(
        make_job, tmp_path) -> None:
    old_job_shared = tmp_path / "old-job" / "shared"
    first = make_job()
    foreign_sst = _shared_file(str(old_job_shared), "000007.sst")
    checkpoint_id = first.trigger()
    for task in first.tasks:
        first.ack(task, checkpoint_id, first.snapshot(task, checkpoint_id,
                                                      shared=[foreign_sst]))
    retained = os.path.join(first.checkpoint_dir, JOB_ID, f"chk-{checkpoint_id}")
    resumed = Job(tmp_path / "resumed", restore=SavepointRestoreSettings(retained),
                  max_retained=1)
    try:
        resumed.on_main(lambda: resumed.coordinator.restore_latest_checkpointed_state(
            first.vertices))
        for _ in range(3):  # incremental checkpoints that reuse, then drop, the foreign SST
            new_id = resumed.trigger()
            for task in resumed.tasks:
                resumed.ack(task, new_id, resumed.snapshot(task, new_id, shared=[foreign_sst]))
        final = resumed.trigger()
        resumed.ack_all(final)
        wait_until(lambda: sorted(d for d in os.listdir(
            os.path.join(resumed.checkpoint_dir, JOB_ID)) if d.startswith("chk-")) ==
            [f"chk-{final}"], "the resumed job's older checkpoints deleted")
        assert os.path.exists(foreign_sst.path)
    finally:
        resumed.close()
