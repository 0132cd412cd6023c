"""Predicates for async I/O retry strategies, as in ``pyflink.datastream.async_retry_predicates``.

Example::

    >>> empty_result_predicate([]), has_exception_predicate(None)
    (True, False)
    >>> exception_type_predicate(ConnectionError("refused"), OSError)
    True
"""

from __future__ import annotations

from typing import Any, Optional


def empty_result_predicate(result: Optional[list]) -> bool:
    """True for no results (None or an empty list): retry the call."""
    return result is None or len(result) == 0


def has_exception_predicate(error: Optional[BaseException]) -> bool:
    """True for any exception: retry the call."""
    return error is not None


def exception_type_predicate(error: Optional[BaseException], expected_error_type: Any) -> bool:
    """True when ``error`` is an ``expected_error_type`` (bind it with ``functools.partial``)."""
    return isinstance(error, expected_error_type)
