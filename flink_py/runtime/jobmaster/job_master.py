"""JobMaster: runs one job: ExecutionGraph, slots, deployment, failover, restarts, cancel.

All job state lives on the JobMaster's main thread (a ``MainThreadExecutor``, Flink's
main-thread model): public methods only enqueue mails. Nothing on the main thread blocks:
slot requests complete through a callback that enqueues a mail (their timeout is a scheduled
mail), and every outbound call (submit, cancel, release partitions, checkpoint RPCs) runs on a
small pool, its completion or failure coming back as a mail. After each mail the main thread
publishes an immutable ``JobView`` that readers on other threads use.

Failures go through the failover strategy (which subtasks restart) and the restart strategy
(whether, and after how long). A restart cancels the subtasks, waits until they are terminal
(``task.cancellation.timeout`` bounds the wait), releases their partitions, makes new attempts,
waits the strategy's delay, then asks for slots and deploys.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Optional, Tuple

from flink_py.common import config_options as options
from flink_py.common.configuration import Configuration
from flink_py.common.job_status import JobStatus
from flink_py.errors import FlinkPyError
from flink_py.graph.execution_graph import ConsumedGate, ExecutionGraph, ExecutionVertex
from flink_py.graph.ids import ExecutionAttemptID, IntermediateDataSetID
from flink_py.graph.job_graph import JobGraph
from flink_py.rpc.gateways import RpcError, RpcRefusedError
from flink_py.runtime.checkpoint.coordinator import restored_vertices
from flink_py.runtime.checkpoint.coordinator_protocol import (
    CheckpointCoordinatorProtocol, CheckpointTask, SavepointCallback)
from flink_py.runtime.checkpoint.gateways import CheckpointMetrics
from flink_py.runtime.checkpoint.state_assignment import RestoredVertex
from flink_py.runtime.concurrent.main_thread_executor import MainThreadExecutor, ScheduledMail
from flink_py.runtime.execution.errors import PartnerLostException, SerializedError
from flink_py.runtime.execution.execution_state import ExecutionState
from flink_py.runtime.jobmaster.collect import CollectCoordinator
from flink_py.runtime.jobmaster.execution import (
    Execution, IllegalExecutionStateTransition, next_state)
from flink_py.runtime.jobmaster.failover_strategy import VertexKey, failover_strategy_from
from flink_py.runtime.jobmaster.task_gateways import (
    AsyncCheckpointGateway, OperatorEventGateway)
from flink_py.runtime.jobmaster.job_view import (
    JobFailure, JobView, SubtaskView, VertexView, WaitingForSlots)
from flink_py.runtime.jobmaster.restart_strategy import restart_strategy_from
from flink_py.runtime.jobmaster.stop_with_savepoint import StopWithSavepointTermination
from flink_py.runtime.jobmaster.watermark_alignment import WatermarkAlignmentCoordinator
from flink_py.runtime.resourcemanager.resource_manager import (
    NoResourceAvailableError, PendingSlotRequest, ResourceManager, SlotAllocation)
from flink_py.runtime.state.handles import JobManagerTaskRestore, TaskStateSnapshot
from flink_py.runtime.tasks.deployment import TaskDeploymentDescriptor

log = logging.getLogger(__name__)

__all__ = ["JobFailure", "JobMaster"]

S = ExecutionState
#: outbound calls run on this many threads per job (their own deadlines bound each call)
RPC_THREADS = 4
#: a restart still waiting for attempts to end after this long logs which ones, again and again
RESTART_WAIT_WARNING_S = 10.0
#: (slot sharing group, subtask index): subtask i of every vertex of a group shares a slot
SlotKey = Tuple[str, int]
CoordinatorFactory = Callable[["JobMaster"], Optional[CheckpointCoordinatorProtocol]]


@dataclasses.dataclass(eq=False)
class _SlotRequest:
    slot_keys: List[SlotKey]
    #: the attempts waiting for these slots, by subtask
    attempts: Dict[VertexKey, ExecutionAttemptID]
    #: when the request fails (monotonic, s): slot.request.timeout after the scheduling
    deadline: float
    timeout: Optional[ScheduledMail] = None


@dataclasses.dataclass(eq=False)
class _StopWithSavepoint:
    termination: StopWithSavepointTermination
    #: the attempts that ran when the stop began: each must end FINISHED
    executions: List[Execution]
    on_done: SavepointCallback


@dataclasses.dataclass(eq=False)
class _PendingRestart:
    keys: FrozenSet[VertexKey]
    delay_s: float
    #: set once the subtasks are terminal and have new attempts
    attempts_created: bool = False
    releases_pending: int = 0
    scheduled: Optional[ScheduledMail] = None


def job_configuration(cluster: Optional[Configuration], job_graph: JobGraph) -> Configuration:
    """The job's settings (``JobGraph.job_configuration``) layered over the cluster's."""
    layered = Configuration(cluster) if cluster is not None else Configuration()
    for key, value in job_graph.job_configuration.items():
        layered.set_string(key, value)
    return layered


class JobMaster:
    """Schedules and supervises one job."""

    #: the level of the log line of a FAILED job (INFO where a local client raises the
    #: failure to the user anyway)
    failure_log_level: int = logging.ERROR

    def __init__(self, job_graph: JobGraph, resource_manager: ResourceManager,
                 slot_request_timeout_s: float = 300.0,
                 on_terminal: Optional[Callable[["JobMaster"], None]] = None,
                 configuration: Optional[Configuration] = None,
                 checkpoint_coordinator_factory: Optional[CoordinatorFactory] = None) -> None:
        self.job_graph = job_graph
        self.job_id = str(job_graph.job_id)
        self.job_name = job_graph.job_name
        self.resource_manager = resource_manager
        self.slot_request_timeout_s = slot_request_timeout_s
        self.on_terminal = on_terminal
        self.configuration = job_configuration(configuration, job_graph)
        self.execution_graph = ExecutionGraph(job_graph)
        self.restart_strategy = restart_strategy_from(self.configuration)
        self.failover_strategy = failover_strategy_from(self.configuration,
                                                        self.execution_graph)
        self.cancellation_timeout_s = int(
            self.configuration.get(options.TASK_CANCELLATION_TIMEOUT)) / 1000.0
        self.start_time_ms = _now_ms()
        # with checkpointing the client sees results once a checkpoint covers them
        self.collect = CollectCoordinator(checkpointed=bool(
            (self.configuration.get(options.CHECKPOINTING_INTERVAL) or 0) > 0))
        #: the job's watermark alignment groups (with_watermark_alignment)
        self.watermark_alignment = WatermarkAlignmentCoordinator()
        self._event_gateway = OperatorEventGateway(self.collect, self.watermark_alignment)
        self.main_thread_executor = MainThreadExecutor(f"JobMaster {self.job_id}",
                                                       on_error=self._on_mail_error)
        self._rpc = ThreadPoolExecutor(RPC_THREADS, thread_name_prefix=f"JobMaster-rpc "
                                                                       f"{self.job_id[:8]}")
        self._status = JobStatus.CREATED
        self._status_timestamps: Dict[str, int] = {JobStatus.CREATED.name: self.start_time_ms}
        self._end_time_ms = -1
        self._failure: Optional[JobFailure] = None
        self._exceptions: List[JobFailure] = []
        self._num_restarts = 0
        self._current: Dict[ExecutionAttemptID, ExecutionVertex] = {
            ev.attempt_id: ev for ev in self.execution_graph.all_execution_vertices}
        self._all_keys = frozenset(self._current[a].key for a in self._current)
        self._slots: Dict[SlotKey, SlotAllocation] = {}
        self._used_gateways: Dict[int, Any] = {}
        self._slot_requests: Dict[PendingSlotRequest, _SlotRequest] = {}
        #: attempts whose submit call has not returned: their cancel waits for it (a cancel
        #: overtaking the submit would find no task, and the task would then run on)
        self._submitting: set = set()
        self._restarts: List[_PendingRestart] = []
        self._checkpointing = False
        #: the stop-with-savepoint in progress
        self._stop: Optional[_StopWithSavepoint] = None
        self._terminated = threading.Event()
        #: the CheckpointCoordinator (a main-thread component), when checkpointing is on
        self.checkpoint_coordinator: Optional[CheckpointCoordinatorProtocol] = (
            checkpoint_coordinator_factory(self) if checkpoint_coordinator_factory else None)
        #: the vertex views of the last JobView, reused by the next where nothing changed
        self._vertex_views: Dict[Any, VertexView] = {}
        self._view = self._build_view()

    # -- gateway (any thread): enqueue and return ---------------------------------------------

    def start(self) -> None:
        self.main_thread_executor.start()
        self._enqueue(self._start_scheduling)

    def update_task_execution_state(self, attempt_id: ExecutionAttemptID,
                                    state: ExecutionState,
                                    error: Optional[SerializedError] = None) -> None:
        self._enqueue(lambda: self._on_task_state(attempt_id, state, error))

    def cancel(self) -> None:
        self._enqueue(self._cancel)

    def fail(self, reason: str, location: str = "") -> None:
        """A failure of the whole job (not of one task): handled by the restart strategy."""
        error = SerializedError(reason, reason)
        self._enqueue(lambda: self._handle_failure(self._all_keys, "(job)", error, location))

    def notify_allocations_lost(self, allocations: Iterable[SlotAllocation],
                                reason: str) -> None:
        """Slots of this job are gone (their TaskManager or slot worker was lost): the
        attempts in them fail (or, being cancelled, count as cancelled)."""
        lost = list(allocations)
        self._enqueue(lambda: self._on_allocations_lost(lost, reason))

    def acknowledge_checkpoint(self, job_id: str, attempt_id: ExecutionAttemptID,
                               checkpoint_id: int, metrics: CheckpointMetrics,
                               subtask_state: Optional[TaskStateSnapshot]) -> None:
        """CheckpointCoordinatorGateway: a task's part of a checkpoint is done."""
        def mail() -> None:
            if self.checkpoint_coordinator is not None:
                self.checkpoint_coordinator.receive_acknowledge_message(
                    attempt_id, checkpoint_id, metrics, subtask_state)
        self._enqueue(mail)

    def decline_checkpoint(self, job_id: str, attempt_id: ExecutionAttemptID,
                           checkpoint_id: int, reason: SerializedError) -> None:
        """CheckpointCoordinatorGateway: a task cannot take part in a checkpoint."""
        def mail() -> None:
            if self.checkpoint_coordinator is not None:
                self.checkpoint_coordinator.receive_decline_message(
                    attempt_id, checkpoint_id, reason)
        self._enqueue(mail)

    def trigger_savepoint(self, target_directory: Optional[str],
                          on_done: SavepointCallback) -> None:
        """Triggers a savepoint (for the REST layer); ``on_done`` runs on the main thread."""
        def mail() -> None:
            if self.checkpoint_coordinator is None:
                message = (f"Cannot trigger a savepoint of job {self.job_id}: checkpointing "
                           f"is not set up for it")
                on_done(None, SerializedError(message, message))
            elif self._status is not JobStatus.RUNNING:
                message = (f"Cannot trigger a savepoint of job {self.job_id}: it is "
                           f"{self._status.name}, not RUNNING")
                on_done(None, SerializedError(message, message))
            else:
                self.checkpoint_coordinator.trigger_savepoint(target_directory, on_done)
        self._enqueue(mail)

    def stop_with_savepoint(self, target_directory: Optional[str], drain: bool,
                            on_done: SavepointCallback) -> None:
        """Flink's stop-with-savepoint: a synchronous savepoint, after which every task
        finishes (``drain``: the sources emit MAX_WATERMARK and every operator finishes
        first). ``on_done(path, None)`` runs (on the main thread) once the job FINISHED;
        ``on_done(None, error)`` if the savepoint failed (the job runs on, periodic
        checkpoints resume) or a task ended other than FINISHED (the job fails over)."""
        def mail() -> None:
            coordinator = self.checkpoint_coordinator
            reason = None
            if coordinator is None:
                reason = "checkpointing is not set up for it"
            elif self._status is not JobStatus.RUNNING:
                reason = f"it is {self._status.name}, not RUNNING"
            elif self._stop is not None:
                reason = "a stop-with-savepoint of it is in progress already"
            if reason is not None:
                message = f"Cannot stop job {self.job_id} with a savepoint: {reason}"
                on_done(None, SerializedError(message, message))
                return
            executions = [ev.current_execution
                          for ev in self.execution_graph.all_execution_vertices]
            stop = _StopWithSavepoint(StopWithSavepointTermination(self.job_id,
                                                                   len(executions)),
                                      executions, on_done)
            self._stop = stop
            if self._checkpointing:  # _checkpointing stays set: nothing restarts it meanwhile
                coordinator.stop_checkpoint_scheduler()  # type: ignore[union-attr]
            coordinator.trigger_synchronous_savepoint(  # type: ignore[union-attr]
                target_directory, drain,
                lambda path, error: self._on_stop_savepoint(stop, path, error))
        self._enqueue(mail)

    def fail_job_from_checkpointing(self, reason: str) -> None:
        """The coordinator's ``FailJob``: a failure like any other (restart strategy)."""
        error = SerializedError(reason, reason)
        self._enqueue(lambda: self._handle_failure(self._all_keys, "(checkpointing)", error,
                                                   ""))

    def operator_event_gateway(self, job_id: str) -> OperatorEventGateway:
        return self._event_gateway

    def request_user_artifacts(self) -> Dict[str, bytes]:
        return dict(self.job_graph.user_artifacts)

    def wait_for_termination(self, timeout_s: Optional[float] = None) -> bool:
        return self._terminated.wait(timeout_s)

    # -- views (any thread) --------------------------------------------------------------------

    @property
    def is_terminal(self) -> bool:
        return self._terminated.is_set()

    def view(self) -> JobView:
        """The latest published snapshot of the job."""
        return self._view

    @property
    def status(self) -> JobStatus:
        return self._view.status

    @property
    def status_timestamps(self) -> Dict[str, int]:
        return dict(self._view.status_timestamps)

    @property
    def end_time_ms(self) -> int:
        return self._view.end_time_ms

    @property
    def failure(self) -> Optional[JobFailure]:
        return self._view.failure

    @property
    def task_states(self) -> Dict[ExecutionAttemptID, ExecutionState]:
        return {s.attempt_id: s.state for s in self._view.subtasks()}

    @property
    def task_state_timestamps(self) -> Dict[ExecutionAttemptID, Dict[str, int]]:
        return {s.attempt_id: dict(s.state_timestamps) for s in self._view.subtasks()}

    @property
    def task_locations(self) -> Dict[ExecutionAttemptID, SlotAllocation]:
        return {s.attempt_id: s.location for s in self._view.subtasks()
                if s.location is not None}

    def task_state_counts(self) -> Dict[str, int]:
        return self._view.task_state_counts()

    # -- main thread: plumbing ----------------------------------------------------------------

    def _enqueue(self, fn: Callable[[], None]) -> None:
        self.main_thread_executor.execute(self._mail(fn))

    def _mail(self, fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            if self._terminated.is_set():
                return  # the job ended: late completions and reports change nothing
            fn()
            # Every mail ends by advancing the job: a state change on a path that forgot
            # to (an attempt marked terminal as a side effect) must not stall a restart.
            if not self._terminated.is_set():
                self._progress()
            self._view = self._build_view()
        return run

    def _on_mail_error(self, exc: BaseException) -> None:
        # A bug in the JobMaster fails the job (never hangs it), without restarts.
        log.error("JobMaster %s: a mail failed", self.job_id, exc_info=exc)
        if not self._terminated.is_set():
            self._fail_job("(JobMaster)", SerializedError.of(exc), "")
            self._view = self._build_view()

    def _call(self, fn: Callable[..., Any], *args: Any,
              on_failure: Optional[Callable[[BaseException], None]] = None,
              on_success: Optional[Callable[[], None]] = None) -> None:
        """Runs ``fn(*args)`` on the RPC pool; its outcome comes back as a mail."""
        future: Future = self._rpc.submit(fn, *args)

        def done(f: Future) -> None:
            if on_success is None and not f.cancelled() and f.exception() is None:
                # Nothing to do on the main thread: no mail (and so no view rebuilt, which
                # costs O(subtasks)). A checkpoint's triggers and confirmations are such
                # calls, one per task: their mails made the JobMaster's work per checkpoint
                # grow with the square of the subtasks (docs/scaling.md).
                return

            def mail() -> None:
                exc = f.exception()
                if exc is not None:
                    if on_failure is None:
                        log.warning("JobMaster %s: %s failed: %s", self.job_id,
                                    getattr(fn, "__name__", fn), exc)
                    else:
                        on_failure(exc)
                elif on_success is not None:
                    on_success()
            # completions after the job ended still matter to restarts' bookkeeping only
            self.main_thread_executor.execute(self._mail(mail))
        future.add_done_callback(done)

    def _set_status(self, status: JobStatus) -> None:
        log.info("Job %s (%s) switched from state %s to %s.", self.job_name, self.job_id,
                 self._status.name, status.name)
        self._status = status
        self._status_timestamps = {**self._status_timestamps, status.name: _now_ms()}

    def _build_view(self) -> JobView:
        """A new JobView; the vertex and subtask views of the last one are reused where
        their attempt did not change (it is rebuilt after every mail, and a checkpoint is
        hundreds of mails that change no subtask: building every SubtaskView anew made each
        mail cost O(subtasks)). A subtask view is reused only while its execution holds the
        very objects it shows: a transition replaces ``state_timestamps``, a new attempt is
        a new Execution with a new attempt id, a deployment sets ``assigned_slot``."""
        vertices = []
        for ejv in self.execution_graph.job_vertices.values():
            old = self._vertex_views.get(ejv.job_vertex.id)
            reusable = old is not None and old.job_vertex is ejv.job_vertex and \
                len(old.subtasks) == len(ejv.task_vertices)
            subtasks = []
            changed = not reusable
            for index, ev in enumerate(ejv.task_vertices):
                execution = ev.current_execution
                view = old.subtasks[index] if reusable else None  # type: ignore[union-attr]
                if view is None or view.attempt_id is not execution.attempt_id or \
                        view.state is not execution.state or \
                        view.state_timestamps is not execution.state_timestamps or \
                        view.location is not execution.assigned_slot:
                    view = SubtaskView(ev.subtask_index, execution.attempt_number,
                                       execution.attempt_id, execution.state,
                                       execution.state_timestamps, execution.assigned_slot)
                    changed = True
                subtasks.append(view)
            vertex = VertexView(ejv.job_vertex, tuple(subtasks)) if changed else old
            assert vertex is not None
            self._vertex_views[ejv.job_vertex.id] = vertex
            vertices.append(vertex)
        return JobView(self._status, dict(self._status_timestamps), self.start_time_ms,
                       self._end_time_ms, self._failure, tuple(self._exceptions),
                       tuple(vertices), self._num_restarts, self._waiting_for_slots())

    def _waiting_for_slots(self) -> Optional[WaitingForSlots]:
        """What a job that never ran yet waits for (None once it runs, or asks for nothing)."""
        if self._status is not JobStatus.CREATED or not self._slot_requests:
            return None
        entries = list(self._slot_requests.values())
        deadline = min(entry.deadline for entry in entries)
        return WaitingForSlots(
            sum(len(entry.slot_keys) for entry in entries),
            _now_ms() + int((deadline - time.monotonic()) * 1000),
            int(self.slot_request_timeout_s * 1000))

    def _vertices(self, keys: Iterable[VertexKey]) -> List[ExecutionVertex]:
        """The vertices of ``keys`` in topological order."""
        wanted = set(keys)
        return [ev for ev in self.execution_graph.all_execution_vertices if ev.key in wanted]

    def _slot_key(self, ev: ExecutionVertex) -> SlotKey:
        return (self.job_graph.vertices[ev.job_vertex_id].slot_sharing_group, ev.subtask_index)

    # -- main thread: scheduling and deployment -----------------------------------------------

    def _start_scheduling(self) -> None:
        """Asks for the job's slots. The job stays CREATED (its subtasks SCHEDULED) until
        it holds them all, so a job waiting for resources shows that it waits (as Flink's
        AdaptiveScheduler does in WaitingForResources) rather than RUNNING; it switches to
        RUNNING when its tasks are deployed (``_deploy``)."""
        if self._status is not JobStatus.CREATED:
            return
        self._schedule(self._all_keys)

    def _schedule(self, keys: Iterable[VertexKey]) -> None:
        evs = [ev for ev in self._vertices(keys) if ev.current_execution.state is S.CREATED]
        if not evs:
            return
        for ev in evs:
            ev.current_execution.transition_to(S.SCHEDULED)
        self._allocate_and_deploy(evs, time.monotonic() + self.slot_request_timeout_s)

    def _allocate_and_deploy(self, evs: List[ExecutionVertex], deadline: float) -> None:
        """Deploys the SCHEDULED ``evs`` once every slot they need is held: asks for the
        missing ones first (by ``deadline``, monotonic)."""
        dead = [k for k, a in self._slots.items()
                if not self.resource_manager.is_allocation_alive(a)]
        # lost, or on a TaskManager found unreachable: give back, ask for others
        self.resource_manager.release_allocations([self._slots.pop(k) for k in dead])
        needed = sorted({self._slot_key(ev) for ev in evs} - set(self._slots))
        if not needed:
            self._deploy(evs)
            return
        entry = _SlotRequest(needed, {ev.key: ev.attempt_id for ev in evs}, deadline)
        holder: List[PendingSlotRequest] = []

        def on_slots(allocations: Optional[List[SlotAllocation]],
                     error: Optional[Exception]) -> None:
            # any thread (the RM's caller): back to the main thread
            self.main_thread_executor.execute(
                self._mail(lambda: self._on_slots(holder[0], allocations, error)))

        request = self.resource_manager.request_slots_async(self.job_id, len(needed), on_slots)
        holder.append(request)
        self._slot_requests[request] = entry
        entry.timeout = self.main_thread_executor.schedule(
            deadline - time.monotonic(), self._mail(lambda: self._on_slot_timeout(request)))

    def _on_slots(self, request: PendingSlotRequest,
                  allocations: Optional[List[SlotAllocation]],
                  error: Optional[Exception]) -> None:
        entry = self._slot_requests.pop(request, None)
        if entry is None:  # no longer wanted (cancelled, restarted): give them back
            if allocations:
                self.resource_manager.release_allocations(allocations)
            return
        if entry.timeout is not None:
            entry.timeout.cancel()
        if error is not None or allocations is None:
            self._fail_waiting(entry, error or NoResourceAvailableError("no slots"))
            return
        for slot_key, allocation in zip(entry.slot_keys, allocations):
            self._slots[slot_key] = allocation
        waiting = [ev for ev in self._vertices(entry.attempts)
                   if ev.attempt_id == entry.attempts[ev.key]
                   and ev.current_execution.state is S.SCHEDULED]
        if waiting:
            # A slot held before the request may have been lost while it waited: that one
            # is asked for again (before the deadline) rather than deployed into.
            self._allocate_and_deploy(waiting, entry.deadline)

    def _on_slot_timeout(self, request: PendingSlotRequest) -> None:
        if not request.cancel():
            return  # fulfilled meanwhile: its mail is queued
        entry = self._slot_requests.pop(request, None)
        if entry is None:
            return
        self._fail_waiting(entry, NoResourceAvailableError(
            f"Could not acquire the minimum required resources: {len(entry.slot_keys)} "
            f"slot(s) within slot.request.timeout ({self.slot_request_timeout_s * 1000:.0f} "
            f"ms); the cluster has {self.resource_manager.free_slots} free of "
            f"{self.resource_manager.total_slots}"))

    def _fail_waiting(self, entry: _SlotRequest, error: BaseException) -> None:
        for ev in self._vertices(entry.attempts):
            if ev.attempt_id == entry.attempts[ev.key] and \
                    ev.current_execution.state is S.SCHEDULED:
                self._execution_failed(ev, SerializedError.of(error), "")

    def _deploy(self, evs: List[ExecutionVertex]) -> None:
        if self._status is JobStatus.CREATED:
            self._set_status(JobStatus.RUNNING)
            # visible before the tasks start (their submissions run on the RPC pool while
            # this mail goes on): a job whose records flow never reads as CREATED
            self._view = self._build_view()
        for ev in evs:
            allocation = self._slots[self._slot_key(ev)]
            ev.current_execution.assigned_slot = allocation
            self._used_gateways[id(allocation.task_executor)] = allocation.task_executor
        restores: Optional[Dict[tuple, JobManagerTaskRestore]] = None
        if self.checkpoint_coordinator is not None:
            try:
                restores = self.checkpoint_coordinator.restore_latest_checkpointed_state(
                    self._restored_vertices())
                if restores is not None:
                    self._adopt_max_parallelism(self.checkpoint_coordinator.vertices)
            except FlinkPyError as exc:  # e.g. unmatched or unreadable state: a failure
                for ev in evs:
                    self._execution_failed(ev, SerializedError.of(exc), "")
                return
        for ev in evs:
            execution = ev.current_execution
            if execution.state is not S.SCHEDULED:
                continue  # failed or cancelled while the others deployed
            restore = restores.get(ev.key) if restores else None
            tdd = self._deployment(ev, restore)
            execution.transition_to(S.DEPLOYING)
            allocation = execution.assigned_slot
            self._submitting.add(execution.attempt_id)
            self._call(allocation.task_executor.submit_task, tdd, self,
                       on_failure=lambda exc, ev=ev, execution=execution:
                       self._on_submit_failed(ev, execution, exc),
                       on_success=lambda ev=ev, execution=execution:
                       self._on_submitted(ev, execution))

    def _restored_vertices(self) -> List[RestoredVertex]:
        return restored_vertices(self.job_graph)

    def _adopt_max_parallelism(self, vertices: List[RestoredVertex]) -> None:
        """A restore gives a vertex whose max parallelism was not configured the
        checkpoint's: its tasks' key groups, and the key_by partitioners feeding it, use it."""
        for vertex in vertices:
            self.job_graph.vertices[vertex.vertex_id].max_parallelism = vertex.max_parallelism

    def _on_submitted(self, ev: ExecutionVertex, execution: Execution) -> None:
        self._submitting.discard(execution.attempt_id)
        if ev.current_execution is execution and execution.state is S.CANCELING:
            log.debug("Job %s: %s (attempt %d) is deployed: sending its deferred cancel",
                      self.job_id, ev.task_name_with_subtask, execution.attempt_number)
            self._send_cancel(ev, execution)

    def _on_submit_failed(self, ev: ExecutionVertex, execution: Execution,
                          exc: BaseException) -> None:
        self._submitting.discard(execution.attempt_id)
        if ev.current_execution is not execution or execution.state.is_terminal:
            return
        allocation = execution.assigned_slot
        log.info("Job %s: deploying %s (attempt %d) to %s failed while %s: %s", self.job_id,
                 ev.task_name_with_subtask, execution.attempt_number, allocation.resource_id,
                 execution.state.name, exc)
        # May end attempts of a restart (those in the lost worker, this one among them):
        # the restart advances after this mail.
        self._unreachable(allocation, exc)
        if not execution.state.is_terminal:
            self._execution_failed(ev, SerializedError.of(exc), str(allocation.resource_id))

    def _with_producer_addresses(self, gate: ConsumedGate, ev: ExecutionVertex) -> ConsumedGate:
        """The gate with the data address of each producer in another process ("" local)."""
        here = ev.current_execution.assigned_slot
        producers = self.execution_graph.producers_of(gate.result_id)
        addresses = []
        for p in gate.producer_subtasks:
            there = producers[p].current_execution.assigned_slot
            if there is None:
                there = self._slots[self._slot_key(producers[p])]
            local = there.process_id == here.process_id and (
                there.resource_id == here.resource_id)
            addresses.append("" if local else there.data_address)
        return dataclasses.replace(gate, producer_addresses=addresses)

    def _deployment(self, ev: ExecutionVertex,
                    restore: Optional[JobManagerTaskRestore]) -> TaskDeploymentDescriptor:
        jv = self.job_graph.vertices[ev.job_vertex_id]
        return TaskDeploymentDescriptor(
            job_id=self.job_id, job_name=self.job_name, vertex_id=jv.id,
            attempt_id=ev.attempt_id, attempt_number=ev.attempt_number,
            subtask_index=ev.subtask_index, parallelism=jv.parallelism,
            max_parallelism=jv.max_parallelism, task_name=jv.name, is_source=jv.is_source,
            chain_bytes=jv.chain_bytes,
            produced=[dataclasses.replace(p, consumer_max_parallelism=self.execution_graph
                                          .consumer_max_parallelism(p.result_id))
                      for p in ev.produced],
            consumed=[self._with_producer_addresses(gate, ev) for gate in ev.consumed],
            runtime_mode=self.job_graph.runtime_mode,
            buffer_timeout=self.job_graph.buffer_timeout,
            job_parameters=self.job_graph.job_parameters,
            job_configuration=self.configuration.to_dict(),
            task_restore=restore)

    # -- main thread: task states ---------------------------------------------------------------

    def _on_task_state(self, attempt_id: ExecutionAttemptID, state: ExecutionState,
                       error: Optional[SerializedError]) -> None:
        ev = self._current.get(attempt_id)
        if ev is None:
            log.debug("ignoring %s of %s: not a current attempt", state.name, attempt_id)
            return
        execution = ev.current_execution
        try:
            target = next_state(execution.state, state)
        except IllegalExecutionStateTransition as exc:
            message = f"{ev.task_name_with_subtask} (attempt {execution.attempt_number}): {exc}"
            log.error("Job %s: %s", self.job_id, message)
            self._fail_job(ev.task_name_with_subtask, SerializedError(message, message), "")
            return
        if target is None:
            return
        location = execution.assigned_slot
        where = str(location.resource_id) if location else ""
        if target is S.CANCELED and execution.state is not S.CANCELING:
            # Nobody asked: its TaskManager or slot worker is going away (Flink fails it).
            message = (f"{ev.task_name_with_subtask} was cancelled by its TaskManager ({where}) "
                       f"while {execution.state.name}, without the JobMaster asking: "
                       + (self._partner_lost(error) if error is not None else
                          "its TaskManager or slot worker is shutting down or was lost"))
            # The message leads the text the job's exceptions show (REST root-exception):
            # the task's own traceback names only the reporter, not who went away.
            self._execution_failed(ev, SerializedError(
                message, f"{message}\nCaused by: {error.traceback_text}" if error is not None
                else message, error.exception_bytes if error is not None else None), where)
            return
        if target is S.FAILED:
            self._execution_failed(ev, error or SerializedError("unknown failure", ""), where)
            return
        execution.transition_to(target)
        self._progress()

    def _partner_lost(self, error: SerializedError) -> str:
        """The reason a task gave for stopping by itself, with the TaskManager of the partner
        it lost when it names one (that TaskManager is what went away, not the reporter's)."""
        lost = error.to_exception()
        if not isinstance(lost, PartnerLostException):
            return error.message
        graph = self.execution_graph
        result_id = IntermediateDataSetID(lost.result_id)
        try:
            if lost.lost == "producer":
                partner = graph.producers_of(result_id)[lost.producer_subtask]
            else:
                consumer = graph.consumer_vertex_of(result_id)
                partner = graph.job_vertices[consumer].task_vertices[lost.consumer_subtask]
        except (KeyError, IndexError):  # not this job's result: say what the task said
            return error.message
        slot = partner.current_execution.assigned_slot
        where = f"TaskManager ({slot.resource_id})" if slot is not None else "no TaskManager"
        return (f"{error.message}: its {lost.lost} {partner.task_name_with_subtask} ran on "
                f"{where}")

    def _execution_failed(self, ev: ExecutionVertex, error: SerializedError,
                          location: str) -> None:
        """The current attempt of ``ev`` failed: record it and fail over."""
        execution = ev.current_execution
        execution.transition_to(S.FAILED)
        execution.failure = error
        self._exceptions.append(JobFailure(ev.task_name_with_subtask, error, _now_ms(),
                                           location))
        if self._status in (JobStatus.CREATED, JobStatus.RUNNING, JobStatus.RESTARTING) and \
                not any(ev.key in r.keys for r in self._restarts):
            self._handle_failure(self.failover_strategy.tasks_to_restart(ev.key),
                                 ev.task_name_with_subtask, error, location, recorded=True)
        self._progress()

    def _handle_failure(self, keys: FrozenSet[VertexKey], task_name: str,
                        error: SerializedError, location: str, recorded: bool = False) -> None:
        if self._status not in (JobStatus.RUNNING, JobStatus.RESTARTING, JobStatus.CREATED):
            return  # failing or cancelling already: the job ends anyway
        if not recorded:
            self._exceptions.append(JobFailure(task_name, error, _now_ms(), location))
        self.restart_strategy.notify_failure()
        if not self.restart_strategy.can_restart():
            log.info("Job %s: %s does not allow another restart; failing the job",
                     self.job_id, self.restart_strategy)
            self._fail_job(task_name, error, location)
            return
        delay_s = self.restart_strategy.backoff_time_ms() / 1000.0
        # A wider restart absorbs the pending ones it overlaps (e.g. full after region).
        for other in [r for r in self._restarts if r.keys & keys]:
            if other.scheduled is not None:
                other.scheduled.cancel()
            self._restarts.remove(other)
            keys = keys | other.keys
        restart = _PendingRestart(frozenset(keys), delay_s)
        self._restarts.append(restart)
        self._num_restarts += 1
        log.info("Job %s: restarting %d of %d subtasks in %.0f ms (%s)", self.job_id,
                 len(keys), len(self._all_keys), delay_s * 1000, self.restart_strategy)
        self._stop_checkpointing("the job fails over")
        if restart.keys == self._all_keys and self._status is JobStatus.RUNNING:
            self._set_status(JobStatus.RESTARTING)
        self._withdraw_slot_requests(restart.keys)
        for ev in self._vertices(restart.keys):
            self._cancel_execution(ev)
        waiting = self._not_terminal(restart)
        if waiting:  # so that a restart that never goes on says what it waits for
            log.info("Job %s: the restart waits for %d attempt(s) to be terminal: %s",
                     self.job_id, len(waiting), ", ".join(waiting))
            self._warn_while_waiting(restart, RESTART_WAIT_WARNING_S)

    def _warn_while_waiting(self, restart: _PendingRestart, after_s: float) -> None:
        def check() -> None:
            if restart not in self._restarts or restart.attempts_created:
                return
            log.warning("Job %s: the restart has waited %.0f s for: %s", self.job_id,
                        after_s, ", ".join(self._not_terminal(restart)) or "(nothing)")
            self._warn_while_waiting(restart, after_s + RESTART_WAIT_WARNING_S)
        self.main_thread_executor.schedule(RESTART_WAIT_WARNING_S, self._mail(check))

    def _not_terminal(self, restart: _PendingRestart) -> List[str]:
        """The attempts of ``restart`` it still waits for, described for the log."""
        waiting = []
        for ev in self._vertices(restart.keys):
            execution = ev.current_execution
            if execution.state.is_terminal:
                continue
            where = execution.assigned_slot
            waiting.append(
                f"{ev.task_name_with_subtask} (attempt {execution.attempt_number}, "
                f"{execution.state.name}{' at ' + str(where.resource_id) if where else ''}"
                f"{', submit in flight' if execution.attempt_id in self._submitting else ''})")
        return waiting

    def _progress(self) -> None:
        """After any state change: advance restarts, end the job, start checkpointing."""
        self._check_stop()
        self._advance_restarts()
        self._check_termination()
        self._check_all_running()

    def _advance_restarts(self) -> None:
        for restart in list(self._restarts):
            if restart.attempts_created:
                continue
            evs = self._vertices(restart.keys)
            if not all(ev.current_execution.state.is_terminal for ev in evs):
                continue
            restart.attempts_created = True
            log.info("Job %s: every attempt of the restart is terminal; new attempts are "
                     "deployed in %.0f ms", self.job_id, restart.delay_s * 1000)
            releases: Dict[int, Tuple[Any, List[Tuple[str, int]]]] = {}
            for ev in evs:
                old = ev.current_execution
                if old.assigned_slot is not None and ev.produced:
                    gateway = old.assigned_slot.task_executor
                    entry = releases.setdefault(id(gateway), (gateway, []))
                    entry[1].extend((str(p.result_id), ev.subtask_index) for p in ev.produced)
                del self._current[old.attempt_id]
                new = ev.new_attempt()
                self._current[new.attempt_id] = ev
            restart.releases_pending = len(releases)
            for gateway, partitions in releases.values():
                self._call(_release_partitions, gateway, self.job_id, partitions,
                           on_failure=lambda exc, r=restart: self._on_released(r, exc),
                           on_success=lambda r=restart: self._on_released(r, None))
            if not releases:
                self._schedule_restart(restart)

    def _on_released(self, restart: _PendingRestart, exc: Optional[BaseException]) -> None:
        if exc is not None:  # a lost worker holds no partitions any more
            log.info("Job %s: releasing partitions failed: %s", self.job_id, exc)
        restart.releases_pending -= 1
        if restart.releases_pending == 0 and restart in self._restarts:
            self._schedule_restart(restart)

    def _schedule_restart(self, restart: _PendingRestart) -> None:
        restart.scheduled = self.main_thread_executor.schedule(
            restart.delay_s, self._mail(lambda: self._run_restart(restart)))

    def _run_restart(self, restart: _PendingRestart) -> None:
        if restart not in self._restarts:
            return
        self._restarts.remove(restart)
        if self._status is JobStatus.RESTARTING and not self._restarts:
            self._set_status(JobStatus.RUNNING)
        if self._status in (JobStatus.RUNNING, JobStatus.CREATED):  # CREATED: never ran yet
            self._schedule(restart.keys)

    # -- main thread: slots that are gone -----------------------------------------------------

    def _on_allocations_lost(self, lost: List[SlotAllocation], reason: str) -> None:
        ids = {a.allocation_id for a in lost}
        for slot_key, allocation in list(self._slots.items()):
            if allocation.allocation_id in ids:
                del self._slots[slot_key]
        error = SerializedError(reason, reason)
        for ev in self.execution_graph.all_execution_vertices:
            execution = ev.current_execution
            slot = execution.assigned_slot
            if slot is None or slot.allocation_id not in ids or execution.state.is_terminal:
                continue
            if execution.state is S.CANCELING:
                execution.transition_to(S.CANCELED)
            else:
                self._execution_failed(ev, error, str(slot.resource_id))
        self._progress()

    def _unreachable(self, allocation: SlotAllocation, exc: BaseException) -> None:
        """A call into ``allocation``'s slot failed: its worker (and maybe its TaskManager)
        is gone. The attempts in that worker fail and its slots are given back; no slot of
        that TaskManager is handed out until it registers again. The slots of its other
        workers stay held: their attempts run on (or fail by themselves if the whole
        TaskManager is gone), and a slot whose attempt still runs must not be handed out."""
        if not isinstance(exc, RpcError) or isinstance(exc, RpcRefusedError):
            return  # the slot answered (with an error): it is reachable
        self.resource_manager.report_unreachable(allocation.resource_id, str(exc))

        def in_that_worker(a: SlotAllocation) -> bool:
            return a.resource_id == allocation.resource_id and \
                a.process_id == allocation.process_id

        dropped = [a for a in self._slots.values() if in_that_worker(a)]
        self._slots = {k: a for k, a in self._slots.items() if not in_that_worker(a)}
        self.resource_manager.release_allocations(dropped)
        error = SerializedError.of(exc)
        for ev in self.execution_graph.all_execution_vertices:
            execution = ev.current_execution
            slot = execution.assigned_slot
            if slot is None or execution.state.is_terminal or \
                    slot.process_id != allocation.process_id or \
                    slot.resource_id != allocation.resource_id:
                continue
            if execution.state is S.CANCELING:
                execution.transition_to(S.CANCELED)
            else:
                self._execution_failed(ev, error, str(slot.resource_id))

    # -- main thread: cancel, fail, end ---------------------------------------------------------

    def _cancel_execution(self, ev: ExecutionVertex) -> None:
        execution = ev.current_execution
        if execution.state in (S.CREATED, S.SCHEDULED):
            execution.transition_to(S.CANCELED)
            return
        if execution.state.is_terminal or execution.state is S.CANCELING:
            return
        execution.transition_to(S.CANCELING)
        if execution.attempt_id in self._submitting:
            log.debug("Job %s: cancel of %s (attempt %d) waits for its submit call",
                      self.job_id, ev.task_name_with_subtask, execution.attempt_number)
        else:
            self._send_cancel(ev, execution)
        if self.cancellation_timeout_s > 0:
            self.main_thread_executor.schedule(
                self.cancellation_timeout_s,
                self._mail(lambda: self._on_cancellation_timeout(ev, execution)))

    def _send_cancel(self, ev: ExecutionVertex, execution: Execution) -> None:
        self._call(execution.assigned_slot.task_executor.cancel_task, execution.attempt_id,
                   on_failure=lambda exc: self._on_cancel_failed(ev, execution, exc))

    def _on_cancel_failed(self, ev: ExecutionVertex, execution: Execution,
                          exc: BaseException) -> None:
        if ev.current_execution is not execution or execution.state is not S.CANCELING:
            return
        log.warning("cancelling %s failed, taking it as canceled: %s",
                    ev.task_name_with_subtask, exc)
        execution.transition_to(S.CANCELED)
        self._unreachable(execution.assigned_slot, exc)
        self._progress()

    def _on_cancellation_timeout(self, ev: ExecutionVertex, execution: Execution) -> None:
        if ev.current_execution is not execution or execution.state is not S.CANCELING:
            return
        allocation = execution.assigned_slot
        message = (f"Task {ev.task_name_with_subtask} did not react to cancelling within "
                   f"task.cancellation.timeout ({self.cancellation_timeout_s * 1000:.0f} ms); "
                   f"its slot worker is restarted")
        log.error("Job %s: %s", self.job_id, message)
        restart_worker = getattr(allocation.task_executor, "restart_worker", None)
        if restart_worker is not None:  # a slot worker process (in-process: no such thing)
            self._call(restart_worker, message)
        # The slot is not used again: its worker restarts (and registers anew).
        self._slots = {k: a for k, a in self._slots.items()
                       if a.allocation_id != allocation.allocation_id}
        execution.transition_to(S.CANCELED)
        self._progress()

    def _withdraw_slot_requests(self, keys: FrozenSet[VertexKey]) -> None:
        for request, entry in list(self._slot_requests.items()):
            if set(entry.attempts) & keys:
                request.cancel()
                if entry.timeout is not None:
                    entry.timeout.cancel()
                del self._slot_requests[request]

    def _fail_job(self, task_name: str, error: SerializedError, location: str) -> None:
        """Fails the whole job, without restart."""
        if self._status.is_globally_terminal_state() or self._status in (
                JobStatus.FAILING, JobStatus.CANCELLING):
            return
        if self._failure is None:
            recorded = [f for f in self._exceptions if f.error is error]
            self._failure = recorded[-1] if recorded else JobFailure(task_name, error,
                                                                     _now_ms(), location)
        self._set_status(JobStatus.FAILING)
        self._cancel_everything()
        self._progress()

    def _cancel(self) -> None:
        if self._status.is_globally_terminal_state() or self._status is JobStatus.CANCELLING:
            return
        # From FAILING too (as Flink's ExecutionGraph.cancel): the cancels go out again.
        self._set_status(JobStatus.CANCELLING)
        self._cancel_everything()
        self._progress()

    def _cancel_everything(self) -> None:
        self._stop_checkpointing("the job is cancelled or fails")
        for restart in self._restarts:
            if restart.scheduled is not None:
                restart.scheduled.cancel()
        self._restarts.clear()
        self._withdraw_slot_requests(self._all_keys)
        self.collect.close_all()
        for ev in self.execution_graph.all_execution_vertices:
            execution = ev.current_execution
            if execution.state is S.CANCELING:
                # asked before (e.g. while failing): ask again, it may have been lost
                if execution.attempt_id not in self._submitting:
                    self._send_cancel(ev, execution)
            else:
                self._cancel_execution(ev)

    def _check_termination(self) -> None:
        if self._status.is_globally_terminal_state():
            return
        states = [ev.current_execution.state for ev in self.execution_graph.all_execution_vertices]
        if not all(s.is_terminal for s in states) or self._restarts:
            return
        if self._status is JobStatus.FAILING:
            final = JobStatus.FAILED
        elif self._status is JobStatus.CANCELLING:
            final = JobStatus.CANCELED
        elif self._status is JobStatus.RUNNING and all(s is S.FINISHED for s in states):
            final = JobStatus.FINISHED
        else:
            return
        self._finish(final)

    def _finish(self, final: JobStatus) -> None:
        self._set_status(final)
        self._end_time_ms = _now_ms()
        if final is JobStatus.FAILED:
            # one line a user finds in the log, e.g. for a detached job that failed at once
            log.log(self.failure_log_level, "Job %s (%s) FAILED: %s", self.job_name,
                    self.job_id, self._root_cause_line())
        if self.checkpoint_coordinator is not None:
            try:
                self.checkpoint_coordinator.shutdown(final.name)
            except Exception:  # the job's end must not be lost to a coordinator bug
                log.exception("Job %s: the checkpoint coordinator failed to shut down",
                              self.job_id)
        self.collect.close_all(finished=final is JobStatus.FINISHED)
        for gateway in self._used_gateways.values():
            self._call(gateway.release_job_partitions, self.job_id)
        self.resource_manager.release_slots(self.job_id)
        self._view = self._build_view()
        self._check_stop()  # the job's terminal status is visible when the stop completes
        self._terminated.set()
        self._rpc.shutdown(wait=False)
        self.main_thread_executor.shutdown()
        if self.on_terminal is not None:
            self.on_terminal(self)

    def _root_cause_line(self) -> str:
        """The failure that failed the job, on one line (with the failing task)."""
        failure = self._failure
        if failure is None:
            return "unknown cause"
        # a user function's message goes on with the remote traceback: its first line says it
        message = next((line.strip() for line in failure.error.message.splitlines()
                        if line.strip()), "unknown cause")
        where = f" (in {failure.task_name})" if failure.task_name else ""
        return f"{message}{where}"

    # -- checkpointing hooks ------------------------------------------------------------------

    def tasks(self) -> List[CheckpointTask]:
        """The current attempts with their slot's checkpoint gateway (the coordinator's
        TasksProvider; main thread). The gateways do not block: each call runs on the RPC
        pool, and a failure to reach the slot fails over its attempts."""
        return [CheckpointTask(ev.attempt_id, ev.job_vertex_id, ev.subtask_index,
                               self.job_graph.vertices[ev.job_vertex_id].is_source,
                               ev.current_execution.state,
                               AsyncCheckpointGateway(self, ev.current_execution.assigned_slot))
                for ev in self.execution_graph.all_execution_vertices
                if ev.current_execution.assigned_slot is not None]

    def call_slot(self, allocation: SlotAllocation, method: str, *args: Any) -> None:
        """Calls ``method`` of the slot's TaskExecutor gateway from the RPC pool (main thread).
        If the slot cannot be reached, its attempts fail over; other failures are logged
        (e.g. a checkpoint trigger the coordinator's timeout then aborts)."""
        def failed(exc: BaseException) -> None:
            log.warning("Job %s: %s to %s failed: %s", self.job_id, method,
                        allocation.resource_id, exc)
            self._unreachable(allocation, exc)
            self._progress()
        self._call(getattr(allocation.task_executor, method), *args, on_failure=failed)

    def _check_all_running(self) -> None:
        if self.checkpoint_coordinator is None or self._checkpointing or \
                self._status is not JobStatus.RUNNING or self._restarts or self._stop:
            return
        if all(ev.current_execution.state is S.RUNNING
               for ev in self.execution_graph.all_execution_vertices):
            self._checkpointing = True
            self.checkpoint_coordinator.start_checkpoint_scheduler()

    def _on_stop_savepoint(self, stop: _StopWithSavepoint, path: Optional[str],
                           error: Optional[SerializedError]) -> None:
        if error is not None:
            stop.termination.on_savepoint_failed(error.message)
            if self._stop is stop:
                self._stop = None
            if self._checkpointing and self._status is JobStatus.RUNNING:
                self.checkpoint_coordinator.start_checkpoint_scheduler()  # type: ignore[union-attr]
            stop.on_done(None, error)
            return
        stop.termination.on_savepoint_created(path or "")
        self._check_stop()

    def _check_stop(self) -> None:
        """A stop whose savepoint completed ends once all its attempts are terminal."""
        stop = self._stop
        if stop is None or not stop.termination.savepoint_created or \
                not all(e.state.is_terminal for e in stop.executions):
            return
        if all(e.state is S.FINISHED for e in stop.executions) and \
                not self._status.is_globally_terminal_state():
            return  # the job is about to end FINISHED: _finish completes the stop
        self._stop = None
        stop.termination.on_executions_terminated(e.state.name for e in stop.executions)
        outcome = stop.termination.outcome
        assert outcome is not None
        if outcome.path is not None:
            stop.on_done(outcome.path, None)
            return
        message = outcome.failure or ""
        log.warning("Job %s: a savepoint was created, but the job did not end FINISHED: %s",
                    self.job_id, message)
        error = SerializedError(message, message)
        stop.on_done(None, error)
        if outcome.global_failover:
            self._handle_failure(self._all_keys, "(stop-with-savepoint)", error, "")

    def _stop_checkpointing(self, reason: str) -> None:
        if self.checkpoint_coordinator is None:
            return
        if self._checkpointing:
            self._checkpointing = False
            self.checkpoint_coordinator.stop_checkpoint_scheduler()
        self.checkpoint_coordinator.abort_pending_checkpoints(reason)


def _release_partitions(gateway: Any, job_id: str, partitions: List[Tuple[str, int]]) -> None:
    """Releases the partitions ``(result id, producer subtask)`` of ``job_id`` at a slot."""
    gateway.release_partitions(job_id, partitions)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
