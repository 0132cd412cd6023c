"""Completed checkpoints, the store that retains the last N of them, and the registry of
state files that several checkpoints share (Flink's CompletedCheckpoint,
StandaloneCompletedCheckpointStore and SharedStateRegistry).

When a checkpoint is added beyond ``execution.checkpointing.num-retained``, the oldest is
subsumed: its exclusive files (its ``chk-<n>/`` directory) are deleted, and its references to
shared files (incremental RocksDB SSTs in ``shared/``) are released; a shared file is deleted
only when no retained checkpoint refers to it any more. Savepoints never enter the store.

Everything here runs on the coordinator's main thread except the deletions, which are handed
to ``discard_executor`` (the coordinator's I/O executor; inline by default).
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Deque, Dict, Iterator, List, Optional, Set, Tuple

from flink_py.graph.ids import OperatorID
from flink_py.runtime.checkpoint.metadata import CheckpointMetadata, OperatorState
from flink_py.runtime.checkpoint.storage import CheckpointStorageLocation
from flink_py.runtime.state.handles import (
    FileStateHandle, IncrementalKeyedStateHandle, OperatorSubtaskState, StreamStateHandle)

log = logging.getLogger(__name__)

#: runs a deletion somewhere (the coordinator's I/O executor)
DiscardExecutor = Callable[[Callable[[], None]], None]


def _run_inline(work: Callable[[], None]) -> None:
    work()


def shared_state_key(handle: StreamStateHandle) -> Tuple[str, str]:
    """What identifies a shared file across checkpoints: its path (or an inline name)."""
    if isinstance(handle, FileStateHandle):
        return ("file", handle.path)
    return ("inline", str(getattr(handle, "handle_name", id(handle))))


def shared_handles(subtask_state: OperatorSubtaskState) -> Iterator[StreamStateHandle]:
    """The shared files a subtask's snapshot refers to."""
    for keyed in subtask_state.managed_keyed_state:
        if isinstance(keyed, IncrementalKeyedStateHandle):
            yield from keyed.shared_files.values()


def iter_subtask_states(operator_states: List[OperatorState]
                        ) -> Iterator[OperatorSubtaskState]:
    for operator_state in operator_states:
        yield from operator_state.subtask_states.values()


@dataclass
class CompletedCheckpoint:
    """A checkpoint every task acknowledged (or one loaded for a restore).

    ``external_pointer``: its directory when ``_metadata`` is in a file, else None
    (``jobmanager`` storage). ``location`` is None for checkpoints this job did not write
    (a restore from a retained checkpoint of another job), which it never deletes.
    """

    job_id: str
    checkpoint_id: int
    timestamp: int
    completion_timestamp: int
    operator_states: List[OperatorState]
    is_savepoint: bool = False
    external_pointer: Optional[str] = None
    location: Optional[CheckpointStorageLocation] = None
    state_size: int = field(default=0)

    def __post_init__(self) -> None:
        if not self.state_size:
            self.state_size = sum(s.state_size for s in self.operator_states)

    @property
    def metadata(self) -> CheckpointMetadata:
        return CheckpointMetadata(self.checkpoint_id, self.operator_states, self.is_savepoint,
                                  self.timestamp)

    @property
    def operator_ids(self) -> List[OperatorID]:
        return [s.operator_id for s in self.operator_states]

    def discard_exclusive_state(self) -> None:
        """Deletes the files of this checkpoint alone (never its shared files)."""
        if self.location is None:
            return
        for subtask_state in iter_subtask_states(self.operator_states):
            subtask_state.discard_state()  # incremental handles keep their shared files
        self.location.dispose()


class SharedStateRegistry:
    """Reference counts of shared state files, by :func:`shared_state_key`."""

    def __init__(self) -> None:
        self._references: Dict[Tuple[str, str], Set[int]] = {}
        self._handles: Dict[Tuple[str, str], StreamStateHandle] = {}

    def register_all(self, checkpoint_id: int, operator_states: List[OperatorState]) -> None:
        for subtask_state in iter_subtask_states(operator_states):
            for handle in shared_handles(subtask_state):
                key = shared_state_key(handle)
                self._references.setdefault(key, set()).add(checkpoint_id)
                self._handles.setdefault(key, handle)

    def release(self, checkpoint_id: int) -> List[StreamStateHandle]:
        """Drops ``checkpoint_id``'s references; returns the handles no checkpoint uses any
        more (for the caller to delete)."""
        orphans = []
        for key in list(self._references):
            holders = self._references[key]
            holders.discard(checkpoint_id)
            if not holders:
                del self._references[key]
                orphans.append(self._handles.pop(key))
        return orphans

    def is_registered(self, handle: StreamStateHandle) -> bool:
        return shared_state_key(handle) in self._references

    def reference_count(self, handle: StreamStateHandle) -> int:
        return len(self._references.get(shared_state_key(handle), ()))

    def __len__(self) -> int:
        return len(self._references)


class CompletedCheckpointStore:
    """The last ``max_retained`` completed checkpoints, oldest first."""

    def __init__(self, max_retained: int, shared_state_registry: Optional[SharedStateRegistry]
                 = None, discard_executor: DiscardExecutor = _run_inline) -> None:
        if max_retained < 1:
            raise ValueError(f"execution.checkpointing.num-retained must be at least 1, got "
                             f"{max_retained}")
        self.max_retained = max_retained
        self.shared_state_registry = (SharedStateRegistry() if shared_state_registry is None
                                      else shared_state_registry)
        self._discard_executor = discard_executor
        self._checkpoints: Deque[CompletedCheckpoint] = deque()

    def add_checkpoint(self, checkpoint: CompletedCheckpoint) -> List[CompletedCheckpoint]:
        """Retains ``checkpoint``; subsumes (and deletes) the oldest beyond the limit."""
        if checkpoint.is_savepoint:
            raise ValueError(f"savepoint {checkpoint.checkpoint_id} cannot be retained as a "
                             f"checkpoint")
        self.shared_state_registry.register_all(checkpoint.checkpoint_id,
                                                checkpoint.operator_states)
        self._checkpoints.append(checkpoint)
        subsumed = []
        while len(self._checkpoints) > self.max_retained:
            oldest = self._checkpoints.popleft()
            self._discard(oldest)
            subsumed.append(oldest)
        return subsumed

    def _discard(self, checkpoint: CompletedCheckpoint) -> None:
        orphans = self.shared_state_registry.release(checkpoint.checkpoint_id)
        owned = checkpoint.location is not None

        def discard() -> None:
            checkpoint.discard_exclusive_state()
            if owned:
                for handle in orphans:
                    handle.discard_state()
            log.debug("discarded checkpoint %d of job %s (%d shared files)",
                      checkpoint.checkpoint_id, checkpoint.job_id, len(orphans))

        self._discard_executor(discard)

    def latest_checkpoint(self) -> Optional[CompletedCheckpoint]:
        return self._checkpoints[-1] if self._checkpoints else None

    def all_checkpoints(self) -> List[CompletedCheckpoint]:
        return list(self._checkpoints)

    def __len__(self) -> int:
        return len(self._checkpoints)

    def shutdown(self, discard: bool) -> None:
        """The job ended: delete every retained checkpoint (``discard``) or keep them all."""
        if discard:
            while self._checkpoints:
                self._discard(self._checkpoints.popleft())
        else:
            self._checkpoints.clear()
