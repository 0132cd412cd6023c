"""JobMaster: runs one job: ExecutionGraph, slots, deployment, task states, cancel.

All job state is changed on the JobMaster's own thread: public methods only queue mails for
it (Flink's main-thread model), so there are no locks around the ExecutionGraph.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from typing import Callable, Dict, List, Optional

from flink_py.common.job_status import JobStatus
from flink_py.errors import FlinkPyError
from flink_py.graph.execution_graph import ConsumedGate, ExecutionGraph, ExecutionVertex
from flink_py.graph.ids import ExecutionAttemptID
from flink_py.graph.job_graph import JobGraph
from flink_py.runtime.jobmaster.collect import CollectCoordinator
from flink_py.runtime.resourcemanager.resource_manager import (
    ResourceManager, SlotAllocation, SlotRequestWithdrawnError)
from flink_py.runtime.tasks.deployment import TaskDeploymentDescriptor
from flink_py.runtime.execution.errors import SerializedError
from flink_py.runtime.execution.execution_state import ExecutionState

log = logging.getLogger(__name__)


class JobFailure:
    """Why a job failed: the failing task, the serialized error, when."""

    def __init__(self, task_name: str, error: SerializedError, timestamp_ms: int,
                 location: str = "") -> None:
        self.task_name = task_name
        self.error = error
        self.timestamp_ms = timestamp_ms
        self.location = location


class _OperatorEventGateway:
    """What tasks of a job use to reach its JobMaster's operator coordinators."""

    def __init__(self, collect: CollectCoordinator) -> None:
        self._collect = collect

    def send_collect_batch(self, collect_id: str, values: list) -> None:
        self._collect.buffer(collect_id).put(values)

    def send_collect_end(self, collect_id: str) -> None:
        self._collect.buffer(collect_id).end()


