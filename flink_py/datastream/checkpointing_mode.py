"""``CheckpointingMode`` at PyFlink's path ``pyflink.datastream.checkpointing_mode``; it
lives in :mod:`flink_py.common.checkpointing_mode`, which the runtime imports."""

from flink_py.common.checkpointing_mode import CheckpointingMode

__all__ = ["CheckpointingMode"]
