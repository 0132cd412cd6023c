"""What kind of snapshot a barrier asks for (Flink's CheckpointType and CheckpointOptions)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional

from flink_py.common.checkpointing_mode import CheckpointingMode

__all__ = ["CheckpointType", "CheckpointingMode", "CheckpointOptions", "PostCheckpointAction"]


class CheckpointType(enum.Enum):
    """A periodic checkpoint, or a savepoint a user asked for (canonical format)."""

    CHECKPOINT = "CHECKPOINT"
    SAVEPOINT = "SAVEPOINT"

    @property
    def is_savepoint(self) -> bool:
        return self is CheckpointType.SAVEPOINT


class PostCheckpointAction(enum.Enum):
    """What a savepoint's tasks do once it completed (Flink's SavepointType's action).

    NONE: run on (a plain savepoint). SUSPEND: ``flink stop``: finish without ending any
    operator's input. TERMINATE: ``flink stop --drain``: the sources emit MAX_WATERMARK and
    every operator's input ends and it finishes before the snapshot.
    """

    NONE = "NONE"
    SUSPEND = "SUSPEND"
    TERMINATE = "TERMINATE"


@dataclass(frozen=True)
class CheckpointOptions:
    """Travels with every barrier of one checkpoint.

    ``unaligned``: the barrier overtakes buffered data, which becomes part of the snapshot
    (only for checkpoints in EXACTLY_ONCE mode, never for savepoints).
    ``target_location``: where a savepoint goes (its directory), None for checkpoints.
    ``post_checkpoint_action``: not NONE for the synchronous savepoint of a stop-with-savepoint
    (the tasks stop taking input and finish once it completed).
    """

    checkpoint_type: CheckpointType = CheckpointType.CHECKPOINT
    mode: CheckpointingMode = CheckpointingMode.EXACTLY_ONCE
    unaligned: bool = False
    target_location: Optional[str] = None
    post_checkpoint_action: PostCheckpointAction = PostCheckpointAction.NONE

    @property
    def is_synchronous(self) -> bool:
        """A stop-with-savepoint's savepoint: the tasks wait for its completion, then end."""
        return self.post_checkpoint_action is not PostCheckpointAction.NONE

    @property
    def should_drain(self) -> bool:
        """``--drain``: event time advances to its end and every operator finishes first."""
        return self.post_checkpoint_action is PostCheckpointAction.TERMINATE

    @property
    def is_exactly_once(self) -> bool:
        return self.mode is CheckpointingMode.EXACTLY_ONCE

    @staticmethod
    def for_checkpoint(mode: CheckpointingMode = CheckpointingMode.EXACTLY_ONCE,
                       unaligned: bool = False) -> "CheckpointOptions":
        return CheckpointOptions(CheckpointType.CHECKPOINT, mode,
                                 unaligned and mode is CheckpointingMode.EXACTLY_ONCE)

    @staticmethod
    def for_savepoint(target_location: Optional[str],
                      post_checkpoint_action: PostCheckpointAction = PostCheckpointAction.NONE
                      ) -> "CheckpointOptions":
        return CheckpointOptions(CheckpointType.SAVEPOINT, CheckpointingMode.EXACTLY_ONCE,
                                 False, target_location, post_checkpoint_action)
