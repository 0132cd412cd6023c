"""AsyncDataStream: applies an AsyncFunction to a stream, as ``pyflink.datastream.AsyncDataStream``.

The operator ("async wait operator", ``flink_py.runtime.operators.async_wait``) awaits up to
``capacity`` calls at a time on an asyncio event loop of its subtask; ``ordered_wait`` emits
results in input order, ``unordered_wait`` as calls complete (never across a watermark).

Example::

    class Lookup(AsyncFunction):
        async def async_invoke(self, value):
            await asyncio.sleep(0.1)          # stands for a request
            return [value * 2]

    AsyncDataStream.ordered_wait(stream, Lookup(), Time.seconds(10), capacity=50,
                                 output_type=Types.INT()).print()
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Optional

from flink_py.api.functions import AsyncFunction, AsyncFunctionDescriptor, AsyncRetryStrategy
from flink_py.common.typeinfo import TypeInformation, Types
from flink_py.datastream import async_retry_strategies
from flink_py.datastream.data_stream import DataStream, _check_type_info
from flink_py.errors import InvalidProgramError

__all__ = ["AsyncDataStream"]

#: the operator's name, PyFlink's
OPERATOR_NAME = "async wait operator"


class AsyncDataStream:
    """A helper class to apply an :class:`AsyncFunction` to a data stream."""

    @staticmethod
    def unordered_wait(data_stream: DataStream, async_function: AsyncFunction, timeout: Any,
                       capacity: int = 100, output_type: TypeInformation = None) -> DataStream:
        """Adds an async function to the stream; results leave as their calls complete.

        :param data_stream: the input stream.
        :param async_function: the AsyncFunction (``async def async_invoke``).
        :param timeout: the timeout of a call (a ``Time``); 0: none.
        :param capacity: the most calls in flight at a time.
        :param output_type: the type of the results.
        :return: the stream of results.
        """
        return AsyncDataStream.unordered_wait_with_retry(
            data_stream, async_function, timeout, async_retry_strategies.NO_RETRY_STRATEGY,
            capacity, output_type)

    @staticmethod
    def unordered_wait_with_retry(data_stream: DataStream, async_function: AsyncFunction,
                                  timeout: Any, async_retry_strategy: AsyncRetryStrategy,
                                  capacity: int = 100, output_type: TypeInformation = None
                                  ) -> DataStream:
        """As :meth:`unordered_wait`, retrying calls by ``async_retry_strategy`` (the timeout,
        which must be set, covers a call with all its retries)."""
        return AsyncDataStream._apply(
            data_stream, async_function, timeout, async_retry_strategy, capacity, output_type,
            AsyncFunctionDescriptor.OutputMode.UNORDERED)

    @staticmethod
    def ordered_wait(data_stream: DataStream, async_function: AsyncFunction, timeout: Any,
                     capacity: int = 100, output_type: TypeInformation = None) -> DataStream:
        """Adds an async function to the stream; results leave in input order.

        :param data_stream: the input stream.
        :param async_function: the AsyncFunction (``async def async_invoke``).
        :param timeout: the timeout of a call (a ``Time``); 0: none.
        :param capacity: the most calls in flight at a time (results waiting for an earlier
            one count).
        :param output_type: the type of the results.
        :return: the stream of results.
        """
        return AsyncDataStream.ordered_wait_with_retry(
            data_stream, async_function, timeout, async_retry_strategies.NO_RETRY_STRATEGY,
            capacity, output_type)

    @staticmethod
    def ordered_wait_with_retry(data_stream: DataStream, async_function: AsyncFunction,
                                timeout: Any, async_retry_strategy: AsyncRetryStrategy,
                                capacity: int = 100, output_type: TypeInformation = None
                                ) -> DataStream:
        """As :meth:`ordered_wait`, retrying calls by ``async_retry_strategy`` (the timeout,
        which must be set, covers a call with all its retries)."""
        return AsyncDataStream._apply(
            data_stream, async_function, timeout, async_retry_strategy, capacity, output_type,
            AsyncFunctionDescriptor.OutputMode.ORDERED)

    @staticmethod
    def _apply(data_stream: DataStream, async_function: AsyncFunction, timeout: Any,
               async_retry_strategy: AsyncRetryStrategy, capacity: int,
               output_type: Optional[TypeInformation],
               mode: "AsyncFunctionDescriptor.OutputMode") -> DataStream:
        timeout_ms = AsyncDataStream._validate(data_stream, async_function, timeout,
                                               async_retry_strategy, capacity)
        api = ("ordered" if mode is AsyncFunctionDescriptor.OutputMode.ORDERED
               else "unordered") + "_wait"
        output_type = _check_type_info(output_type, api) or Types.PICKLED_BYTE_ARRAY()
        from flink_py.runtime.operators.async_wait import AsyncWaitOperator
        factory = functools.partial(
            AsyncWaitOperator, OPERATOR_NAME, async_function, timeout_ms, capacity,
            async_retry_strategy, mode is AsyncFunctionDescriptor.OutputMode.ORDERED)
        return data_stream._one_input(OPERATOR_NAME, factory, output_type)

    @staticmethod
    def _validate(data_stream: DataStream, async_function: Any, timeout: Any,
                  async_retry_strategy: Any, capacity: Any) -> int:
        """Checks the arguments as PyFlink does; returns the timeout in ms."""
        if not isinstance(data_stream, DataStream):
            raise InvalidProgramError(
                f"AsyncDataStream expects a DataStream, got {type(data_stream).__name__} "
                f"{data_stream!r}")
        if not inspect.iscoroutinefunction(getattr(async_function, "async_invoke", None)):
            raise InvalidProgramError(
                f"Method 'async_invoke' of class '{type(async_function)}' should be declared "
                f"as 'async def'.")
        to_milliseconds = getattr(timeout, "to_milliseconds", None)
        if to_milliseconds is None:
            raise InvalidProgramError(
                f"the timeout must be a Time (e.g. Time.seconds(10)), got "
                f"{type(timeout).__name__} {timeout!r}")
        timeout_ms = int(to_milliseconds())
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity <= 0:
            raise InvalidProgramError(
                f"capacity (the most async calls in flight) must be a positive int, got "
                f"{capacity!r}")
        if async_retry_strategy is None:
            raise InvalidProgramError("Async retry strategy should not be None.")
        if async_retry_strategy is not async_retry_strategies.NO_RETRY_STRATEGY \
                and timeout_ms <= 0:
            raise InvalidProgramError(
                f"Timeout should be configured when do async with retry (got {timeout!r}).")
        if async_retry_strategy.get_retry_predicate() is None:
            raise InvalidProgramError(
                f"Retry predicate of the async retry strategy "
                f"'{type(async_retry_strategy)}' is None.")
        return timeout_ms
