"""The CheckpointCoordinator: triggers checkpoints and savepoints, collects the tasks'
acknowledgements, completes, retains and discards checkpoints, and finds the state a
restarting job restores (Flink's CheckpointCoordinator).

Threading: a main-thread component of the JobMaster. Every public method runs on the
JobMaster's main thread (asserted), and so do the coordinator's timers (the periodic
trigger, each checkpoint's timeout), scheduled on the same :class:`MainThreadExecutor`.
Nothing here waits on a task: calls to the tasks' gateways (trigger, confirm, abort) and
deletions of files run on an I/O executor, and a failed trigger comes back as a mail that
aborts its checkpoint. ``_metadata`` is written on the main thread (one small file).

Periodic checkpoints (``execution.checkpointing.interval``): the first one an interval
after ``start_checkpoint_scheduler()``, then one per interval, never more than
``max-concurrent-checkpoints`` at a time (a trigger that finds too many waits for one to
end) and never sooner than ``min-pause`` after the last one completed; only while every
task is RUNNING. Savepoints are triggered on request, whatever those limits say.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from flink_py.common import config_options as options
from flink_py.common.checkpointing_mode import CheckpointingMode
from flink_py.common.configuration import Configuration
from flink_py.common.job_status import JobStatus
from flink_py.graph.ids import ExecutionAttemptID, JobVertexID
from flink_py.graph.job_graph import JobGraph
from flink_py.runtime.checkpoint.completed_checkpoint_store import (
    CompletedCheckpoint, CompletedCheckpointStore, SharedStateRegistry, shared_handles)
from flink_py.runtime.checkpoint.coordinator_protocol import (
    FailJob, SavepointCallback, TasksProvider)
from flink_py.runtime.checkpoint.failure_manager import (
    CheckpointException, CheckpointFailureManager, CheckpointFailureReason, failure_reason_of)
from flink_py.runtime.checkpoint.gateways import CheckpointMetrics
from flink_py.runtime.checkpoint.metadata import CheckpointMetadata
from flink_py.runtime.checkpoint.options import CheckpointOptions, PostCheckpointAction
from flink_py.runtime.checkpoint.pending_checkpoint import (
    PendingCheckpoint, TaskAcknowledgeResult)
from flink_py.runtime.checkpoint.state_assignment import (
    RestoredVertex, adopt_max_parallelism, assign_states)
from flink_py.runtime.checkpoint.statistics import (
    CHECKPOINT, SAVEPOINT, SYNC_SAVEPOINT, UNALIGNED_CHECKPOINT, CheckpointStatsSnapshot,
    CheckpointStatsTracker)
from flink_py.runtime.checkpoint.storage import (
    CheckpointStorageAccess, CheckpointStorageError, create_checkpoint_storage)
from flink_py.runtime.concurrent.main_thread_executor import MainThreadExecutor, ScheduledMail
from flink_py.runtime.execution.errors import SerializedError
from flink_py.runtime.execution.execution_state import ExecutionState
from flink_py.runtime.state.handles import JobManagerTaskRestore, TaskStateSnapshot

log = logging.getLogger(__name__)

#: how long shutdown waits for the I/O executor's queued calls and deletions
IO_SHUTDOWN_TIMEOUT_S = 10.0
#: threads of the coordinator's own I/O executor (gateway calls only enqueue, deletions are
#: short): enough to keep one slow TaskManager from delaying the others' triggers
IO_THREADS = 4

Clock = Callable[[], int]
#: the SharedStateRegistry holder of the shared files of the checkpoint a job was submitted
#: with: never released
RESTORED_CHECKPOINT_REFERENCE = -1


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class CheckpointCoordinatorConfiguration:
    """The ``execution.checkpointing.*`` settings of a job (Flink's
    CheckpointCoordinatorConfiguration). ``interval_ms`` None: no periodic checkpoints."""

    interval_ms: Optional[int] = None
    timeout_ms: int = options.CHECKPOINTING_TIMEOUT.default
    min_pause_ms: int = 0
    max_concurrent: int = 1
    tolerable_failures: int = 0
    mode: CheckpointingMode = CheckpointingMode.EXACTLY_ONCE
    unaligned: bool = False
    externalized_retention: str = options.EXTERNALIZED_CHECKPOINT_RETENTION.default
    max_retained: int = 1

    @property
    def is_periodic(self) -> bool:
        return self.interval_ms is not None and self.interval_ms > 0

    @staticmethod
    def from_configuration(configuration: Configuration) -> "CheckpointCoordinatorConfiguration":
        """Reads the job's settings (its configuration layered over the cluster's)."""
        interval = configuration.get(options.CHECKPOINTING_INTERVAL)
        timeout = configuration.get(options.CHECKPOINTING_TIMEOUT)
        if timeout <= 0:
            raise ValueError(f"{options.CHECKPOINTING_TIMEOUT.key} must be positive, got "
                             f"{timeout} ms")
        max_concurrent = configuration.get(options.MAX_CONCURRENT_CHECKPOINTS)
        if max_concurrent < 1:
            raise ValueError(f"{options.MAX_CONCURRENT_CHECKPOINTS.key} must be at least 1, "
                             f"got {max_concurrent}")
        return CheckpointCoordinatorConfiguration(
            interval_ms=interval if interval and interval > 0 else None,
            timeout_ms=timeout,
            min_pause_ms=configuration.get(options.MIN_PAUSE_BETWEEN_CHECKPOINTS),
            max_concurrent=max_concurrent,
            tolerable_failures=configuration.get(options.TOLERABLE_FAILED_CHECKPOINTS),
            mode=CheckpointingMode[configuration.get(options.CHECKPOINTING_MODE)],
            unaligned=configuration.get(options.ENABLE_UNALIGNED),
            externalized_retention=configuration.get(options.EXTERNALIZED_CHECKPOINT_RETENTION),
            max_retained=configuration.get(options.MAX_RETAINED_CHECKPOINTS))


@dataclass(frozen=True)
class SavepointRestoreSettings:
    """``execution.savepoint.path`` and ``.ignore-unclaimed-state`` of a submitted job."""

    restore_path: Optional[str] = None
    allow_non_restored_state: bool = False

    @staticmethod
    def from_configuration(configuration: Configuration) -> "SavepointRestoreSettings":
        return SavepointRestoreSettings(
            configuration.get(options.SAVEPOINT_PATH),
            configuration.get(options.SAVEPOINT_IGNORE_UNCLAIMED_STATE))


#: Flink's CheckpointProperties per retention: on which terminal statuses the retained
#: checkpoints are deleted
_DISCARD_ON = {
    "NO_EXTERNALIZED_CHECKPOINTS": (JobStatus.FINISHED, JobStatus.CANCELED, JobStatus.FAILED,
                                    JobStatus.SUSPENDED),
    "DELETE_ON_CANCELLATION": (JobStatus.FINISHED, JobStatus.CANCELED),
    "RETAIN_ON_CANCELLATION": (JobStatus.FINISHED,),
}


class CheckpointCoordinator:
    """Implements ``CheckpointCoordinatorProtocol``; see the module's docstring."""

    def __init__(self, job_id: str, vertices: List[RestoredVertex],
                 configuration: CheckpointCoordinatorConfiguration,
                 main_thread: MainThreadExecutor, tasks: TasksProvider,
                 storage: CheckpointStorageAccess, fail_job: FailJob,
                 clock: Clock = _wall_clock_ms,
                 restore_settings: SavepointRestoreSettings = SavepointRestoreSettings(),
                 io_executor: Optional[concurrent.futures.Executor] = None) -> None:
        self.job_id = job_id
        self.vertices = list(vertices)
        self.configuration = configuration
        self.storage = storage
        self.restore_settings = restore_settings
        self._main_thread = main_thread
        self._tasks = tasks
        self._clock = clock
        self._owns_io_executor = io_executor is None
        self._io = io_executor or concurrent.futures.ThreadPoolExecutor(
            IO_THREADS, thread_name_prefix=f"checkpoint-io-{job_id[:8]}")
        self.shared_state_registry = SharedStateRegistry()
        self.store = CompletedCheckpointStore(configuration.max_retained,
                                              self.shared_state_registry, self._run_io)
        self.statistics = CheckpointStatsTracker()
        self._failure_manager = CheckpointFailureManager(configuration.tolerable_failures,
                                                         fail_job)
        self._pending: Dict[int, PendingCheckpoint] = {}
        self._next_checkpoint_id = 1
        self._periodic_scheduling = False
        self._trigger_mail: Optional[ScheduledMail] = None
        #: a periodic trigger found too many checkpoints in flight: trigger when one ends
        self._trigger_queued = False
        self._last_completion_ms: Optional[int] = None
        #: the savepoint/retained checkpoint the job was submitted with, once loaded
        self._initial_checkpoint: Optional[CompletedCheckpoint] = None
        self._shutdown = False

    # -- what REST reads (any thread) -------------------------------------------------------

    @property
    def statistics_snapshot(self) -> CheckpointStatsSnapshot:
        return self.statistics.snapshot

    @property
    def is_periodic_checkpointing_configured(self) -> bool:
        return self.configuration.is_periodic

    # -- scheduling -------------------------------------------------------------------------

    def start_checkpoint_scheduler(self) -> None:
        self._main_thread.assert_running_in_main_thread()
        if self._shutdown or not self.configuration.is_periodic or self._periodic_scheduling:
            return
        self._periodic_scheduling = True
        self._schedule_trigger(self.configuration.interval_ms)  # type: ignore[arg-type]

    def stop_checkpoint_scheduler(self) -> None:
        self._main_thread.assert_running_in_main_thread()
        self._periodic_scheduling = False
        self._trigger_queued = False
        if self._trigger_mail is not None:
            self._trigger_mail.cancel()
            self._trigger_mail = None

    def _schedule_trigger(self, delay_ms: int) -> None:
        if self._trigger_mail is not None:
            self._trigger_mail.cancel()
        self._trigger_mail = self._main_thread.schedule(delay_ms / 1000.0,
                                                        self._on_periodic_trigger)

    def _on_periodic_trigger(self) -> None:
        self._trigger_mail = None
        if not self._periodic_scheduling or self._shutdown:
            return
        in_flight = sum(1 for p in self._pending.values() if not p.is_savepoint)
        if in_flight >= self.configuration.max_concurrent:
            self._trigger_queued = True
            return
        if self._last_completion_ms is not None and self.configuration.min_pause_ms > 0:
            pause_left = (self._last_completion_ms + self.configuration.min_pause_ms
                          - self._clock())
            if pause_left > 0:
                self._schedule_trigger(pause_left)
                return
        self._schedule_trigger(self.configuration.interval_ms)  # type: ignore[arg-type]
        self._trigger(CheckpointOptions.for_checkpoint(self.configuration.mode,
                                                       self.configuration.unaligned))

    def _after_checkpoint_ended(self) -> None:
        if self._trigger_queued and self._periodic_scheduling:
            self._trigger_queued = False
            self._on_periodic_trigger()

    def trigger_checkpoint(self) -> Optional[int]:
        """Triggers one checkpoint now (outside the schedule); its id, or None if it could not
        start (tasks not running)."""
        self._main_thread.assert_running_in_main_thread()
        return self._trigger(CheckpointOptions.for_checkpoint(self.configuration.mode,
                                                              self.configuration.unaligned))

    def trigger_savepoint(self, target_directory: Optional[str],
                          on_done: SavepointCallback) -> None:
        """Takes a savepoint into ``<target_directory or the default>/savepoint-...``;
        ``on_done(path, None)`` once it is complete, ``on_done(None, error)`` if not."""
        self._main_thread.assert_running_in_main_thread()
        self._trigger(CheckpointOptions.for_savepoint(target_directory), on_done)

    def trigger_synchronous_savepoint(self, target_directory: Optional[str], terminate: bool,
                                      on_done: SavepointCallback) -> None:
        """The savepoint of a stop-with-savepoint (Flink's ``triggerSynchronousSavepoint``):
        the tasks take it and then wait for its completion notice to finish (``terminate``:
        they drain first). Not retained; like a checkpoint it subsumes older pending
        checkpoints and is confirmed to every task."""
        self._main_thread.assert_running_in_main_thread()
        action = PostCheckpointAction.TERMINATE if terminate else PostCheckpointAction.SUSPEND
        self._trigger(CheckpointOptions.for_savepoint(target_directory, action), on_done)

    # -- triggering -------------------------------------------------------------------------

    def _trigger(self, checkpoint_options: CheckpointOptions,
                 on_savepoint_done: Optional[SavepointCallback] = None) -> Optional[int]:
        is_savepoint = checkpoint_options.checkpoint_type.is_savepoint
        if self._shutdown:
            self._fail_before_start(CheckpointFailureReason.CHECKPOINT_COORDINATOR_SHUTDOWN,
                                    on_savepoint_done)
            return None
        tasks = self._tasks()
        not_running = [t for t in tasks if t.state is not ExecutionState.RUNNING]
        if not tasks or not_running:
            detail = (f"{len(not_running)} of {len(tasks)} tasks are not RUNNING "
                      f"(e.g. {not_running[0].vertex_id} subtask {not_running[0].subtask_index}"
                      f" is {not_running[0].state.name})." if not_running else "No tasks.")
            log.debug("checkpoint of job %s not triggered: %s", self.job_id, detail)
            self._fail_before_start(CheckpointFailureReason.NOT_ALL_REQUIRED_TASKS_RUNNING,
                                    on_savepoint_done, detail)
            return None
        checkpoint_id = self._next_checkpoint_id
        self._next_checkpoint_id += 1
        try:
            if is_savepoint:
                location = self.storage.initialize_location_for_savepoint(
                    checkpoint_id, checkpoint_options.target_location)
                checkpoint_options = dataclasses.replace(checkpoint_options,
                                                         target_location=location.directory)
            else:
                location = self.storage.initialize_location_for_checkpoint(checkpoint_id)
        except (CheckpointStorageError, OSError) as exc:
            log.warning("checkpoint %d of job %s: no storage location: %s", checkpoint_id,
                        self.job_id, exc)
            self._fail_before_start(CheckpointFailureReason.IO_EXCEPTION, on_savepoint_done,
                                    str(exc), checkpoint_id if not is_savepoint else None)
            return None
        timestamp = self._clock()
        pending = PendingCheckpoint(self.job_id, checkpoint_id, timestamp, checkpoint_options,
                                    location, tasks, self.vertices, on_savepoint_done)
        pending.timeout_mail = self._main_thread.schedule(
            self.configuration.timeout_ms / 1000.0, lambda: self._on_timeout(pending))
        self._pending[checkpoint_id] = pending
        parallelism: Dict[str, int] = {}
        for task in tasks:
            parallelism[str(task.vertex_id)] = parallelism.get(str(task.vertex_id), 0) + 1
        kind = (SYNC_SAVEPOINT if checkpoint_options.is_synchronous else SAVEPOINT) \
            if is_savepoint else (
            UNALIGNED_CHECKPOINT if checkpoint_options.unaligned else CHECKPOINT)
        self.statistics.report_pending(checkpoint_id, timestamp, kind, parallelism)
        log.info("Triggering %s %d (type=%s) @ %d for job %s.",
                 "savepoint" if is_savepoint else "checkpoint", checkpoint_id, kind, timestamp,
                 self.job_id)
        for task in tasks:
            if task.is_source:
                self._call_task(
                    lambda t=task: t.gateway.trigger_checkpoint(
                        t.attempt_id, checkpoint_id, timestamp, checkpoint_options),
                    lambda exc, p=pending: self._abort(
                        p, CheckpointFailureReason.TRIGGER_CHECKPOINT_FAILURE,
                        f"{type(exc).__name__}: {exc}"))
        return checkpoint_id

    def _fail_before_start(self, reason: CheckpointFailureReason,
                           on_savepoint_done: Optional[SavepointCallback],
                           detail: Optional[str] = None,
                           counted_checkpoint_id: Optional[int] = None) -> None:
        if on_savepoint_done is not None:
            on_savepoint_done(None, SerializedError.of(CheckpointException(reason, detail)))
        elif counted_checkpoint_id is not None:
            self._failure_manager.handle_checkpoint_failure(reason, counted_checkpoint_id)

    def _call_task(self, call: Callable[[], None],
                   on_failure: Optional[Callable[[BaseException], None]] = None) -> None:
        """Runs a gateway call on the I/O executor; a failure comes back as a mail."""
        def done(future: "concurrent.futures.Future[None]") -> None:
            if future.cancelled():
                return
            exc = future.exception()
            if exc is None:
                return
            if on_failure is None:
                log.warning("a checkpoint notification to a task of job %s failed: %s",
                            self.job_id, exc)
            else:
                self._main_thread.execute(lambda: on_failure(exc))

        try:
            self._io.submit(call).add_done_callback(done)
        except RuntimeError as exc:  # the I/O executor is shut down: the job is ending
            log.debug("checkpoint call for job %s dropped: %s", self.job_id, exc)

    def _run_io(self, work: Callable[[], None]) -> None:
        """Runs file deletions on the I/O executor, logging (not raising) their errors."""
        def guarded() -> None:
            try:
                work()
            except OSError as exc:  # a file that cannot be deleted must not stop the job
                log.warning("could not delete checkpoint files of job %s: %s", self.job_id,
                            exc)

        try:
            self._io.submit(guarded)
        except RuntimeError:  # shut down already: delete here rather than leak the files
            guarded()

    # -- acknowledgements -------------------------------------------------------------------

    def receive_acknowledge_message(self, attempt_id: ExecutionAttemptID, checkpoint_id: int,
                                    metrics: CheckpointMetrics,
                                    subtask_state: Optional[TaskStateSnapshot]) -> None:
        self._main_thread.assert_running_in_main_thread()
        pending = self._pending.get(checkpoint_id)
        if pending is None:
            if checkpoint_id < self._next_checkpoint_id:
                log.info("Received late message for now expired checkpoint attempt %d from "
                         "task %s of job %s.", checkpoint_id, attempt_id, self.job_id)
                self._discard_late_state(subtask_state, ended_checkpoint_id=checkpoint_id)
            else:
                log.warning("Received acknowledgement of unknown checkpoint %d from task %s of "
                            "job %s: ignored.", checkpoint_id, attempt_id, self.job_id)
            return
        result = pending.acknowledge_task(attempt_id, subtask_state)
        if result is TaskAcknowledgeResult.SUCCESS:
            task = pending.tasks[attempt_id]
            self.statistics.report_subtask_ack(
                checkpoint_id, str(task.vertex_id), task.subtask_index, self._clock(),
                subtask_state.state_size if subtask_state is not None else 0, metrics)
            if pending.is_fully_acknowledged():
                self._complete(pending)
        elif result is TaskAcknowledgeResult.DUPLICATE:
            log.debug("duplicate acknowledgement of checkpoint %d from %s", checkpoint_id,
                      attempt_id)
        else:
            log.warning("Could not acknowledge checkpoint %d of job %s: task %s is %s.",
                        checkpoint_id, self.job_id, attempt_id,
                        "not part of it" if result is TaskAcknowledgeResult.UNKNOWN
                        else "of a discarded checkpoint")
            self._discard_late_state(subtask_state)

    def _discard_late_state(self, snapshot: Optional[TaskStateSnapshot],
                            ended_checkpoint_id: Optional[int] = None) -> None:
        """Deletes the files of a snapshot that no checkpoint takes. With
        ``ended_checkpoint_id``, a checkpoint that is no longer pending, also its directory
        unless it completed: its abort removed the directory, but a task whose snapshot was
        still running wrote there afterwards and so created it again."""
        states = (list(snapshot.subtask_state_by_operator.values()) if snapshot is not None
                  else [])
        unregistered = [h for s in states for h in shared_handles(s)
                        if not self.shared_state_registry.is_registered(h)]
        location = None
        if ended_checkpoint_id is not None and ended_checkpoint_id not in {
                c.checkpoint_id for c in self.store.all_checkpoints()}:
            location = self.storage.checkpoint_location(ended_checkpoint_id)
        if not states and location is None:
            return

        def discard() -> None:
            for handle in unregistered:
                handle.discard_state()
            for state in states:
                state.discard_state()
            if location is not None:
                location.dispose()

        self._run_io(discard)

    def receive_decline_message(self, attempt_id: ExecutionAttemptID, checkpoint_id: int,
                                reason: SerializedError) -> None:
        self._main_thread.assert_running_in_main_thread()
        pending = self._pending.get(checkpoint_id)
        if pending is None:
            log.debug("decline of checkpoint %d (not pending) from %s ignored", checkpoint_id,
                      attempt_id)
            if checkpoint_id < self._next_checkpoint_id:
                self._discard_late_state(None, ended_checkpoint_id=checkpoint_id)
            return
        if attempt_id not in pending.tasks:
            log.warning("decline of checkpoint %d from unknown task %s ignored", checkpoint_id,
                        attempt_id)
            return
        task = pending.tasks[attempt_id]
        log.info("Decline checkpoint %d by task %s (%s subtask %d) of job %s: %s",
                 checkpoint_id, attempt_id, task.vertex_id, task.subtask_index, self.job_id,
                 reason.message)
        self._abort(pending, failure_reason_of(reason.to_exception()), reason.message)

    # -- completion -------------------------------------------------------------------------

    def _complete(self, pending: PendingCheckpoint) -> None:
        checkpoint_id = pending.checkpoint_id
        metadata = CheckpointMetadata(checkpoint_id, list(pending.operator_states.values()),
                                      pending.is_savepoint, pending.timestamp)
        try:
            external_pointer = pending.location.write_metadata(metadata)
        except OSError as exc:
            self._abort(pending, CheckpointFailureReason.FINALIZE_CHECKPOINT_FAILURE,
                        f"Writing {pending.location.directory}/_metadata failed: {exc}")
            return
        completion = self._clock()
        completed = pending.finalize(completion)
        completed.external_pointer = external_pointer
        del self._pending[checkpoint_id]
        self.statistics.report_completed(checkpoint_id, completion,
                                         _external_path(external_pointer))
        log.info("Completed %s %d for job %s (%d bytes, took %d ms).",
                 "savepoint" if pending.is_savepoint else "checkpoint", checkpoint_id,
                 self.job_id, completed.state_size, completion - pending.timestamp)
        if pending.is_savepoint:
            # Savepoints are not retained (never deleted by the job) and, as in Flink since
            # 1.15, do not notify the tasks: side effects commit on checkpoints only. The
            # synchronous savepoint of a stop is the job's last snapshot: its tasks commit
            # and finish on its notice.
            if pending.on_savepoint_done is not None:
                pending.on_savepoint_done(external_pointer, None)
            if pending.options.is_synchronous:
                self._subsume_older_than(checkpoint_id)
                self._confirm(pending)
        else:
            for subsumed in self.store.add_checkpoint(completed):
                self.statistics.report_discarded(subsumed.checkpoint_id)
            self._last_completion_ms = completion
            self._failure_manager.handle_checkpoint_success(checkpoint_id)
            self._subsume_older_than(checkpoint_id)
            self._confirm(pending)
        self._after_checkpoint_ended()

    def _subsume_older_than(self, checkpoint_id: int) -> None:
        for older in [p for p in self._pending.values()
                      if p.checkpoint_id < checkpoint_id and not p.is_savepoint]:
            self._abort(older, CheckpointFailureReason.CHECKPOINT_SUBSUMED)

    def _confirm(self, pending: PendingCheckpoint) -> None:
        for task in pending.tasks.values():
            self._call_task(lambda t=task: t.gateway.confirm_checkpoint(
                t.attempt_id, pending.checkpoint_id, pending.timestamp))

    # -- aborting ---------------------------------------------------------------------------

    def _on_timeout(self, pending: PendingCheckpoint) -> None:
        if self._pending.get(pending.checkpoint_id) is pending:
            log.info("Checkpoint %d of job %s expired before completing.",
                     pending.checkpoint_id, self.job_id)
            self._abort(pending, CheckpointFailureReason.CHECKPOINT_EXPIRED)

    def _abort(self, pending: PendingCheckpoint, reason: CheckpointFailureReason,
               detail: Optional[str] = None) -> None:
        if self._pending.get(pending.checkpoint_id) is not pending:
            return  # already completed or aborted
        del self._pending[pending.checkpoint_id]
        pending.abort()
        error = CheckpointException(reason, detail)
        self.statistics.report_failed(pending.checkpoint_id, self._clock(), str(error))
        self._run_io(pending.discard_work(self.shared_state_registry))
        latest = self.store.latest_checkpoint()
        latest_id = latest.checkpoint_id if latest is not None else 0
        for task in pending.tasks.values():
            self._call_task(lambda t=task: t.gateway.abort_checkpoint(
                t.attempt_id, pending.checkpoint_id, latest_id))
        if pending.is_savepoint:
            if pending.on_savepoint_done is not None:
                pending.on_savepoint_done(None, SerializedError.of(error))
        else:
            self._failure_manager.handle_checkpoint_failure(reason, pending.checkpoint_id)
        self._after_checkpoint_ended()

    def abort_pending_checkpoints(self, reason: str) -> None:
        """The job fails over: every checkpoint in flight is aborted (not counted)."""
        self._main_thread.assert_running_in_main_thread()
        for pending in list(self._pending.values()):
            self._abort(pending, CheckpointFailureReason.JOB_FAILOVER_REGION, reason)

    @property
    def number_of_pending_checkpoints(self) -> int:
        return len(self._pending)

    @property
    def pending_checkpoint_ids(self) -> List[int]:
        return sorted(self._pending)

    # -- restore ----------------------------------------------------------------------------

    def restore_latest_checkpointed_state(
            self, vertices: List[RestoredVertex]
    ) -> Optional[Dict[Tuple[JobVertexID, int], JobManagerTaskRestore]]:
        """The latest completed checkpoint's state per subtask, else the state of the
        savepoint/checkpoint the job was submitted with; None if there is neither.

        A vertex whose max parallelism was not configured adopts the checkpoint's: after a
        restore, ``vertices`` holds the max parallelism each vertex must be deployed with.

        :raises CheckpointMetadataError: the restore path's ``_metadata`` is missing or
            corrupt (naming the path).
        :raises StateAssignmentError: state that maps to no operator (Flink's message), unless
            ``execution.savepoint.ignore-unclaimed-state``; a parallelism above the state's max
            parallelism, or a configured max parallelism other than the state's.
        """
        self._main_thread.assert_running_in_main_thread()
        checkpoint = self.store.latest_checkpoint()
        allow_non_restored = False
        claimed = True
        if checkpoint is None:
            checkpoint = self._load_initial_checkpoint()
            allow_non_restored = self.restore_settings.allow_non_restored_state
            claimed = False  # NO_CLAIM: the files of the checkpoint started from stay its own
        if checkpoint is None:
            return None
        path = checkpoint.external_pointer or f"<checkpoint {checkpoint.checkpoint_id} in " \
                                              f"the JobManager's memory>"
        adopted = adopt_max_parallelism(checkpoint.metadata, vertices)
        restores = assign_states(checkpoint.metadata, adopted, allow_non_restored, path)
        if not claimed:
            restores = {key: dataclasses.replace(restore, claimed=False)
                        for key, restore in restores.items()}
        # the next checkpoints record the key groups the tasks now run with
        adopted_max = {v.vertex_id: v.max_parallelism for v in adopted}
        self.vertices = [dataclasses.replace(v, max_parallelism=adopted_max.get(
            v.vertex_id, v.max_parallelism)) for v in self.vertices]
        self._next_checkpoint_id = max(self._next_checkpoint_id, checkpoint.checkpoint_id + 1)
        self.statistics.report_restored(checkpoint.checkpoint_id, self._clock(),
                                        checkpoint.is_savepoint,
                                        _external_path(checkpoint.external_pointer))
        log.info("Restoring job %s from %s %d (%s).", self.job_id,
                 "savepoint" if checkpoint.is_savepoint else "checkpoint",
                 checkpoint.checkpoint_id, path)
        return restores

    def _load_initial_checkpoint(self) -> Optional[CompletedCheckpoint]:
        if self._initial_checkpoint is not None or not self.restore_settings.restore_path:
            return self._initial_checkpoint
        resolved = self.storage.resolve_checkpoint(self.restore_settings.restore_path)
        metadata = resolved.metadata
        # The shared files of a checkpoint the job starts from belong to the job that wrote
        # it: pinned, they are never deleted when later checkpoints reuse and drop them.
        self.shared_state_registry.register_all(RESTORED_CHECKPOINT_REFERENCE,
                                                metadata.operator_states)
        # location None: the job never deletes the files of a savepoint it started from
        self._initial_checkpoint = CompletedCheckpoint(
            self.job_id, metadata.checkpoint_id, metadata.timestamp, metadata.timestamp,
            metadata.operator_states, metadata.is_savepoint, resolved.external_pointer, None)
        return self._initial_checkpoint

    # -- shutdown ---------------------------------------------------------------------------

    def shutdown(self, job_status_name: str) -> None:
        """The job reached ``job_status_name``: aborts what is in flight, then deletes or
        keeps the retained checkpoints as ``externalized-checkpoint-retention`` says
        (Flink's CheckpointProperties: RETAIN_ON_CANCELLATION keeps them unless the job
        FINISHED, DELETE_ON_CANCELLATION keeps them when it FAILED)."""
        self._main_thread.assert_running_in_main_thread()
        if self._shutdown:
            return
        self.stop_checkpoint_scheduler()
        for pending in list(self._pending.values()):
            self._abort(pending, CheckpointFailureReason.CHECKPOINT_COORDINATOR_SHUTDOWN)
        self._shutdown = True
        try:
            status: Optional[JobStatus] = JobStatus[job_status_name]
        except KeyError:
            log.warning("coordinator of job %s shut down with unknown status %r: keeping its "
                        "checkpoints", self.job_id, job_status_name)
            status = None
        discard = status in _DISCARD_ON.get(self.configuration.externalized_retention, ())
        self.store.shutdown(discard)
        if discard:
            self._run_io(self.storage.discard_job_directory)
        elif len(self.store) or status is not None:
            latest = self.statistics.snapshot.latest_completed
            if latest is not None and latest.external_path:
                log.info("Job %s ended %s: retained checkpoint %s", self.job_id,
                         job_status_name, latest.external_path)
        if self._owns_io_executor:
            # runs the queued deletions; gateway calls have their own deadlines
            self._io.shutdown(wait=True)


