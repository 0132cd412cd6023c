"""Checkpoint statistics (Flink's CheckpointStatsTracker and CheckpointStatsSnapshot).

The tracker is written on the coordinator's main thread. After every change it publishes a
new immutable :class:`CheckpointStatsSnapshot` (one attribute replaced, which readers see
whole), so the REST handlers read it from their own threads without locks.

>>> tracker = CheckpointStatsTracker()
>>> tracker.report_pending(1, 1000, CHECKPOINT, {"v": 2})
>>> tracker.report_subtask_ack(1, "v", 0, 1010, 100)
>>> tracker.report_subtask_ack(1, "v", 1, 1020, 50)
>>> tracker.report_completed(1, 1030, None)
>>> snapshot = tracker.snapshot
>>> snapshot.counts.completed, snapshot.latest_completed.state_size
(1, 150)
>>> snapshot.latest_completed.end_to_end_duration
30
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Deque, Dict, List, Mapping, Optional, Tuple

from flink_py.runtime.checkpoint.gateways import CheckpointMetrics

#: Flink's web.checkpoints.history default: how many checkpoints the history shows
DEFAULT_HISTORY_SIZE = 10
#: how many completed checkpoints the min/max/avg/percentile summary is computed over
SUMMARY_WINDOW = 1000

#: Flink's RestAPICheckpointType values
CHECKPOINT = "CHECKPOINT"
UNALIGNED_CHECKPOINT = "UNALIGNED_CHECKPOINT"
SAVEPOINT = "SAVEPOINT"
#: a stop-with-savepoint's savepoint (Flink's RestAPICheckpointType.SYNC_SAVEPOINT)
SYNC_SAVEPOINT = "SYNC_SAVEPOINT"


class CheckpointStatsStatus(enum.Enum):
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class SubtaskStateStats:
    """One subtask's acknowledgement of a checkpoint."""

    subtask_index: int
    ack_timestamp: int
    state_size: int
    sync_duration_ms: int = 0
    async_duration_ms: int = 0
    alignment_duration_ms: int = 0
    persisted_data: int = 0
    unaligned: bool = False


@dataclass(frozen=True)
class TaskStateStats:
    """The acknowledgements of one job vertex's subtasks."""

    vertex_id: str
    num_subtasks: int
    subtasks: Mapping[int, SubtaskStateStats] = field(default_factory=dict)

    @property
    def num_acknowledged_subtasks(self) -> int:
        return len(self.subtasks)

    @property
    def latest_ack_timestamp(self) -> int:
        return max((s.ack_timestamp for s in self.subtasks.values()), default=-1)

    @property
    def state_size(self) -> int:
        return sum(s.state_size for s in self.subtasks.values())

    @property
    def persisted_data(self) -> int:
        return sum(s.persisted_data for s in self.subtasks.values())


@dataclass(frozen=True)
class CheckpointStats:
    """One checkpoint or savepoint: in progress, completed or failed."""

    checkpoint_id: int
    status: CheckpointStatsStatus
    checkpoint_type: str
    trigger_timestamp: int
    tasks: Mapping[str, TaskStateStats]
    completion_timestamp: int = -1
    external_path: Optional[str] = None
    failure_timestamp: int = -1
    failure_message: Optional[str] = None
    discarded: bool = False

    @property
    def is_savepoint(self) -> bool:
        return self.checkpoint_type in (SAVEPOINT, SYNC_SAVEPOINT)

    @property
    def num_subtasks(self) -> int:
        return sum(t.num_subtasks for t in self.tasks.values())

    @property
    def num_acknowledged_subtasks(self) -> int:
        return sum(t.num_acknowledged_subtasks for t in self.tasks.values())

    @property
    def latest_ack_timestamp(self) -> int:
        return max((t.latest_ack_timestamp for t in self.tasks.values()), default=-1)

    @property
    def state_size(self) -> int:
        return sum(t.state_size for t in self.tasks.values())

    @property
    def persisted_data(self) -> int:
        return sum(t.persisted_data for t in self.tasks.values())

    @property
    def end_to_end_duration(self) -> int:
        """Trigger to completion (or failure, or the latest acknowledgement so far)."""
        end = {CheckpointStatsStatus.COMPLETED: self.completion_timestamp,
               CheckpointStatsStatus.FAILED: self.failure_timestamp}.get(
            self.status, self.latest_ack_timestamp)
        return max(0, end - self.trigger_timestamp) if end >= 0 else 0


