"""Which subtask of a restoring job gets which part of a checkpoint's state (Flink's
StateAssignmentOperation).

Keyed state goes by key group: new subtask ``i`` of an operator gets the handles that
intersect its key-group range. Operator list state (SPLIT_DISTRIBUTE) is dealt out over the
new subtasks, union list state (UNION) goes whole to every subtask, broadcast state
(BROADCAST) is given to every subtask. State of an operator the job no longer has fails the
restore unless ``allow_non_restored_state``.

NOTE: this first version covers restores at the same parallelism only; rescaling follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Tuple

from flink_py.errors import FlinkPyError
from flink_py.graph.ids import JobVertexID, OperatorID
from flink_py.runtime.checkpoint.metadata import CheckpointMetadata
from flink_py.runtime.state.handles import (
    JobManagerTaskRestore, OperatorSubtaskState, TaskStateSnapshot)


class StateAssignmentError(FlinkPyError):
    """A checkpoint's state cannot be mapped onto the job (unmatched or incompatible)."""


@dataclass(frozen=True)
class RestoredVertex:
    """What the assignment needs of a job vertex: its operators (head first), parallelism."""

    vertex_id: JobVertexID
    operator_ids: Tuple[OperatorID, ...]
    parallelism: int
    max_parallelism: int


def assign_states(checkpoint: CheckpointMetadata, vertices: List[RestoredVertex],
                  allow_non_restored_state: bool = False, checkpoint_path: str = ""
                  ) -> Dict[Tuple[JobVertexID, int], JobManagerTaskRestore]:
    """The restore of every subtask ``(vertex_id, subtask_index)`` that has state.

    :raises StateAssignmentError: for state of an operator that is not in ``vertices``
        (unless ``allow_non_restored_state``), or a parallelism change (not yet supported).
    """
    known = {op for v in vertices for op in v.operator_ids}
    for state in checkpoint.operator_states:
        if state.operator_id not in known and state.has_state() and \
                not allow_non_restored_state:
            raise StateAssignmentError(
                f"Failed to rollback to checkpoint/savepoint {checkpoint_path}. Cannot map "
                f"checkpoint/savepoint state for operator {state.operator_id} to the new "
                f"program, because the operator is not available in the new program. If you "
                f"want to allow to skip this, you can set the --allowNonRestoredState option "
                f"on the CLI.")
    by_operator = {state.operator_id: state for state in checkpoint.operator_states}
    restores: Dict[Tuple[JobVertexID, int], JobManagerTaskRestore] = {}
    for vertex in vertices:
        for subtask in range(vertex.parallelism):
            snapshot: Dict[OperatorID, OperatorSubtaskState] = {}
            for operator_id in vertex.operator_ids:
                state = by_operator.get(operator_id)
                if state is None:
                    continue
                if state.parallelism != vertex.parallelism:
                    raise StateAssignmentError(
                        f"operator {operator_id} was checkpointed at parallelism "
                        f"{state.parallelism} and restores at {vertex.parallelism}: "
                        f"rescaling is not supported yet")
                if subtask in state.subtask_states:
                    snapshot[operator_id] = state.subtask_states[subtask]
            restores[(vertex.vertex_id, subtask)] = JobManagerTaskRestore(
                checkpoint.checkpoint_id, TaskStateSnapshot(snapshot))
    return restores
