"""The coordinator side of ``execute_and_collect``: bounded buffers between sink and client.

A collect sink sends its results with their offsets (``CollectResults``: the number of
results before them in the job's output). Without checkpointing they are the client's at
once. With checkpointing, as Flink's ``CheckpointedCollectResultBuffer``, the client sees only
results a completed checkpoint covers (``CollectCommit``, sent by the sink when it is told a
checkpoint completed), and, once the job FINISHED, the rest: a restarted sink attempt
(``CollectReset``, the offset of the checkpoint it restored) replaces the results after that
offset, so that across a failover every result reaches the client exactly once.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Deque, List, Optional, Tuple, Union

from flink_py.runtime.execution.errors import CancelTaskException


@dataclass(frozen=True)
class CollectResults:
    """Results of sink attempt ``attempt``, the first of them at ``offset``."""

    attempt: int
    offset: int
    values: list


@dataclass(frozen=True)
class CollectCommit:
    """A completed checkpoint covers every result before ``offset``."""

    attempt: int
    offset: int


@dataclass(frozen=True)
class CollectReset:
    """Sink attempt ``attempt`` starts at ``offset`` (the results of the checkpoint it
    restored, or 0): results after it from earlier attempts are void."""

    attempt: int
    offset: int


class CollectBuffer:
    """Batches from one collect sink, waiting for the client; bounded, so the sink blocks.

    :param capacity: batches the client may leave untaken before the sink waits.
    :param checkpointed: whether the job checkpoints (results wait for their checkpoint).
    """

    def __init__(self, capacity: int = 16, checkpointed: bool = False) -> None:
        self.capacity = capacity
        self.checkpointed = checkpointed
        self._batches: Deque[list] = deque()
        self._cond = threading.Condition()
        self._ended = False
        self._closed = False
        #: checkpointed: the sink attempt whose results count, the results not yet covered
        #: by a checkpoint as (offset, values), and how many results the client was given
        self._attempt = -1
        self._uncommitted: Deque[Tuple[int, list]] = deque()
        self._visible = 0

    def put(self, message: Union[CollectResults, CollectCommit, CollectReset]) -> None:
        """One of a collect sink's messages (above)."""
        with self._cond:
            if isinstance(message, CollectReset):
                self._reset(message)
                return
            if isinstance(message, CollectCommit):
                if message.attempt == self._attempt:
                    self._commit(message.offset)
                return
            while len(self._batches) >= self.capacity and not self._closed:
                self._cond.wait()
            if self._closed:
                raise CancelTaskException("the job's result is no longer collected")
            # a restarted attempt sends again after an earlier attempt's end
            self._ended = False
            if message.attempt < self._attempt:
                return  # late, from an attempt a restart replaced
            if self.checkpointed:
                self._uncommitted.append((message.offset, message.values))
            else:
                self._show(message.values)

    def _reset(self, reset: CollectReset) -> None:
        if reset.attempt <= self._attempt:
            return
        # the restored checkpoint completed, whether or not its commit came
        self._commit(reset.offset)
        self._uncommitted.clear()
        self._attempt = reset.attempt
        self._ended = False

    def _commit(self, offset: int) -> None:
        while self._uncommitted and self._uncommitted[0][0] < offset:
            start, values = self._uncommitted.popleft()
            covered = offset - start
            if covered < len(values):
                self._uncommitted.appendleft((offset, values[covered:]))
                values = values[:covered]
            self._show_from(start, values)

    def _show_from(self, start: int, values: list) -> None:
        """Shows ``values`` (offsets ``start``...) but for those the client was given."""
        skip = self._visible - start
        if skip > 0:
            values = values[skip:]
        if values:
            self._visible = max(self._visible, start) + len(values)
            self._batches.append(values)
            self._cond.notify_all()

    def _show(self, values: list) -> None:
        if values:
            self._visible += len(values)
            self._batches.append(values)
            self._cond.notify_all()

    def end(self) -> None:
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def close(self, finished: bool = False) -> None:
        """The job is over: wake everyone; no more batches are accepted. ``finished``: it
        FINISHED, so the results no checkpoint covers are the client's too."""
        with self._cond:
            if finished:
                while self._uncommitted:
                    start, values = self._uncommitted.popleft()
                    self._show_from(start, values)
            self._uncommitted.clear()
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
    """All collect buffers of one job, by collect id.

    :param checkpointed: whether the job checkpoints (see the module docstring).
    """

    def __init__(self, checkpointed: bool = False) -> None:
        self.checkpointed = checkpointed
        self._lock = threading.Lock()
        self._buffers: dict = {}

    def buffer(self, collect_id: str) -> CollectBuffer:
        with self._lock:
            buf = self._buffers.get(collect_id)
            if buf is None:
                buf = self._buffers[collect_id] = CollectBuffer(checkpointed=self.checkpointed)
            return buf

    def close_all(self, finished: bool = False) -> None:
        """The job is over (``finished``: it FINISHED)."""
        with self._lock:
            buffers: List[CollectBuffer] = list(self._buffers.values())
        for buf in buffers:
            buf.close(finished)
