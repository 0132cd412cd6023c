"""Sources for tests of failures and restarts (usable in users' tests too)."""

from __future__ import annotations

import os
import threading
from typing import Any

from flink_py.api.functions import SourceFunction


class WaitForFileSource(SourceFunction):
    """Emits ``0 .. n-1``, then runs until cancelled or until the file ``release`` exists:
    a job that stays RUNNING (for checkpoints, savepoints, restarts) until the test lets go."""

    def __init__(self, n: int, release: str) -> None:
        self.n = n
        self.release = release

    def open(self, runtime_context: Any) -> None:
        self._stop = threading.Event()

    def run(self, ctx: Any) -> None:
        for i in range(self.n):
            ctx.collect(i)
        while not self._stop.is_set() and not os.path.exists(self.release):
            self._stop.wait(0.01)  # polls the file; cancel() wakes it at once

    def cancel(self) -> None:
        self._stop.set()
