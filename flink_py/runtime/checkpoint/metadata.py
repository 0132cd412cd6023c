"""What a completed checkpoint or savepoint holds (Flink's CheckpointMetadata and
OperatorState): per operator, its parallelism and each subtask's snapshot handles.

This is what ``_metadata`` stores (storage.py writes and reads it) and what the state
assignment (state_assignment.py) redistributes when a job restores, possibly at another
parallelism.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List

from flink_py.graph.ids import OperatorID
from flink_py.runtime.state.handles import OperatorSubtaskState


@dataclass
class OperatorState:
    """The state of one operator across its subtasks, as one checkpoint holds it."""

    operator_id: OperatorID
    parallelism: int
    max_parallelism: int
    subtask_states: Dict[int, OperatorSubtaskState] = field(default_factory=dict)

    @property
    def state_size(self) -> int:
        return sum(s.state_size for s in self.subtask_states.values())

    def has_state(self) -> bool:
        return any(s.has_state() for s in self.subtask_states.values())


@dataclass
class CheckpointMetadata:
    """A completed checkpoint: its id and the state of every operator of the job.

    ``is_savepoint`` marks savepoints (canonical state format, restorable into either backend).
    """

    checkpoint_id: int
    operator_states: List[OperatorState]
    is_savepoint: bool = False
    timestamp: int = 0
