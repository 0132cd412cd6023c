"""Idle state retention of Table and SQL operators: ``table.exec.state.ttl``.

Flink gives the state of a regular GROUP BY, a regular join, a Top-N or a deduplication a
time-to-live when ``table.exec.state.ttl`` is set (``'1 h'``, ``'10 min'``, ``'3600000'``
ms; ``0``, the default, keeps state forever): an entry untouched for that long (processing
time) is dropped, so a key seen again starts anew. Window and over aggregations clean their
state with their timers and take no TTL. The value is read where the query is translated
(``ttl_in_scope``) and baked into the operators' state descriptors (``with_ttl``).
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import Any, Iterator, Optional

from flink_py.table.errors import ValidationException

__all__ = ["current_state_ttl", "ttl_in_scope", "with_ttl"]

_STATE_TTL_MS: ContextVar[int] = ContextVar("STATE_TTL_MS", default=0)


def parse_state_ttl(value: Optional[Any]) -> int:
    """Milliseconds of a ``table.exec.state.ttl`` value (0: no TTL)."""
    if value is None or value == "":
        return 0
    from flink_py.common.configuration import parse_duration
    try:
        millis = parse_duration(str(value)).to_milliseconds()
    except Exception as exc:  # ConfigurationError and ValueError: both name the bad text
        raise ValidationException(f"Invalid value for 'table.exec.state.ttl': {value!r} "
                                  f"({exc}); expected a duration such as '1 h' or "
                                  f"'3600000 ms'") from None
    if millis < 0:
        raise ValidationException(f"'table.exec.state.ttl' must not be negative, got "
                                  f"{value!r}")
    return millis


@contextlib.contextmanager
def ttl_in_scope(value: Optional[Any]) -> Iterator[None]:
    token = _STATE_TTL_MS.set(parse_state_ttl(value))
    try:
        yield
    finally:
        _STATE_TTL_MS.reset(token)


def current_state_ttl() -> int:
    """The TTL (ms) of the query being translated; 0 for none."""
    return _STATE_TTL_MS.get()


def with_ttl(descriptor: Any, ttl_ms: int) -> Any:
    """``descriptor`` with Flink's table state TTL (updated on create and write, expired
    entries never returned) when ``ttl_ms`` > 0."""
    if ttl_ms > 0:
        from flink_py.api.state import StateTtlConfig
        from flink_py.common.time import Time
        descriptor.enable_time_to_live(
            StateTtlConfig.new_builder(Time.milliseconds(ttl_ms))
            .set_update_type(StateTtlConfig.UpdateType.OnCreateAndWrite)
            .set_state_visibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
            .build())
    return descriptor
