"""Operator state: list and union-list state of one parallel operator instance.

A ``CheckpointedFunction`` asks its ``OperatorStateStore`` for named list states. In a
snapshot each is a list; on restore with any parallelism, a *list* state's elements are
redistributed round robin over the new subtasks (each element to exactly one), while a
*union* list state gives every subtask all elements of all old subtasks (Flink's
``SPLIT_DISTRIBUTE`` and ``UNION`` modes).
"""

from __future__ import annotations

import pickle
from typing import Any, Dict, List, Optional, Tuple

from flink_py.api.functions import FunctionInitializationContext, FunctionSnapshotContext
from flink_py.api.state import ListState, ListStateDescriptor
from flink_py.api.state import OperatorStateStore as ApiOperatorStateStore
from flink_py.errors import InvalidProgramError
from flink_py.runtime.state.checkpoint_streams import CheckpointedStateScope
from flink_py.runtime.state.handles import (
    BROADCAST, SPLIT_DISTRIBUTE, UNION, OperatorStateHandle, StateRestoreError)

__all__ = ["BROADCAST", "SPLIT_DISTRIBUTE", "UNION", "OperatorStateStore",
           "PartitionableListState", "read_operator_state", "write_operator_state"]

#: a snapshot of one operator instance: name -> (mode, elements)
OperatorStateSnapshot = Dict[str, Tuple[str, List[Any]]]


class PartitionableListState(ListState):
    """A list held for the whole operator instance (not per key)."""

    def __init__(self, name: str, mode: str, elements: Optional[List[Any]] = None) -> None:
        self.name = name
        self.mode = mode
        self.elements: List[Any] = list(elements or [])

    def get(self) -> List[Any]:
        return self.elements

    def add(self, value: Any) -> None:
        if value is None:
            raise ValueError(f"ListState {self.name!r}: null values are not allowed")
        self.elements.append(value)

    def add_all(self, values: List[Any]) -> None:
        for value in values:
            self.add(value)

    def update(self, values: List[Any]) -> None:
        self.elements = []
        self.add_all(list(values or []))

    def clear(self) -> None:
        self.elements = []


class OperatorStateStore(ApiOperatorStateStore):
    """The operator state of one operator instance (``get_list_state``, ...)."""

    def __init__(self, restored: Optional[OperatorStateSnapshot] = None) -> None:
        self._restored = restored or {}
        self._states: Dict[str, PartitionableListState] = {}

    def _state(self, descriptor: Any, mode: str) -> PartitionableListState:
        if not isinstance(descriptor, ListStateDescriptor):
            raise InvalidProgramError(
                f"operator state is list state: expected a ListStateDescriptor, got "
                f"{descriptor!r}")
        state = self._states.get(descriptor.name)
        if state is not None:
            if state.mode != mode:
                raise InvalidProgramError(
                    f"operator state {descriptor.name!r} was registered as "
                    f"{'union ' if state.mode == UNION else ''}list state; it cannot also be "
                    f"{'union ' if mode == UNION else ''}list state")
            return state
        _, elements = self._restored.get(descriptor.name, (mode, []))
        state = self._states[descriptor.name] = PartitionableListState(
            descriptor.name, mode, elements)
        return state

    def get_list_state(self, state_descriptor: Any) -> PartitionableListState:
        return self._state(state_descriptor, SPLIT_DISTRIBUTE)

    def get_union_list_state(self, state_descriptor: Any) -> PartitionableListState:
        return self._state(state_descriptor, UNION)

    def get_broadcast_state(self, state_descriptor: Any) -> Any:
        raise InvalidProgramError(
            "broadcast state comes with a broadcast stream: use DataStream.broadcast("
            "descriptor) and a BroadcastProcessFunction's ctx.get_broadcast_state")

    def snapshot(self) -> OperatorStateSnapshot:
        return {name: (s.mode, list(s.elements)) for name, s in self._states.items()}


