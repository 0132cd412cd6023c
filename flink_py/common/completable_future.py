"""PyFlink's ``CompletableFuture`` (``pyflink.common.completable_future``): what a
:class:`~flink_py.common.JobClient` returns.

It is a :class:`concurrent.futures.Future` (``result``, ``exception``, ``done``, ``cancel``,
``cancelled``, and ``add_done_callback`` besides), so it also works with
``concurrent.futures.wait`` and ``asyncio.wrap_future``.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

__all__ = ["CompletableFuture"]


class CompletableFuture(Future):  # type: ignore[type-arg]
    """The result of an asynchronous job operation (status, cancellation, savepoint,
    execution result)."""

    @classmethod
    def completed(cls, value: Any) -> "CompletableFuture":
        """A future that already holds ``value``."""
        future = cls()
        future.set_result(value)
        return future
