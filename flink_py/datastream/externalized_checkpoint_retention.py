"""``ExternalizedCheckpointRetention`` (PyFlink 2.x's
``pyflink.datastream.externalized_checkpoint_retention``): what happens to the retained
checkpoints of a job when it is cancelled
(``execution.checkpointing.externalized-checkpoint-retention``)."""

from __future__ import annotations

import enum

__all__ = ["ExternalizedCheckpointRetention"]


class ExternalizedCheckpointRetention(enum.Enum):
    """Cleanup behaviour for externalized checkpoints when the job is cancelled.

    :data:`DELETE_ON_CANCELLATION`: checkpoint state is deleted when the job is cancelled, so
    it cannot be resumed from them; it is kept when the job fails.

    :data:`RETAIN_ON_CANCELLATION`: checkpoint state is kept when the job is cancelled; delete
    it by hand when no longer needed.

    :data:`NO_EXTERNALIZED_CHECKPOINTS`: externalized checkpoints are disabled.
    """

    DELETE_ON_CANCELLATION = 0

    RETAIN_ON_CANCELLATION = 1

    NO_EXTERNALIZED_CHECKPOINTS = 2