@dataclass(frozen=True)
class RestoredCheckpointStats:
    checkpoint_id: int
    restore_timestamp: int
    is_savepoint: bool
    external_path: Optional[str]


@dataclass(frozen=True)
class CheckpointStatsCounts:
    restored: int = 0
    total: int = 0
    in_progress: int = 0
    completed: int = 0
    failed: int = 0


@dataclass(frozen=True)
class StatsSummary:
    """min/max/avg and percentiles of a series (Flink's StatsSummaryDto)."""

    values: Tuple[int, ...] = ()

    @property
    def min(self) -> int:
        return min(self.values, default=0)

    @property
    def max(self) -> int:
        return max(self.values, default=0)

    @property
    def avg(self) -> int:
        return sum(self.values) // len(self.values) if self.values else 0

    def quantile(self, q: float) -> float:
        """Nearest-rank quantile; 0.0 for an empty series."""
        if not self.values:
            return 0.0
        ordered = sorted(self.values)
        index = min(len(ordered) - 1, max(0, int(round(q * len(ordered) + 0.5)) - 1))
        return float(ordered[index])


@dataclass(frozen=True)
class CheckpointStatsSnapshot:
    """What REST shows, as of one moment."""

    counts: CheckpointStatsCounts = CheckpointStatsCounts()
    #: newest first, at most the history size
    history: Tuple[CheckpointStats, ...] = ()
    latest_completed: Optional[CheckpointStats] = None
    latest_savepoint: Optional[CheckpointStats] = None
    latest_failed: Optional[CheckpointStats] = None
    latest_restored: Optional[RestoredCheckpointStats] = None
    state_size_summary: StatsSummary = StatsSummary()
    duration_summary: StatsSummary = StatsSummary()
    persisted_data_summary: StatsSummary = StatsSummary()

    def get_checkpoint(self, checkpoint_id: int) -> Optional[CheckpointStats]:
        for stats in self.history:
            if stats.checkpoint_id == checkpoint_id:
                return stats
        for stats in (self.latest_completed, self.latest_savepoint, self.latest_failed):
            if stats is not None and stats.checkpoint_id == checkpoint_id:
                return stats
        return None


