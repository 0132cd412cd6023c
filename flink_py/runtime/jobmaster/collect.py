"""The coordinator side of ``execute_and_collect``: bounded buffers between sink and client."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Deque, List, Optional, Tuple

from flink_py.runtime.execution.errors import CancelTaskException


class CollectBuffer:
    """Batches from one collect sink, waiting for the client; bounded, so the sink blocks."""

    def __init__(self, capacity: int = 16) -> None:
        self.capacity = capacity
        self._batches: Deque[list] = deque()
        self._cond = threading.Condition()
        self._ended = False
        self._closed = False

    def put(self, batch: list) -> None:
        with self._cond:
            while len(self._batches) >= self.capacity and not self._closed:
                self._cond.wait()
            if self._closed:
                raise CancelTaskException("the job's result is no longer collected")
            # a restarted attempt sends again after an earlier attempt's end
            self._ended = False
            self._batches.append(batch)
            self._cond.notify_all()

    def end(self) -> None:
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def close(self) -> None:
        """The job is over: wake everyone; no more batches are accepted."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def take(self, timeout_s: float) -> Tuple[Optional[list], bool]:
        """``(batch, False)``; ``(None, True)`` once the sink ended and the job is over;
        ``(None, False)`` on timeout, or when the job ended without the sink ending (the
        caller checks the job).

        A sink's end is final only with the job: until then a failover may restart the sink,
        whose new attempt sends again, so the end alone does not stop the client."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not self._batches and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)  # an end() wakes it too: wait on for the close
            if self._batches:
                batch = self._batches.popleft()
                self._cond.notify_all()
                return batch, False
            return None, self._ended and self._closed


class CollectCoordinator:
    """All collect buffers of one job, by collect id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buffers: dict = {}

    def buffer(self, collect_id: str) -> CollectBuffer:
        with self._lock:
            buf = self._buffers.get(collect_id)
            if buf is None:
                buf = self._buffers[collect_id] = CollectBuffer()
            return buf

    def close_all(self) -> None:
        with self._lock:
            buffers: List[CollectBuffer] = list(self._buffers.values())
        for buf in buffers:
            buf.close()