def _external_path(pointer: Optional[str]) -> Optional[str]:
    """How Flink shows a checkpoint's location: a ``file:`` URI."""
    return f"file:{pointer}" if pointer else None


def create_checkpoint_coordinator(
        job_id: str, vertices: List[RestoredVertex], job_configuration: Configuration,
        main_thread: MainThreadExecutor, tasks: TasksProvider, fail_job: FailJob,
        clock: Clock = _wall_clock_ms) -> CheckpointCoordinator:
    """The coordinator of a job, from its configuration (``JobGraph.job_configuration``
    layered over the cluster's): settings, storage and the path it restores from.

    :raises CheckpointStorageError: a misconfigured checkpoint storage.
    """
    return CheckpointCoordinator(
        job_id, vertices, CheckpointCoordinatorConfiguration.from_configuration(
            job_configuration), main_thread, tasks,
        create_checkpoint_storage(job_id, job_configuration), fail_job, clock,
        SavepointRestoreSettings.from_configuration(job_configuration))


def restored_vertices(job_graph: JobGraph) -> List[RestoredVertex]:
    """What the coordinator (and the state assignment) needs of a job's vertices."""
    return [RestoredVertex(v.id, tuple(v.operator_ids), v.parallelism, v.max_parallelism,
                           v.max_parallelism_configured, v.name)
            for v in job_graph.topological_vertices()]


def job_checkpoint_configuration(cluster_configuration: Configuration,
                                 job_graph: JobGraph) -> Configuration:
    """The job's settings (``JobGraph.job_configuration``) layered over the cluster's."""
    merged = Configuration(cluster_configuration)
    merged.add_all(Configuration(dict(job_graph.job_configuration)))
    return merged


def create_checkpoint_coordinator_for_job(
        job_graph: JobGraph, cluster_configuration: Configuration,
        main_thread: MainThreadExecutor, tasks: TasksProvider, fail_job: FailJob,
        clock: Clock = _wall_clock_ms) -> CheckpointCoordinator:
    """The JobMaster's one call: the coordinator of ``job_graph`` on ``main_thread``."""
    return create_checkpoint_coordinator(
        job_graph.job_id.to_hex_string(), restored_vertices(job_graph),
        job_checkpoint_configuration(cluster_configuration, job_graph), main_thread, tasks,
        fail_job, clock)


__all__ = ["CheckpointCoordinator", "CheckpointCoordinatorConfiguration",
           "SavepointRestoreSettings", "create_checkpoint_coordinator",
           "create_checkpoint_coordinator_for_job", "restored_vertices",
           "job_checkpoint_configuration"]
