"""Moved to ``flink_py.runtime.io.watermark_valve`` (the task's input side); kept importable."""

from flink_py.runtime.io.watermark_valve import MIN_WATERMARK, StatusWatermarkValve

__all__ = ["MIN_WATERMARK", "StatusWatermarkValve"]
