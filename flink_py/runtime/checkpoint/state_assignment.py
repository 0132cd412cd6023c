"""Which subtask of a restoring job gets which part of a checkpoint's state (Flink's
StateAssignmentOperation).

Keyed state goes by key group: new subtask ``i`` of an operator gets the handles that
intersect its key-group range. Operator list state (SPLIT_DISTRIBUTE) is dealt out over the
new subtasks, union list state (UNION) goes whole to every subtask, broadcast state
(BROADCAST) is given to every subtask. State of an operator the job no longer has fails the
restore unless ``allow_non_restored_state``.

Only the subtasks of a vertex that has state in the checkpoint get a restore (Flink's
``TaskStateAssignment#hasNonFinishedState``): every one of them, even a subtask that gets no
state after a rescale, so that ``is_restored()`` is true there; a vertex without any state
starts as on a fresh start.

Before any state moves, the parallelism preconditions (Flink's
``StateAssignmentOperation#checkParallelismPreconditions``, see :func:`adopt_max_parallelism`):
the new parallelism must not exceed the max parallelism the state was written with, and a
vertex whose max parallelism was not set explicitly adopts the checkpoint's (its key groups
are the checkpoint's); an explicitly set, different max parallelism fails the restore.

At the same parallelism a subtask gets back exactly what it wrote (union list state still
goes whole to every subtask, as in Flink). At another parallelism:

- keyed handles are clipped to the new subtask's key-group range (each key group to exactly
  one new subtask);
- the elements of a SPLIT_DISTRIBUTE list state, in old-subtask order, are dealt round robin:
  element ``j`` to new subtask ``j % new_parallelism``;
- new subtask ``i`` gets the BROADCAST state of old subtask ``i % old_parallelism`` (all
  copies are equal);
- in-flight channel state of an unaligned checkpoint (Flink's channel-state rescaling with
  its ``SubtaskStateMapper`` per partitioner), per handle, by the exchange's ship strategy:

  * input of a keyed exchange (``HASH``) goes to every new subtask whose key-group range
    overlaps the old subtask's (only those key groups can be in it); the task filters the
    records by key group on restore;
  * input of a ``BROADCAST`` exchange: new subtask ``i`` gets old subtask
    ``i % old_parallelism``'s (the copy its broadcast state came from);
  * input of ``REBALANCE``, ``RESCALE`` and ``SHUFFLE`` exchanges is dealt round robin;
    ``GLOBAL`` goes to subtask 0;
  * output (result-subpartition state) of old subtask ``j`` goes to new subtask
    ``j % new_parallelism``, which routes it again (see runtime/tasks/channel_state.py);
  * ``FORWARD`` (and ``CUSTOM``, whose placement we cannot know) cannot be rescaled: an error,
    as in Flink, which requires the same parallelism on both sides of a forward exchange.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Dict, List, Tuple

from flink_py.common.key_groups import KeyGroupRange
from flink_py.errors import FlinkPyError
from flink_py.graph.ids import JobVertexID, OperatorID
from flink_py.runtime.checkpoint.metadata import CheckpointMetadata, OperatorState
from flink_py.runtime.state.handles import (
    BROADCAST, SPLIT_DISTRIBUTE, UNION, InputChannelStateHandle, JobManagerTaskRestore,
    KeyedStateHandle, OperatorStateHandle, OperatorSubtaskState, ResultSubpartitionStateHandle,
    StreamStateHandle, TaskStateSnapshot)

log = logging.getLogger(__name__)


class StateAssignmentError(FlinkPyError):
    """A checkpoint's state cannot be mapped onto the job (unmatched or incompatible)."""


@dataclass(frozen=True)
class RestoredVertex:
    """What the assignment needs of a job vertex: its operators (head first), parallelism,
    max parallelism and whether the user set the latter (``max_parallelism_configured``:
    ``set_max_parallelism`` on the environment or the operator, ``pipeline.max-parallelism``),
    which decides whether a restore may change it."""

    vertex_id: JobVertexID
    operator_ids: Tuple[OperatorID, ...]
    parallelism: int
    max_parallelism: int
    max_parallelism_configured: bool = False
    name: str = ""

    def __str__(self) -> str:
        return f"{self.name} ({self.vertex_id})" if self.name else str(self.vertex_id)


def _vertex_has_state(by_operator: Dict[OperatorID, OperatorState],
                      vertex: RestoredVertex) -> bool:
    return any(by_operator[op].has_state() for op in vertex.operator_ids if op in by_operator)


