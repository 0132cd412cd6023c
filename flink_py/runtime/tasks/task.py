"""Task: the name the TaskExecutor and older code use for a StreamTask (see stream_task.py)."""

from __future__ import annotations

from flink_py.runtime.tasks.stream_task import (
    REMOTE_CONNECT_TIMEOUT_S, StreamTask, TaskCancellationTimeoutError)

Task = StreamTask

__all__ = ["REMOTE_CONNECT_TIMEOUT_S", "StreamTask", "Task", "TaskCancellationTimeoutError"]