def redistribute(snapshots: List[OperatorStateSnapshot], new_parallelism: int
                 ) -> List[OperatorStateSnapshot]:
    """The operator state of each new subtask, from the old subtasks' snapshots."""
    result: List[OperatorStateSnapshot] = [{} for _ in range(new_parallelism)]
    names = sorted({name for snapshot in snapshots for name in snapshot})
    for name in names:
        modes = {snapshot[name][0] for snapshot in snapshots if name in snapshot}
        if len(modes) != 1:
            raise InvalidProgramError(f"operator state {name!r} has mixed modes {modes}")
        mode = modes.pop()
        elements = [e for snapshot in snapshots if name in snapshot for e in snapshot[name][1]]
        for index in range(new_parallelism):
            if mode == UNION:
                result[index][name] = (mode, list(elements))
            else:
                result[index][name] = (mode, elements[index::new_parallelism])
    return result


class StateInitializationContext(FunctionInitializationContext):
    """Flink's ``StateInitializationContextImpl``: restored exactly when the task restores
    from a checkpoint (``restored_checkpoint_id`` given), whether or not this subtask got any
    of its state."""

    def __init__(self, operator_state_store: OperatorStateStore, keyed_state_store: Any,
                 restored_checkpoint_id: Optional[int]) -> None:
        self._operator_state_store = operator_state_store
        self._keyed_state_store = keyed_state_store
        self._restored_checkpoint_id = restored_checkpoint_id

    def is_restored(self) -> bool:
        return self._restored_checkpoint_id is not None

    def get_restored_checkpoint_id(self) -> Optional[int]:
        return self._restored_checkpoint_id

    def get_operator_state_store(self) -> OperatorStateStore:
        return self._operator_state_store

    def get_keyed_state_store(self) -> Any:
        return self._keyed_state_store


class StateSnapshotContext(FunctionSnapshotContext):
    def __init__(self, checkpoint_id: int, timestamp: int) -> None:
        self._checkpoint_id = checkpoint_id
        self._timestamp = timestamp

    def get_checkpoint_id(self) -> int:
        return self._checkpoint_id

    def get_checkpoint_timestamp(self) -> int:
        return self._timestamp


def write_operator_state(snapshot: OperatorStateSnapshot, factory: Any
                         ) -> Optional[OperatorStateHandle]:
    """Writes an operator-state snapshot (name -> (mode, elements)) into one stream, each
    element pickled on its own so that a rescaled restore deals elements out by offset;
    None when there are no states."""
    if not snapshot:
        return None
    stream = factory.create_checkpoint_state_output_stream(CheckpointedStateScope.EXCLUSIVE)
    offsets: Dict[str, Tuple[str, List[Tuple[int, int]]]] = {}
    for name in sorted(snapshot):
        mode, elements = snapshot[name]
        positions: List[Tuple[int, int]] = []
        for element in elements:
            data = pickle.dumps(element, protocol=5)
            positions.append((stream.tell(), len(data)))
            stream.write(data)
        offsets[name] = (mode, positions)
    return OperatorStateHandle(offsets, stream.close_and_get_handle())


def read_operator_state(handles: List[OperatorStateHandle]) -> OperatorStateSnapshot:
    """The operator state in ``handles`` (this subtask's share after assignment): the
    elements of a name from several handles are concatenated, in handle order.

    :raises StateRestoreError: if a name has different modes in different handles.
    """
    result: OperatorStateSnapshot = {}
    for handle in handles:
        data = handle.delegate.read_bytes()
        for name, (mode, positions) in handle.state_name_to_partition_offsets.items():
            elements = [pickle.loads(data[start:start + length]) for start, length in positions]
            if name in result:
                known_mode, known = result[name]
                if known_mode != mode:
                    raise StateRestoreError(
                        f"operator state {name!r} is {known_mode} in one handle and {mode} in "
                        f"another")
                if mode != BROADCAST:  # broadcast state is the same in every handle
                    known.extend(elements)
            else:
                result[name] = (mode, elements)
    return result