def adopt_max_parallelism(checkpoint: CheckpointMetadata, vertices: List[RestoredVertex]
                          ) -> List[RestoredVertex]:
    """The vertices with the max parallelism they restore with (Flink's
    ``checkParallelismPreconditions``), for every vertex that has state in ``checkpoint``.

    A vertex whose max parallelism was derived (not configured) takes the checkpoint's, so
    that a job checkpointed at ``-p 2`` (max 128) restores at ``-p 100`` (whose default
    max would be 256) with 128 key groups; a configured one must equal it.

    :raises StateAssignmentError: the new parallelism exceeds the checkpoint's max
        parallelism, or a configured max parallelism differs from the checkpoint's (both
        with Flink's message).
    """
    by_operator = {state.operator_id: state for state in checkpoint.operator_states}
    adopted: List[RestoredVertex] = []
    for vertex in vertices:
        if not _vertex_has_state(by_operator, vertex):
            adopted.append(vertex)
            continue
        max_parallelism = vertex.max_parallelism
        rescaled_from = None
        for operator_id in vertex.operator_ids:
            state = by_operator.get(operator_id)
            if state is None:
                continue
            if state.max_parallelism < vertex.parallelism:
                raise StateAssignmentError(
                    f"The state for task {vertex.vertex_id} can not be restored. The maximum "
                    f"parallelism ({state.max_parallelism}) of the restored state is lower "
                    f"than the configured parallelism ({vertex.parallelism}). Please reduce "
                    f"the parallelism of the task to be lower or equal to the maximum "
                    f"parallelism.")
            if state.max_parallelism == max_parallelism:
                continue
            # Unlike Flink, which lets the last operator state win, a second operator of the
            # chain that disagrees with the one adopted is an error: its key groups would not
            # match the vertex's.
            if vertex.max_parallelism_configured or rescaled_from is not None:
                raise StateAssignmentError(
                    f"The maximum parallelism ({state.max_parallelism}) with which the latest "
                    f"checkpoint of the execution job vertex {vertex} has been taken and the "
                    f"current maximum parallelism ({max_parallelism}) changed. This is "
                    f"currently not supported.")
            rescaled_from, max_parallelism = max_parallelism, state.max_parallelism
        if rescaled_from is not None:
            log.info("Rescaling maximum parallelism for JobVertex %s from %d to %d (the "
                     "checkpoint's).", vertex, rescaled_from, max_parallelism)
            vertex = dataclasses.replace(vertex, max_parallelism=max_parallelism)
        adopted.append(vertex)
    return adopted


def _keyed_share(state: OperatorState, key_group_range: KeyGroupRange
                 ) -> List[KeyedStateHandle]:
    """The keyed handles of every old subtask, clipped to ``key_group_range``."""
    share: List[KeyedStateHandle] = []
    for subtask in sorted(state.subtask_states):
        for handle in state.subtask_states[subtask].managed_keyed_state:
            part = handle.intersection(key_group_range)
            if part is not None:
                share.append(part)
    return share


def _operator_shares(state: OperatorState, new_parallelism: int
                     ) -> List[List[OperatorStateHandle]]:
    """Each new subtask's operator-state handles (see the module docstring)."""
    old = [state.subtask_states[s].managed_operator_state if s in state.subtask_states else []
           for s in range(state.parallelism)]
    same = state.parallelism == new_parallelism
    # per new subtask, per delegate (by identity, in first-seen order): name -> (mode, offsets)
    shares: List[Dict[int, Tuple[StreamStateHandle, Dict[str, tuple]]]] = [
        {} for _ in range(new_parallelism)]

    def give(target: int, delegate: StreamStateHandle, name: str, mode: str,
             offsets: List[Tuple[int, int]]) -> None:
        entry = shares[target].get(id(delegate))
        if entry is None:
            entry = shares[target][id(delegate)] = (delegate, {})
        known = entry[1].get(name)
        if known is None:
            entry[1][name] = (mode, list(offsets))
        else:
            known[1].extend(offsets)

    split_index: Dict[str, int] = {}
    for old_index, handles in enumerate(old):
        for handle in handles:
            for name, (mode, offsets) in handle.state_name_to_partition_offsets.items():
                if mode == UNION:
                    for target in range(new_parallelism):
                        give(target, handle.delegate, name, mode, offsets)
                elif mode == BROADCAST:
                    for target in range(new_parallelism):
                        if target % state.parallelism == old_index:
                            give(target, handle.delegate, name, mode, offsets)
                elif mode == SPLIT_DISTRIBUTE and not same:
                    for offset in offsets:
                        position = split_index.get(name, 0)
                        split_index[name] = position + 1
                        give(position % new_parallelism, handle.delegate, name, mode, [offset])
                elif mode == SPLIT_DISTRIBUTE:
                    give(old_index, handle.delegate, name, mode, offsets)
                else:
                    raise StateAssignmentError(
                        f"operator state {name!r} of operator {state.operator_id} has unknown "
                        f"mode {mode!r}; expected {SPLIT_DISTRIBUTE}, {UNION} or {BROADCAST}")
    return [[OperatorStateHandle(names, delegate) for delegate, names in share.values()]
            for share in shares]


#: the exchanges whose in-flight input is dealt round robin at another parallelism
_ROUND_ROBIN = ("REBALANCE", "RESCALE", "SHUFFLE")


