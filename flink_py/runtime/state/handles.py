"""State handles: where a snapshot's bytes are, and what a task acknowledges and restores.

A task's acknowledgement of a checkpoint carries a ``TaskStateSnapshot``: per operator of its
chain (by ``OperatorID``) an ``OperatorSubtaskState``, made of handles. A handle is small and
picklable: it travels to the JobMaster in the acknowledgement, is written into the
checkpoint's ``_metadata``, and comes back to a task in its deployment
(``JobManagerTaskRestore``) when the job restores. The bytes a handle points at are inline
(``ByteStreamStateHandle``: checkpoint storage ``jobmanager``, or small state) or in a file
(``FileStateHandle``: checkpoint storage ``filesystem``).

Keyed state is written per key group (``KeyGroupsStateHandle``: one stream, an offset per key
group) so that a restore at another parallelism reads only the key groups of its new range.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Protocol, Tuple, Union, runtime_checkable

from flink_py.common.key_groups import KeyGroupRange
from flink_py.errors import FlinkPyError
from flink_py.graph.ids import OperatorID


class StateRestoreError(FlinkPyError):
    """A snapshot's bytes cannot be read (a missing or corrupt file), naming where."""


@runtime_checkable
class StreamStateHandle(Protocol):
    """Bytes written by a checkpoint stream."""

    def read_bytes(self) -> bytes:
        """All the bytes; :raises StateRestoreError: naming the file if it cannot be read."""
        ...

    def read_range(self, offset: int, length: int) -> bytes:
        ...

    @property
    def state_size(self) -> int:
        ...

    def discard_state(self) -> None:
        """Deletes what the handle points at (a no-op for inline bytes)."""
        ...


@dataclass(frozen=True)
class ByteStreamStateHandle:
    """Inline bytes (Flink's ByteStreamStateHandle)."""

    handle_name: str
    data: bytes

    def read_bytes(self) -> bytes:
        return self.data

    def read_range(self, offset: int, length: int) -> bytes:
        return self.data[offset:offset + length]

    @property
    def state_size(self) -> int:
        return len(self.data)

    def discard_state(self) -> None:
        pass


@dataclass(frozen=True)
class FileStateHandle:
    """A file of a checkpoint directory (Flink's FileStateHandle)."""

    path: str
    size: int

    def read_bytes(self) -> bytes:
        try:
            with open(self.path, "rb") as f:
                return f.read()
        except OSError as exc:
            raise StateRestoreError(
                f"cannot read checkpoint state file {self.path!r}: {exc.strerror or exc}"
            ) from exc

    def read_range(self, offset: int, length: int) -> bytes:
        try:
            with open(self.path, "rb") as f:
                f.seek(offset)
                data = f.read(length)
        except OSError as exc:
            raise StateRestoreError(
                f"cannot read checkpoint state file {self.path!r}: {exc.strerror or exc}"
            ) from exc
        if len(data) != length:
            raise StateRestoreError(
                f"checkpoint state file {self.path!r} is truncated: wanted {length} bytes at "
                f"offset {offset}, found {len(data)}")
        return data

    @property
    def state_size(self) -> int:
        return self.size

    def discard_state(self) -> None:
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass


@dataclass(frozen=True)
class KeyGroupsStateHandle:
    """Keyed state of a key-group range in one stream: ``offsets[g]`` = (start, length) of key
    group ``g``'s bytes in ``delegate`` (key groups without state are absent).

    The bytes of a key group are the backend's canonical key-group format (see
    ``runtime/state/`` snapshot code), readable by every backend: savepoints and the
    heap backend's checkpoints use this handle.
    """

    key_group_range: KeyGroupRange
    offsets: Dict[int, Tuple[int, int]]
    delegate: StreamStateHandle

    def key_group_bytes(self, key_group: int) -> Optional[bytes]:
        where = self.offsets.get(key_group)
        if where is None:
            return None
        return self.delegate.read_range(where[0], where[1])

    def intersection(self, other: KeyGroupRange) -> Optional["KeyGroupsStateHandle"]:
        """The part of this handle in ``other`` (None if they share no key group)."""
        start = max(self.key_group_range.get_start_key_group(), other.get_start_key_group())
        end = min(self.key_group_range.get_end_key_group(), other.get_end_key_group())
        if start > end:
            return None
        return KeyGroupsStateHandle(
            KeyGroupRange.of(start, end),
            {g: o for g, o in self.offsets.items() if start <= g <= end}, self.delegate)

    @property
    def state_size(self) -> int:
        return self.delegate.state_size

    def discard_state(self) -> None:
        self.delegate.discard_state()


