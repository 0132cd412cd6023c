"""JobView: an immutable snapshot of a job that the JobMaster's main thread publishes.

REST handlers, the Dispatcher and clients read the latest view from any thread; the main
thread builds a new one after every change and replaces the reference (one atomic store), so
readers never see the live, changing ExecutionGraph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple

from flink_py.common.job_status import JobStatus
from flink_py.graph.ids import ExecutionAttemptID
from flink_py.graph.job_graph import JobVertex
from flink_py.runtime.execution.errors import SerializedError
from flink_py.runtime.execution.execution_state import ExecutionState


class JobFailure:
    """Why a job (or one of its tasks) failed: the failing task, the serialized error, when,
    and where (the TaskManager's resource id, "" if not on one)."""

    def __init__(self, task_name: str, error: SerializedError, timestamp_ms: int,
                 location: str = "") -> None:
        self.task_name = task_name
        self.error = error
        self.timestamp_ms = timestamp_ms
        self.location = location

    def __repr__(self) -> str:
        return f"JobFailure({self.task_name!r}, {self.error.message!r}, {self.timestamp_ms})"


@dataclass(frozen=True)
class SubtaskView:
    """The current attempt of one subtask."""

    subtask_index: int
    attempt_number: int
    attempt_id: ExecutionAttemptID
    state: ExecutionState
    #: ExecutionState name -> when the attempt entered it (ms)
    state_timestamps: Mapping[str, int]
    #: the SlotAllocation it is deployed into, or None
    location: Optional[Any]


@dataclass(frozen=True)
class VertexView:
    """A job vertex and its subtasks' current attempts."""

    job_vertex: JobVertex
    subtasks: Tuple[SubtaskView, ...]


@dataclass(frozen=True)
class WaitingForSlots:
    """A job that has asked for its slots and not got them yet (it stays CREATED)."""

    #: slots the job asked for and does not hold yet
    required_slots: int
    #: when the request fails (slot.request.timeout after the scheduling; wall clock, ms)
    timeout_at_ms: int
    slot_request_timeout_ms: int


@dataclass(frozen=True)
class JobView:
    """Everything the REST API and clients show of a job, as of one moment."""

    status: JobStatus
    status_timestamps: Mapping[str, int]
    start_time_ms: int
    end_time_ms: int
    #: the failure that failed the job (None unless it failed)
    failure: Optional[JobFailure]
    #: every task failure, oldest first, kept across restarts (Flink's exception history)
    exception_history: Tuple[JobFailure, ...]
    vertices: Tuple[VertexView, ...]
    #: how many times the job (or a region of it) was restarted
    num_restarts: int = 0
    #: what the job waits for before it can run (None once it has its slots)
    waiting_for_slots: Optional["WaitingForSlots"] = None

    def task_state_counts(self) -> Dict[str, int]:
        counts = {s.name: 0 for s in ExecutionState}
        for vertex in self.vertices:
            for subtask in vertex.subtasks:
                counts[subtask.state.name] += 1
        return counts

    def subtasks(self) -> Tuple[SubtaskView, ...]:
        return tuple(s for v in self.vertices for s in v.subtasks)
