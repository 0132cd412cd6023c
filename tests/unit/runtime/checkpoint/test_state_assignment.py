"""State assignment on restore: unmatched state, parallelism and max parallelism changes,
in-flight data of unaligned checkpoints."""

from __future__ import annotations

import dataclasses
from typing import List

import pytest

from flink_py.common.key_groups import KeyGroupRange
from flink_py.graph.ids import JobVertexID, OperatorID
from flink_py.runtime.checkpoint.metadata import CheckpointMetadata, OperatorState
from flink_py.runtime.checkpoint.state_assignment import (
    RestoredVertex, StateAssignmentError, adopt_max_parallelism, assign_states)
from flink_py.runtime.state.handles import (
    SPLIT_DISTRIBUTE, ByteStreamStateHandle, InputChannelStateHandle, KeyGroupsStateHandle,
    OperatorStateHandle, OperatorSubtaskState, ResultSubpartitionStateHandle)

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
    # skipped: the new vertex has no state, so no restore (a fresh start for it)
    assert assign_states(CheckpointMetadata(7, [_keyed(1)]), [vertex],
                         allow_non_restored_state=True) == {}


# -- max parallelism (Flink's checkParallelismPreconditions) -----------------------------------


def test_a_derived_max_parallelism_adopts_the_checkpoints() -> None:
    # restored at -p 100, whose default max parallelism would be 256
    vertex = RestoredVertex(JobVertexID(), (OP,), 100, 256, max_parallelism_configured=False)
    checkpoint = CheckpointMetadata(7, [_keyed(2)])
    (adopted,) = adopt_max_parallelism(checkpoint, [vertex])
    assert adopted.max_parallelism == 128
    assert adopted.parallelism == 100 and adopted.vertex_id == vertex.vertex_id
    restores = assign_states(checkpoint, [vertex])
    groups = []
    for subtask in range(100):
        share = restores[(vertex.vertex_id, subtask)].task_state_snapshot \
            .get_subtask_state_by_operator_id(OP)
        mine = [g for h in (share.managed_keyed_state if share else []) for g in h.offsets]
        assert all(g in KeyGroupRange.of_operator(128, 100, subtask) for g in mine)
        groups += mine
    assert sorted(groups) == list(range(128))


def test_a_configured_max_parallelism_that_differs_fails_with_flinks_message() -> None:
    vertex = RestoredVertex(JobVertexID(), (OP,), 2, 256, max_parallelism_configured=True,
                            name="Keyed Count")
    message = (r"The maximum parallelism \(128\) with which the latest checkpoint of the "
               r"execution job vertex Keyed Count \(\w{32}\) has been taken and the current "
               r"maximum parallelism \(256\) changed\. This is currently not supported\.")
    for call in (adopt_max_parallelism, assign_states):
        with pytest.raises(StateAssignmentError, match=message):
            call(CheckpointMetadata(7, [_keyed(2)]), [vertex])
    configured_same = dataclasses.replace(vertex, max_parallelism=128)
    assert adopt_max_parallelism(CheckpointMetadata(7, [_keyed(2)]),
                                 [configured_same]) == [configured_same]


def test_a_parallelism_above_the_checkpoints_max_parallelism_fails_with_flinks_message() -> None:
    vertex = RestoredVertex(JobVertexID(), (OP,), 200, 512)
    state = _keyed(2)
    state.max_parallelism = 100
    with pytest.raises(StateAssignmentError, match=(
            rf"The state for task {vertex.vertex_id} can not be restored\. The maximum "
            r"parallelism \(100\) of the restored state is lower than the configured "
            r"parallelism \(200\)\. Please reduce the parallelism of the task to be lower or "
            r"equal to the maximum parallelism\.")):
        adopt_max_parallelism(CheckpointMetadata(7, [state]), [vertex])


def test_a_vertex_without_state_keeps_its_max_parallelism_and_gets_no_restore() -> None:
    stateless = OperatorState(OperatorID("3" * 32), 2, 128)
    vertex = RestoredVertex(JobVertexID(), (stateless.operator_id,), 300, 512)
    checkpoint = CheckpointMetadata(7, [stateless])
    assert adopt_max_parallelism(checkpoint, [vertex]) == [vertex]
    assert assign_states(checkpoint, [vertex]) == {}


