"""What kind of snapshot a barrier asks for (Flink's CheckpointType and CheckpointOptions)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional

from flink_py.common.checkpointing_mode import CheckpointingMode

__all__ = ["CheckpointType", "CheckpointingMode", "CheckpointOptions"]


class CheckpointType(enum.Enum):
    """A periodic checkpoint, or a savepoint a user asked for (canonical format)."""

    CHECKPOINT = "CHECKPOINT"
    SAVEPOINT = "SAVEPOINT"

    @property
    def is_savepoint(self) -> bool:
        return self is CheckpointType.SAVEPOINT


@dataclass(frozen=True)
class CheckpointOptions:
    """Travels with every barrier of one checkpoint.

    ``unaligned``: the barrier overtakes buffered data, which becomes part of the snapshot
    (only for checkpoints in EXACTLY_ONCE mode, never for savepoints).
    ``target_location``: where a savepoint goes (its directory), None for checkpoints.
    """

    checkpoint_type: CheckpointType = CheckpointType.CHECKPOINT
    mode: CheckpointingMode = CheckpointingMode.EXACTLY_ONCE
    unaligned: bool = False
    target_location: Optional[str] = None

    @property
    def is_exactly_once(self) -> bool:
        return self.mode is CheckpointingMode.EXACTLY_ONCE

    @staticmethod
    def for_checkpoint(mode: CheckpointingMode = CheckpointingMode.EXACTLY_ONCE,
                       unaligned: bool = False) -> "CheckpointOptions":
        return CheckpointOptions(CheckpointType.CHECKPOINT, mode,
                                 unaligned and mode is CheckpointingMode.EXACTLY_ONCE)

    @staticmethod
    def for_savepoint(target_location: Optional[str]) -> "CheckpointOptions":
        return CheckpointOptions(CheckpointType.SAVEPOINT, CheckpointingMode.EXACTLY_ONCE,
                                 False, target_location)
