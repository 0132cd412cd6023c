"""Checkpoint streams: how a task writes the bytes of a snapshot (Flink's
CheckpointStreamFactory and CheckpointStateOutputStream).

A task asks its checkpoint storage for a factory per checkpoint; state backends and operators
write through it and get a ``StreamStateHandle`` back. ``jobmanager`` storage keeps the bytes
inline (they travel in the acknowledgement); ``filesystem`` storage writes files under
``<dir>/<job-id>/chk-<n>/`` (EXCLUSIVE), ``shared/`` (SHARED: incremental files that later
checkpoints reuse) or ``taskowned/`` (TASK_OWNED), inline below a size threshold.
"""

from __future__ import annotations

import enum
import io
import itertools
from typing import Protocol

from flink_py.runtime.state.handles import ByteStreamStateHandle, StreamStateHandle


class CheckpointedStateScope(enum.Enum):
    """Whether state belongs to one checkpoint or is shared among several."""

    EXCLUSIVE = "EXCLUSIVE"
    SHARED = "SHARED"


class CheckpointStateOutputStream(Protocol):
    """A stream that becomes a handle when closed."""

    def write(self, data: bytes) -> int:
        ...

    def tell(self) -> int:
        ...

    def close_and_get_handle(self) -> StreamStateHandle:
        ...


class CheckpointStreamFactory(Protocol):
    """Creates the output streams of one checkpoint of one task."""

    def create_checkpoint_state_output_stream(
            self, scope: CheckpointedStateScope) -> CheckpointStateOutputStream:
        ...


class MemoryCheckpointOutputStream:
    """Collects bytes in memory; the handle holds them inline."""

    _names = itertools.count()

    def __init__(self, name_prefix: str = "state") -> None:
        self._buffer = io.BytesIO()
        self._name = f"{name_prefix}-{next(self._names)}"

    def write(self, data: bytes) -> int:
        return self._buffer.write(data)

    def tell(self) -> int:
        return self._buffer.tell()

    def close_and_get_handle(self) -> StreamStateHandle:
        return ByteStreamStateHandle(self._name, self._buffer.getvalue())


class MemoryCheckpointStreamFactory:
    """Inline state (``jobmanager`` checkpoint storage, and tests)."""

    def create_checkpoint_state_output_stream(
            self, scope: CheckpointedStateScope) -> CheckpointStateOutputStream:
        return MemoryCheckpointOutputStream()