def test_every_subtask_of_a_vertex_with_state_gets_a_restore_even_without_a_share() -> None:
    """is_restored() is true in all of them (Flink's restoredCheckpointId is present)."""
    vertex = RestoredVertex(JobVertexID(), (OP,), 3, 128)
    state = OperatorState(OP, 1, 128, {0: OperatorSubtaskState(managed_operator_state=[
        OperatorStateHandle({"positions": (SPLIT_DISTRIBUTE, [(0, 1)])},
                            ByteStreamStateHandle("op", b"x"))])})
    restores = assign_states(CheckpointMetadata(9, [state]), [vertex])
    assert sorted(subtask for _, subtask in restores) == [0, 1, 2]
    assert {r.restore_checkpoint_id for r in restores.values()} == {9}
    shares = [restores[(vertex.vertex_id, i)].task_state_snapshot
              .get_subtask_state_by_operator_id(OP) for i in range(3)]
    assert shares[0] is not None and shares[1] is None and shares[2] is None


# -- in-flight data of unaligned checkpoints ----------------------------------------------------


def _with_channel_state(parallelism: int, ship_strategy: str, output: bool = False
                        ) -> OperatorState:
    """Every old subtask has two in-flight input channels (or output subpartitions), named
    ``<subtask>/<channel>`` in their bytes."""
    state = _keyed(parallelism)
    for subtask, sub_state in state.subtask_states.items():
        for channel in range(2):
            delegate = ByteStreamStateHandle(f"{subtask}/{channel}", b"x")
            if output:
                sub_state.result_subpartition_state.append(ResultSubpartitionStateHandle(
                    0, channel, delegate, 2, ship_strategy))
            else:
                sub_state.input_channel_state.append(InputChannelStateHandle(
                    0, channel, delegate, ship_strategy))
    return state


def _channel_names(old: int, new: int, ship_strategy: str, output: bool = False
                   ) -> List[List[str]]:
    vertex = RestoredVertex(JobVertexID(), (OP,), new, 128)
    restores = assign_states(
        CheckpointMetadata(7, [_with_channel_state(old, ship_strategy, output)]), [vertex])
    names = []
    for subtask in range(new):
        state = restores[(vertex.vertex_id, subtask)].task_state_snapshot \
            .get_subtask_state_by_operator_id(OP)
        handles = state.result_subpartition_state if output else state.input_channel_state
        names.append([h.delegate.handle_name for h in handles])
    return names


def test_keyed_in_flight_input_goes_to_every_new_subtask_whose_key_groups_overlap() -> None:
    # old ranges 0-63 and 64-127; new ranges 0-42, 43-85 and 86-127: the middle one overlaps
    # both old subtasks (its task filters the records by key group on restore)
    assert _channel_names(2, 3, "HASH") == [["0/0", "0/1"], ["0/0", "0/1", "1/0", "1/1"],
                                            ["1/0", "1/1"]]
    assert _channel_names(3, 1, "HASH") == [["0/0", "0/1", "1/0", "1/1", "2/0", "2/1"]]
    assert _channel_names(2, 2, "HASH") == [["0/0", "0/1"], ["1/0", "1/1"]]


def test_non_keyed_in_flight_input_is_dealt_round_robin_and_broadcast_input_copied() -> None:
    assert _channel_names(2, 3, "REBALANCE") == [["0/0", "1/1"], ["0/1"], ["1/0"]]
    assert _channel_names(3, 1, "SHUFFLE") == [["0/0", "0/1", "1/0", "1/1", "2/0", "2/1"]]
    assert _channel_names(2, 3, "BROADCAST") == [["0/0", "0/1"], ["1/0", "1/1"],
                                                 ["0/0", "0/1"]]
    assert _channel_names(3, 2, "GLOBAL") == [["0/0", "0/1", "1/0", "1/1", "2/0", "2/1"], []]


def test_in_flight_output_goes_to_the_new_subtask_of_the_old_index() -> None:
    assert _channel_names(3, 2, "HASH", output=True) == [["0/0", "0/1", "2/0", "2/1"],
                                                        ["1/0", "1/1"]]
    assert _channel_names(1, 2, "REBALANCE", output=True) == [["0/0", "0/1"], []]


@pytest.mark.parametrize("ship_strategy, output", [
    ("FORWARD", False), ("FORWARD", True), ("CUSTOM", False), ("", False)])
def test_in_flight_data_of_a_forward_exchange_cannot_be_rescaled(ship_strategy: str,
                                                                output: bool) -> None:
    with pytest.raises(StateAssignmentError,
                       match=f"in-flight data of an unaligned checkpoint in the "
                             f"{'output' if output else 'input'} of a "
                             f"{ship_strategy or 'unknown'} exchange.*\\(1 -> 2\\)"):
        _channel_names(1, 2, ship_strategy, output)
    assert _channel_names(2, 2, ship_strategy, output) == [["0/0", "0/1"], ["1/0", "1/1"]]
