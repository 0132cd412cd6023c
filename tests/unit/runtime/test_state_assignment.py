"""State assignment on restore: unmatched state, and parallelism changes."""

from __future__ import annotations

import pytest

from flink_py.common.key_groups import KeyGroupRange
from flink_py.graph.ids import JobVertexID, OperatorID
from flink_py.runtime.checkpoint.metadata import CheckpointMetadata, OperatorState
from flink_py.runtime.checkpoint.state_assignment import (
    RestoredVertex, StateAssignmentError, assign_states)
from flink_py.runtime.state.handles import (
    ByteStreamStateHandle, InputChannelStateHandle, KeyGroupsStateHandle,
    OperatorSubtaskState)

OP = OperatorID("1" * 32)


def _keyed(parallelism: int) -> OperatorState:
    states = {}
    for subtask in range(parallelism):
        key_groups = KeyGroupRange.of_operator(128, parallelism, subtask)
        offsets = {g: (g, 1) for g in range(key_groups.get_start_key_group(),
                                            key_groups.get_end_key_group() + 1)}
        handle = KeyGroupsStateHandle(key_groups, offsets,
                                      ByteStreamStateHandle(f"s{subtask}", bytes(128)))
        states[subtask] = OperatorSubtaskState(managed_keyed_state=[handle])
    return OperatorState(OP, parallelism, 128, states)


@pytest.mark.parametrize("old,new", [(1, 3), (3, 2), (2, 2), (4, 1)])
def test_every_key_group_goes_to_exactly_the_subtask_that_owns_it(old: int, new: int) -> None:
    vertex = RestoredVertex(JobVertexID(), (OP,), new, 128)
    restores = assign_states(CheckpointMetadata(7, [_keyed(old)]), [vertex])
    seen = []
    for subtask in range(new):
        state = restores[(vertex.vertex_id, subtask)].task_state_snapshot \
            .get_subtask_state_by_operator_id(OP)
        own = KeyGroupRange.of_operator(128, new, subtask)
        groups = [g for h in state.managed_keyed_state for g in h.offsets]
        assert all(g in own for g in groups)
        seen.extend(groups)
    assert sorted(seen) == list(range(128))


def test_state_of_an_operator_the_job_no_longer_has_fails_with_flinks_message() -> None:
    vertex = RestoredVertex(JobVertexID(), (OperatorID("2" * 32),), 1, 128)
    with pytest.raises(StateAssignmentError, match="Cannot map checkpoint/savepoint state for "
                       "operator 1{32} to the new program"):
        assign_states(CheckpointMetadata(7, [_keyed(1)]), [vertex], checkpoint_path="/chk-7")
    assert assign_states(CheckpointMetadata(7, [_keyed(1)]), [vertex],
                         allow_non_restored_state=True)


def test_a_changed_max_parallelism_or_rescaled_channel_state_is_refused() -> None:
    with pytest.raises(StateAssignmentError, match="max parallelism 128 and restores with 256"):
        assign_states(CheckpointMetadata(7, [_keyed(2)]),
                      [RestoredVertex(JobVertexID(), (OP,), 2, 256)])
    state = _keyed(1)
    state.subtask_states[0].input_channel_state.append(
        InputChannelStateHandle(0, 0, ByteStreamStateHandle("c", b"x")))
    with pytest.raises(StateAssignmentError, match="in-flight data of an unaligned checkpoint"):
        assign_states(CheckpointMetadata(7, [state]),
                      [RestoredVertex(JobVertexID(), (OP,), 2, 128)])
