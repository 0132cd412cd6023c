"""Kept for older imports: the Java date-time patterns live in
:mod:`flink_py.common.date_time_format` (the file sink's bucket assigner, below the runtime,
uses them)."""

from flink_py.common.date_time_format import *  # noqa: F401,F403
