"""``NumberSequenceSource`` (PyFlink's ``pyflink.datastream.connectors.number_seq``)."""

from __future__ import annotations

import functools
from typing import Any

from flink_py.errors import InvalidProgramError
from flink_py.runtime.operators.sources import NumberSequenceSource as _SequenceOperator


class NumberSequenceSource:
    """A bounded, parallel source of the numbers ``start`` .. ``end`` (both inclusive), as
    LONG values; each subtask emits a contiguous part, and a restore at another parallelism
    deals the parts not yet emitted out again (Flink's NumberSequenceSource splits).

    Example::

        >>> env = StreamExecutionEnvironment.get_execution_environment()  # doctest: +SKIP
        >>> env.from_source(NumberSequenceSource(1, 10),
        ...                 WatermarkStrategy.no_watermarks(), "sequence")  # doctest: +SKIP

    :param start: the first number.
    :param end: the last number (not less than ``start``).
    """

    def __init__(self, start: int, end: int) -> None:
        for name, value in (("start", start), ("end", end)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidProgramError(
                    f"NumberSequenceSource: {name} must be an int, got {value!r}")
        if end < start:
            raise InvalidProgramError(
                f"NumberSequenceSource: start {start} must not be greater than end {end}")
        self.start = start
        self.end = end

    @property
    def bounded(self) -> bool:
        return True

    def _create_source_operator(self, name: str) -> Any:
        return functools.partial(_SequenceOperator, name, self.start, self.end)

    def _output_type(self) -> Any:
        from flink_py.common.typeinfo import Types
        return Types.LONG()