@dataclass(frozen=True)
class IncrementalKeyedStateHandle:
    """An incremental RocksDB snapshot: SST files shared with earlier checkpoints (by file
    name, in the checkpoint's ``shared/`` directory) and the files private to this one.

    ``shared_files``/``private_files`` map a file name in the RocksDB instance's checkpoint
    directory to its handle; ``metadata`` is the backend's own description of its column
    families (state names, kinds, serializers).
    """

    key_group_range: KeyGroupRange
    checkpoint_id: int
    backend_identifier: str
    shared_files: Dict[str, StreamStateHandle]
    private_files: Dict[str, StreamStateHandle]
    metadata: StreamStateHandle

    def intersection(self, other: KeyGroupRange) -> Optional["IncrementalKeyedStateHandle"]:
        start = max(self.key_group_range.get_start_key_group(), other.get_start_key_group())
        end = min(self.key_group_range.get_end_key_group(), other.get_end_key_group())
        return None if start > end else self  # the restorer clips to its own range

    @property
    def state_size(self) -> int:
        return (sum(h.state_size for h in self.shared_files.values())
                + sum(h.state_size for h in self.private_files.values())
                + self.metadata.state_size)

    def discard_state(self) -> None:
        """Discards the private part; shared files are the SharedStateRegistry's to drop."""
        for handle in self.private_files.values():
            handle.discard_state()
        self.metadata.discard_state()


KeyedStateHandle = Union[KeyGroupsStateHandle, IncrementalKeyedStateHandle]

#: how a named operator list state is redistributed on restore (Flink's
#: OperatorStateHandle.Mode)
SPLIT_DISTRIBUTE = "SPLIT_DISTRIBUTE"
UNION = "UNION"
BROADCAST = "BROADCAST"


@dataclass(frozen=True)
class OperatorStateHandle:
    """Operator (non-keyed) state of one subtask: per state name its redistribution mode and
    the offsets of its elements in ``delegate`` (each element pickled on its own, so that a
    restore at another parallelism can deal elements out without reading them)."""

    state_name_to_partition_offsets: Dict[str, Tuple[str, List[Tuple[int, int]]]]
    delegate: StreamStateHandle

    @property
    def state_size(self) -> int:
        return self.delegate.state_size

    def discard_state(self) -> None:
        self.delegate.discard_state()


@dataclass(frozen=True)
class InputChannelStateHandle:
    """In-flight buffers of one input channel, taken by an unaligned checkpoint.

    ``delegate`` holds the pickled list of ``(values, timestamps)`` buffers, oldest first;
    ``ship_strategy`` is the partitioner of the channel's exchange (``HASH``, ``REBALANCE``,
    ``BROADCAST``, ``FORWARD``, ...): it says how the state may be rescaled;
    ``first_key_group`` the first key group of the subtask that wrote it (a rescaled keyed
    exchange into an operator without a key selector is kept by the one new subtask owning
    that key group, as its records cannot be filtered by key).
    """

    input_index: int
    channel_index: int
    delegate: StreamStateHandle
    ship_strategy: str = ""
    first_key_group: int = -1


@dataclass(frozen=True)
class ResultSubpartitionStateHandle:
    """In-flight output buffers of one subpartition, taken by an unaligned checkpoint: the
    buffers its barrier overtook (same format as :class:`InputChannelStateHandle`).

    ``partition_index`` is the task's result partition (its order in the deployment),
    ``num_subpartitions`` how many subpartitions that partition had, ``ship_strategy`` its
    partitioner: together they say whether the buffers go back to the same subpartition on
    restore or are routed again.
    """

    partition_index: int
    subpartition_index: int
    delegate: StreamStateHandle
    num_subpartitions: int = 0
    ship_strategy: str = ""


@dataclass
class OperatorSubtaskState:
    """The snapshot of one operator in one subtask (Flink's OperatorSubtaskState)."""

    managed_keyed_state: List[KeyedStateHandle] = field(default_factory=list)
    managed_operator_state: List[OperatorStateHandle] = field(default_factory=list)
    input_channel_state: List[InputChannelStateHandle] = field(default_factory=list)
    result_subpartition_state: List[ResultSubpartitionStateHandle] = field(
        default_factory=list)

    @property
    def state_size(self) -> int:
        handles = [*self.managed_keyed_state, *self.managed_operator_state]
        return (sum(h.state_size for h in handles)
                + sum(h.delegate.state_size for h in self.input_channel_state)
                + sum(h.delegate.state_size for h in self.result_subpartition_state))

    def has_state(self) -> bool:
        return bool(self.managed_keyed_state or self.managed_operator_state
                    or self.input_channel_state or self.result_subpartition_state)

    def discard_state(self) -> None:
        for handle in [*self.managed_keyed_state, *self.managed_operator_state]:
            handle.discard_state()
        for channel in [*self.input_channel_state, *self.result_subpartition_state]:
            channel.delegate.discard_state()


@dataclass
class TaskStateSnapshot:
    """What a task acknowledges: the snapshot of each operator of its chain."""

    subtask_state_by_operator: Dict[OperatorID, OperatorSubtaskState] = field(
        default_factory=dict)

    @property
    def state_size(self) -> int:
        return sum(s.state_size for s in self.subtask_state_by_operator.values())

    def get_subtask_state_by_operator_id(
            self, operator_id: OperatorID) -> Optional[OperatorSubtaskState]:
        return self.subtask_state_by_operator.get(operator_id)


@dataclass
class JobManagerTaskRestore:
    """In a deployment: the checkpoint a restarted subtask restores from, and its share."""

    restore_checkpoint_id: int
    task_state_snapshot: TaskStateSnapshot
    #: whether the job owns the restored checkpoint's files (its own latest checkpoint);
    #: False for the checkpoint or savepoint it was started from (Flink's NO_CLAIM)
    claimed: bool = True