class JobMaster:
    """Schedules and supervises one job."""

    def __init__(self, job_graph: JobGraph, resource_manager: ResourceManager,
                 slot_request_timeout_s: float = 300.0, records_per_buffer: int = 1024,
                 on_terminal: Optional[Callable[["JobMaster"], None]] = None) -> None:
        self.job_graph = job_graph
        self.job_id = str(job_graph.job_id)
        self.job_name = job_graph.job_name
        self.resource_manager = resource_manager
        self.slot_request_timeout_s = slot_request_timeout_s
        self.records_per_buffer = records_per_buffer
        self.on_terminal = on_terminal
        self.execution_graph = ExecutionGraph(job_graph)
        self.status = JobStatus.CREATED
        self.status_timestamps: Dict[str, int] = {JobStatus.CREATED.name: _now_ms()}
        self.start_time_ms = _now_ms()
        self.end_time_ms = -1
        self.failure: Optional[JobFailure] = None
        self.task_states: Dict[ExecutionAttemptID, ExecutionState] = {
            ev.attempt_id: ExecutionState.CREATED
            for ev in self.execution_graph.all_execution_vertices}
        #: per attempt, when it entered each ExecutionState (ms), for the REST API's vertex
        #: and subtask times
        self.task_state_timestamps: Dict[ExecutionAttemptID, Dict[str, int]] = {
            attempt_id: {ExecutionState.CREATED.name: self.start_time_ms}
            for attempt_id in self.task_states}
        self.task_locations: Dict[ExecutionAttemptID, SlotAllocation] = {}
        self.collect = CollectCoordinator()
        self._event_gateway = _OperatorEventGateway(self.collect)
        self._mailbox: "queue.Queue[Optional[Callable[[], None]]]" = queue.Queue()
        self._terminated = threading.Event()
        self._awaiting_slots = False
        self._thread = threading.Thread(target=self._main_loop, daemon=True,
                                        name=f"JobMaster {self.job_id}")

    # -- gateway (any thread) -----------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()
        self._mailbox.put(self._schedule)

    def update_task_execution_state(self, attempt_id: ExecutionAttemptID,
                                    state: ExecutionState,
                                    error: Optional[SerializedError] = None) -> None:
        self._mailbox.put(lambda: self._on_task_state(attempt_id, state, error))

    def cancel(self) -> None:
        self._mailbox.put(self._cancel)
        if self._awaiting_slots:  # the main thread waits for slots: end that wait
            self.resource_manager.withdraw_slot_request(self.job_id)

    def fail(self, reason: str, location: str = "") -> None:
        """Fails the job from outside (e.g. a TaskManager was lost)."""
        error = SerializedError(reason, reason)
        self._mailbox.put(lambda: self._fail_job("(job)", error, location))

    def operator_event_gateway(self, job_id: str) -> _OperatorEventGateway:
        return self._event_gateway

    def wait_for_termination(self, timeout_s: Optional[float] = None) -> bool:
        return self._terminated.wait(timeout_s)

    @property
    def is_terminal(self) -> bool:
        return self._terminated.is_set()

    # -- main thread ------------------------------------------------------------------------

    def _main_loop(self) -> None:
        while True:
            mail = self._mailbox.get()
            if mail is None:
                return
            try:
                mail()
            except Exception as exc:  # a bug in the JobMaster fails the job, never hangs it
                log.exception("JobMaster %s mail failed", self.job_id)
                self._fail_job("(JobMaster)", SerializedError.of(exc), "")

    def _set_status(self, status: JobStatus) -> None:
        log.info("Job %s (%s) switched from %s to %s", self.job_name, self.job_id,
                 self.status.name, status.name)
        self.status = status
        self.status_timestamps[status.name] = _now_ms()

    def _schedule(self) -> None:
        if self.status is not JobStatus.CREATED:
            return
        self._set_status(JobStatus.RUNNING)
        self._awaiting_slots = True
        try:
            slots = self.resource_manager.request_slots(
                self.job_id, self.job_graph.slots_needed(), self.slot_request_timeout_s)
        except SlotRequestWithdrawnError:
            return  # cancelled: the queued cancel mail ends the job
        except Exception as exc:
            self._fail_job("(scheduling)", SerializedError.of(exc), "")
            return
        finally:
            self._awaiting_slots = False
        if self.status is not JobStatus.RUNNING:  # cancelled while waiting for slots
            return
        slot_of = self._assign_slots(slots)
        # Every location first: a consumer's deployment names where its producers run.
        for ejv in self.execution_graph.job_vertices.values():
            for ev in ejv.task_vertices:
                allocation = slot_of[(ejv.job_vertex.slot_sharing_group, ev.subtask_index)]
                self.task_locations[ev.attempt_id] = allocation
        for ejv in self.execution_graph.job_vertices.values():
            for ev in ejv.task_vertices:
                if self.status is not JobStatus.RUNNING:
                    return  # a deployment failed and the job is failing
                allocation = self.task_locations[ev.attempt_id]
                self._set_task_state(ev.attempt_id, ExecutionState.DEPLOYING)
                try:
                    allocation.task_executor.submit_task(self._deployment(ev), self)
                except FlinkPyError as exc:  # e.g. the slot's worker is unreachable
                    self.task_states[ev.attempt_id] = ExecutionState.FAILED
                    self._fail_job(ev.task_name_with_subtask, SerializedError.of(exc),
                                   str(allocation.resource_id))

    def _with_producer_addresses(self, gate: ConsumedGate, ev: ExecutionVertex) -> ConsumedGate:
        """The gate with the data address of each producer in another process ("" local)."""
        here = self.task_locations[ev.attempt_id]
        producers = self.execution_graph.producers_of(gate.result_id)
        addresses = []
        for p in gate.producer_subtasks:
            there = self.task_locations[producers[p].attempt_id]
            local = there.process_id == here.process_id and (
                there.resource_id == here.resource_id)
            addresses.append("" if local else there.data_address)
        return dataclasses.replace(gate, producer_addresses=addresses)

    def _assign_slots(self, slots: List[SlotAllocation]) -> Dict[tuple, SlotAllocation]:
        """Slot sharing: subtask i of every vertex in a group shares the group's slot i."""
        slot_of: Dict[tuple, SlotAllocation] = {}
        groups: Dict[str, int] = {}
        for v in self.job_graph.vertices.values():
            groups[v.slot_sharing_group] = max(groups.get(v.slot_sharing_group, 0),
                                               v.parallelism)
        next_slot = 0
        for group, parallelism in groups.items():
            for i in range(parallelism):
                slot_of[(group, i)] = slots[next_slot]
                next_slot += 1
        return slot_of

    def _deployment(self, ev: ExecutionVertex) -> TaskDeploymentDescriptor:
        jv = self.job_graph.vertices[ev.job_vertex_id]
        return TaskDeploymentDescriptor(
            job_id=self.job_id, job_name=self.job_name, vertex_id=jv.id,
            attempt_id=ev.attempt_id, attempt_number=ev.attempt_number,
            subtask_index=ev.subtask_index, parallelism=jv.parallelism,
            max_parallelism=jv.max_parallelism, task_name=jv.name, is_source=jv.is_source,
            chain_bytes=jv.chain_bytes, produced=ev.produced,
            consumed=[self._with_producer_addresses(gate, ev) for gate in ev.consumed],
            runtime_mode=self.job_graph.runtime_mode,
            buffer_timeout=self.job_graph.buffer_timeout,
            records_per_buffer=self.records_per_buffer,
            job_parameters=self.job_graph.job_parameters)

    def _on_task_state(self, attempt_id: ExecutionAttemptID, state: ExecutionState,
                       error: Optional[SerializedError]) -> None:
        if attempt_id not in self.task_states or self.task_states[attempt_id].is_terminal:
            return
        self._set_task_state(attempt_id, state)
        if state is ExecutionState.FAILED and self.failure is None:
            ev = self.execution_graph.find(attempt_id)
            location = self.task_locations.get(attempt_id)
            self._fail_job(ev.task_name_with_subtask,
                           error or SerializedError("unknown failure", ""),
                           str(location.resource_id) if location else "")
        self._check_termination()

    def _fail_job(self, task_name: str, error: SerializedError, location: str) -> None:
        if self.status.is_globally_terminal_state() or self.status is JobStatus.FAILING:
            return
        if self.failure is None:
            self.failure = JobFailure(task_name, error, _now_ms(), location)
        self._set_status(JobStatus.FAILING)
        self._cancel_all_tasks()
        self._check_termination()

    def _cancel(self) -> None:
        if self.status.is_globally_terminal_state() or self.status in (
                JobStatus.CANCELLING, JobStatus.FAILING):
            return
        self._set_status(JobStatus.CANCELLING)
        self._cancel_all_tasks()
        self._check_termination()

    def _cancel_all_tasks(self) -> None:
        self.collect.close_all()
        for attempt_id, state in self.task_states.items():
            if state.is_terminal:
                continue
            location = self.task_locations.get(attempt_id)
            if location is None:
                self._set_task_state(attempt_id, ExecutionState.CANCELED)
            else:
                self._set_task_state(attempt_id, ExecutionState.CANCELING)
                try:
                    location.task_executor.cancel_task(attempt_id)
                except FlinkPyError as exc:  # its worker is gone: so is the task
                    log.warning("cancelling %s failed, taking it as canceled: %s",
                                attempt_id, exc)
                    self.task_states[attempt_id] = ExecutionState.CANCELED

    def _set_task_state(self, attempt_id: ExecutionAttemptID, state: ExecutionState) -> None:
        self.task_states[attempt_id] = state
        # Replaced, not mutated: REST threads read these dicts.
        self.task_state_timestamps[attempt_id] = {
            **self.task_state_timestamps.get(attempt_id, {}), state.name: _now_ms()}

    def _check_termination(self) -> None:
        if not all(s.is_terminal for s in self.task_states.values()):
            return
        if self.status is JobStatus.FAILING:
            final = JobStatus.FAILED
        elif self.status is JobStatus.CANCELLING:
            final = JobStatus.CANCELED
        elif all(s is ExecutionState.FINISHED for s in self.task_states.values()):
            final = JobStatus.FINISHED
        else:
            return
        self._set_status(final)
        self.end_time_ms = _now_ms()
        self.collect.close_all()
        for location in {id(a.task_executor): a for a in self.task_locations.values()}.values():
            try:
                location.task_executor.release_job_partitions(self.job_id)
            except FlinkPyError as exc:  # a lost worker holds no partitions any more
                log.warning("releasing the partitions of job %s failed: %s", self.job_id, exc)
        self.resource_manager.release_slots(self.job_id)
        self._terminated.set()
        self._mailbox.put(None)
        if self.on_terminal is not None:
            self.on_terminal(self)

    # -- views (read from any thread; values are replaced, never mutated in place) ---------

    def task_state_counts(self) -> Dict[str, int]:
        counts = {s.name: 0 for s in ExecutionState}
        for state in list(self.task_states.values()):
            counts[state.name] += 1
        return counts


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