def _cannot_rescale(state: OperatorState, vertex: "RestoredVertex", what: str,
                    ship_strategy: str) -> StateAssignmentError:
    return StateAssignmentError(
        f"operator {state.operator_id} has in-flight data of an unaligned checkpoint in "
        f"{what} of a {ship_strategy or 'unknown'} exchange; it cannot be restored at another "
        f"parallelism ({state.parallelism} -> {vertex.parallelism}): a "
        f"{ship_strategy or 'unknown'} exchange needs the same parallelism (restore from an "
        f"aligned checkpoint or a savepoint instead)")


def _channel_shares(state: OperatorState, vertex: "RestoredVertex"
                    ) -> Tuple[List[List[InputChannelStateHandle]],
                               List[List[ResultSubpartitionStateHandle]]]:
    """Each new subtask's in-flight input and output at another parallelism (see the module
    docstring)."""
    old_parallelism, new_parallelism = state.parallelism, vertex.parallelism
    inputs: List[List[InputChannelStateHandle]] = [[] for _ in range(new_parallelism)]
    outputs: List[List[ResultSubpartitionStateHandle]] = [[] for _ in range(new_parallelism)]
    new_ranges = [KeyGroupRange.of_operator(vertex.max_parallelism, new_parallelism, i)
                  for i in range(new_parallelism)]
    dealt = 0
    for old_index in sorted(state.subtask_states):
        old = state.subtask_states[old_index]
        old_range = KeyGroupRange.of_operator(state.max_parallelism, old_parallelism,
                                              old_index)
        for handle in old.input_channel_state:
            strategy = handle.ship_strategy
            if strategy == "HASH":
                targets = [i for i, new_range in enumerate(new_ranges)
                           if new_range.get_intersection(old_range).get_number_of_key_groups()]
            elif strategy == "BROADCAST":
                targets = [i for i in range(new_parallelism) if i % old_parallelism == old_index]
            elif strategy in _ROUND_ROBIN:
                targets, dealt = [dealt % new_parallelism], dealt + 1
            elif strategy == "GLOBAL":
                targets = [0]
            else:
                raise _cannot_rescale(state, vertex, "the input", strategy)
            for target in targets:
                inputs[target].append(handle)
        for output in old.result_subpartition_state:
            if output.ship_strategy in ("FORWARD", "CUSTOM", ""):
                raise _cannot_rescale(state, vertex, "the output", output.ship_strategy)
            outputs[old_index % new_parallelism].append(output)
    return inputs, outputs


def _subtask_states(state: OperatorState, vertex: "RestoredVertex"
                    ) -> Dict[int, OperatorSubtaskState]:
    """The state of every new subtask of ``vertex`` for one operator's checkpointed state
    (``vertex`` has the checkpoint's max parallelism: see :func:`adopt_max_parallelism`)."""
    same = state.parallelism == vertex.parallelism
    if not same:
        input_shares, output_shares = _channel_shares(state, vertex)
    operator_shares = _operator_shares(state, vertex.parallelism)
    result: Dict[int, OperatorSubtaskState] = {}
    for subtask in range(vertex.parallelism):
        if same:
            old = state.subtask_states.get(subtask, OperatorSubtaskState())
            keyed = list(old.managed_keyed_state)
            channels, subpartitions = (list(old.input_channel_state),
                                       list(old.result_subpartition_state))
        else:
            keyed = _keyed_share(state, KeyGroupRange.of_operator(
                vertex.max_parallelism, vertex.parallelism, subtask))
            channels, subpartitions = input_shares[subtask], output_shares[subtask]
        share = OperatorSubtaskState(keyed, operator_shares[subtask], channels, subpartitions)
        if share.has_state():
            result[subtask] = share
    return result


def assign_states(checkpoint: CheckpointMetadata, vertices: List[RestoredVertex],
                  allow_non_restored_state: bool = False, checkpoint_path: str = ""
                  ) -> Dict[Tuple[JobVertexID, int], JobManagerTaskRestore]:
    """The restore of every subtask ``(vertex_id, subtask_index)`` of the vertices that have
    state in ``checkpoint`` (see the module docstring), for ``vertices`` after
    :func:`adopt_max_parallelism` (which the caller must deploy the tasks with).

    :raises StateAssignmentError: for state of an operator that is not in ``vertices``
        (unless ``allow_non_restored_state``), a max parallelism that does not match the
        checkpoint's, or in-flight channel state of a forward (or custom) exchange at another
        parallelism.
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
    vertices = adopt_max_parallelism(checkpoint, vertices)
    restores: Dict[Tuple[JobVertexID, int], JobManagerTaskRestore] = {}
    for vertex in vertices:
        if not _vertex_has_state(by_operator, vertex):
            continue
        per_operator = {operator_id: _subtask_states(by_operator[operator_id], vertex)
                        for operator_id in vertex.operator_ids if operator_id in by_operator}
        for subtask in range(vertex.parallelism):
            snapshot: Dict[OperatorID, OperatorSubtaskState] = {
                operator_id: states[subtask] for operator_id, states in per_operator.items()
                if subtask in states}
            restores[(vertex.vertex_id, subtask)] = JobManagerTaskRestore(
                checkpoint.checkpoint_id, TaskStateSnapshot(snapshot))
    return restores