class CheckpointStatsTracker:
    """Collects statistics on the main thread; ``snapshot`` is safe to read anywhere."""

    def __init__(self, history_size: int = DEFAULT_HISTORY_SIZE) -> None:
        self._history_size = history_size
        self._by_id: Dict[int, CheckpointStats] = {}
        self._order: Deque[int] = deque()
        self._counts = CheckpointStatsCounts()
        self._latest_completed: Optional[CheckpointStats] = None
        self._latest_savepoint: Optional[CheckpointStats] = None
        self._latest_failed: Optional[CheckpointStats] = None
        self._latest_restored: Optional[RestoredCheckpointStats] = None
        self._state_sizes: Deque[int] = deque(maxlen=SUMMARY_WINDOW)
        self._durations: Deque[int] = deque(maxlen=SUMMARY_WINDOW)
        self._persisted: Deque[int] = deque(maxlen=SUMMARY_WINDOW)
        #: replaced whole after every change
        self.snapshot = CheckpointStatsSnapshot()

    def report_pending(self, checkpoint_id: int, trigger_timestamp: int,
                       checkpoint_type: str, parallelism_by_vertex: Mapping[str, int]) -> None:
        stats = CheckpointStats(
            checkpoint_id, CheckpointStatsStatus.IN_PROGRESS, checkpoint_type,
            trigger_timestamp,
            {vertex: TaskStateStats(vertex, n) for vertex, n in parallelism_by_vertex.items()})
        self._by_id[checkpoint_id] = stats
        self._order.append(checkpoint_id)
        while len(self._order) > self._history_size:
            self._by_id.pop(self._order.popleft(), None)
        self._counts = replace(self._counts, total=self._counts.total + 1,
                               in_progress=self._counts.in_progress + 1)
        self._publish()

    def report_subtask_ack(self, checkpoint_id: int, vertex_id: str, subtask_index: int,
                           ack_timestamp: int, state_size: int,
                           metrics: Optional[CheckpointMetrics] = None) -> None:
        stats = self._by_id.get(checkpoint_id)
        if stats is None or stats.status is not CheckpointStatsStatus.IN_PROGRESS:
            return
        task = stats.tasks.get(vertex_id) or TaskStateStats(vertex_id, subtask_index + 1)
        metrics = metrics or CheckpointMetrics()
        subtask = SubtaskStateStats(
            subtask_index, ack_timestamp, state_size, metrics.sync_duration_ms,
            metrics.async_duration_ms, metrics.alignment_duration_ms,
            metrics.bytes_persisted, metrics.unaligned)
        task = replace(task, subtasks={**task.subtasks, subtask_index: subtask})
        self._by_id[checkpoint_id] = replace(stats, tasks={**stats.tasks, vertex_id: task})
        self._publish()

    def report_completed(self, checkpoint_id: int, completion_timestamp: int,
                         external_path: Optional[str]) -> None:
        stats = self._by_id.get(checkpoint_id)
        if stats is None or stats.status is not CheckpointStatsStatus.IN_PROGRESS:
            return
        stats = replace(stats, status=CheckpointStatsStatus.COMPLETED,
                        completion_timestamp=completion_timestamp, external_path=external_path)
        self._by_id[checkpoint_id] = stats
        self._counts = replace(self._counts, in_progress=self._counts.in_progress - 1,
                               completed=self._counts.completed + 1)
        if stats.is_savepoint:
            self._latest_savepoint = stats
        else:
            self._latest_completed = stats
        self._state_sizes.append(stats.state_size)
        self._durations.append(stats.end_to_end_duration)
        self._persisted.append(stats.persisted_data)
        self._publish()

    def report_failed(self, checkpoint_id: int, failure_timestamp: int, message: str) -> None:
        stats = self._by_id.get(checkpoint_id)
        if stats is None or stats.status is not CheckpointStatsStatus.IN_PROGRESS:
            return
        stats = replace(stats, status=CheckpointStatsStatus.FAILED,
                        failure_timestamp=failure_timestamp, failure_message=message)
        self._by_id[checkpoint_id] = stats
        self._counts = replace(self._counts, in_progress=self._counts.in_progress - 1,
                               failed=self._counts.failed + 1)
        self._latest_failed = stats
        self._publish()

    def report_discarded(self, checkpoint_id: int) -> None:
        """A retained checkpoint was subsumed and deleted."""
        stats = self._by_id.get(checkpoint_id)
        if stats is not None and stats.status is CheckpointStatsStatus.COMPLETED:
            self._by_id[checkpoint_id] = replace(stats, discarded=True)
            if self._latest_completed is not None and \
                    self._latest_completed.checkpoint_id == checkpoint_id:
                self._latest_completed = self._by_id[checkpoint_id]
            self._publish()

    def report_restored(self, checkpoint_id: int, restore_timestamp: int, is_savepoint: bool,
                        external_path: Optional[str]) -> None:
        self._latest_restored = RestoredCheckpointStats(checkpoint_id, restore_timestamp,
                                                        is_savepoint, external_path)
        self._counts = replace(self._counts, restored=self._counts.restored + 1)
        self._publish()

    def _publish(self) -> None:
        history: List[CheckpointStats] = [self._by_id[i] for i in reversed(self._order)
                                          if i in self._by_id]
        self.snapshot = CheckpointStatsSnapshot(
            self._counts, tuple(history), self._latest_completed, self._latest_savepoint,
            self._latest_failed, self._latest_restored, StatsSummary(tuple(self._state_sizes)),
            StatsSummary(tuple(self._durations)), StatsSummary(tuple(self._persisted)))
