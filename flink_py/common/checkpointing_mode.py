"""CheckpointingMode: what a checkpoint guarantees (PyFlink's
``pyflink.datastream.CheckpointingMode``)."""

from __future__ import annotations

import enum


class CheckpointingMode(enum.Enum):
    """EXACTLY_ONCE: barriers are aligned (each record's effect on state counts once);
    AT_LEAST_ONCE: they are not (after a failure a record's effect may count twice)."""

    EXACTLY_ONCE = 0
    AT_LEAST_ONCE = 1
