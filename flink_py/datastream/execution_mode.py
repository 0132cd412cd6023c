"""``RuntimeExecutionMode``, as in ``pyflink.datastream.execution_mode``."""

from __future__ import annotations

from enum import Enum


class RuntimeExecutionMode(Enum):
    """How a DataStream program executes.

    STREAMING: continuous, incremental results (every update is emitted).
    BATCH: bounded inputs only; operators emit final results (one row per key for a rolling
    aggregation). AUTOMATIC: BATCH if every source is bounded, else STREAMING.
    """

    STREAMING = 0
    BATCH = 1
    AUTOMATIC = 2
